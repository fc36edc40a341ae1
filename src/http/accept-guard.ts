/**
 * What keeps accepting alive when the process runs out of fds or memory: a spare fd, kept
 * open for the moment it is needed, and a short pause with retries.
 */
import { closeSync, openSync } from 'node:fs';
import { sys } from '../sys.js';
import { EAGAIN, SOCK_CLOEXEC } from '../constants.js';
import type { ServerCounters } from '../trace/counters.js';

/** Milliseconds between retries when accepting is paused for lack of memory or fds. */
const ACCEPT_RETRY_MS = 50;

export class AcceptGuard {
  #spareFd = -1;
  #paused = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #onPause: () => void;
  readonly #onResume: () => void;

  /** `onPause` and `onResume` keep the listener from waking us meanwhile (the strategy's business). */
  constructor(onPause: () => void, onResume: () => void) {
    this.#onPause = onPause;
    this.#onResume = onResume;
  }

  /** Accepting is paused until a retry. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Opens the spare fd if it is not open (it may fail while fds are exhausted: tried again later). */
  openSpare(): void {
    if (this.#spareFd >= 0) return;
    try {
      this.#spareFd = openSync('/dev/null', 'r');
    } catch {
      this.#spareFd = -1;
    }
  }

  /**
   * Out of fds: the spare fd is closed so one queued connection can be accepted and closed
   * at once; the client sees a clean close instead of hanging in the listen queue, and the
   * queue drains so no edge is lost (libuv does the same). 1 when one was shed, 0 when the
   * queue was empty, -1 when there was no spare or accept failed.
   */
  shedOne(listenerFd: number, counters: ServerCounters): number {
    if (this.#spareFd < 0) return -1;
    closeSync(this.#spareFd);
    this.#spareFd = -1;
    counters.accept++;
    const fd = sys.accept4(listenerFd, null, SOCK_CLOEXEC);
    if (fd >= 0) {
      sys.close(fd);
      counters.close++;
      counters.shed++;
    }
    this.openSpare();
    if (fd >= 0) return 1;
    return fd === -EAGAIN ? 0 : -1;
  }

  /** Stops accepting for ACCEPT_RETRY_MS, then reopens the spare and resumes. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#onPause();
    this.#retry = setTimeout(() => {
      this.#paused = false;
      this.openSpare();
      this.#onResume();
    }, ACCEPT_RETRY_MS);
  }

  /** Cancels a pending retry and closes the spare fd. */
  close(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    if (this.#spareFd >= 0) {
      closeSync(this.#spareFd);
      this.#spareFd = -1;
    }
  }
}
