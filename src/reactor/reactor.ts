/**
 * The reactor: one polling set, fd-indexed handlers, and dispatch, on Node's event loop.
 *
 * It knows fds and interest masks, nothing of sockets or HTTP. All polling goes through a
 * {@link PollBackend} (epoll by default) and is counted.
 */
import { performance } from 'node:perf_hooks';
import { EINTR } from '../constants.js';
import { EtltSystemError } from '../errors.js';
import type { ReactorCounters } from '../trace/counters.js';
import { backendSyscalls, newReactorCounters } from '../trace/counters.js';
import type { BackendName, PollBackend } from './backend.js';
import { EpollBackend } from './epoll-backend.js';
import { ALWAYS_REPORTED } from './readiness.js';

/** Something registered with the reactor: an fd and what to do when it is ready. */
export interface Pollable {
  readonly fd: number;
  /** Called with the ready mask, already limited to the interest set for it (plus ERR and HUP). */
  onEvents(events: number): void;
  /** Called for an entry on the ready list: the strategy left work for a later turn. */
  onReady?(): void;
  /** epoll_ctl calls made for this fd, counted by the reactor when present. */
  ctlCalls?: number;
}

/** Records each wait's return, whatever the backend (for timelines): the [fd, events] pairs and their count. */
export type WaitRecorder = (events: Uint32Array, count: number) => void;

/** Events drained per epoll_wait: bounded, so Node's own I/O and timers get their turn. */
export const DEFAULT_BATCH = 256;
/** Extra polls per wake-up at most (see #drainMore): bounded, so Node's loop gets its turn. */
const MAX_REPOLLS = 8;
/**
 * Below this share of productive extra polls, they mostly cost an epoll_wait for nothing
 * (about 0.3 us) where a hit saves a loop turn (about 2 us): stop all but probes.
 */
const REPOLL_MIN_SCORE = 0.25;

/** Options of {@link Reactor}. */
export interface ReactorOptions {
  /** Events per wait (default DEFAULT_BATCH). */
  batch?: number;
  /** Failures of the loop itself (a wait that fails with other than EINTR); default: throw. */
  onError?: (err: Error) => void;
  /** The polling mechanism; default a new epoll set. */
  backend?: PollBackend;
}

/**
 * Runs a polling set on Node's event loop (`start`) or blocking (`runOnce`).
 *
 * Interest: the reactor remembers the mask it set for each fd and masks what it dispatches
 * with it, keeping ERR and HUP (libuv's `uv__io_poll` does the same), so a handler never
 * sees an event it withdrew its interest in earlier in the same batch.
 *
 * Stale events: a handler may close an fd whose number a later accept in the same batch
 * reuses; events for an fd added during the current batch were reported for its previous
 * owner, so they are skipped (nginx's instance bit and Go's sequence tag solve the same).
 */
export class Reactor {
  readonly counters: ReactorCounters = newReactorCounters();
  /** Records every wait that returned events; undefined costs one branch per wait. */
  recorder: WaitRecorder | undefined;
  readonly #backend: PollBackend;
  /** The syscall the backend waits with, named in a failure's error. */
  readonly #waitSyscall: string;
  #handlers: (Pollable | undefined)[] = [];
  #interest: number[] = [];
  #addedInBatch: number[] = [];
  #batchNo = 1;
  readonly #events: Uint32Array;
  readonly #batch: number;
  #running = false;
  #ready: Pollable[] = [];
  #readyScheduled = false;
  readonly #onError: (err: Error) => void;
  #holdMs = 0;
  #registered = 0;
  /** Recent share of wake-ups whose first extra poll found events (a moving average), and a probe counter. */
  #repollScore = 1;
  #repollProbe = 0;

  constructor(options: ReactorOptions = {}) {
    this.#batch = options.batch ?? DEFAULT_BATCH;
    this.#events = new Uint32Array(this.#batch * 2);
    this.#onError =
      options.onError ??
      ((err) => {
        throw err;
      });
    this.#backend = options.backend ?? new EpollBackend();
    this.#waitSyscall = backendSyscalls(this.#backend.name).wait;
  }

  /** The backend's fd; -1 once closed, so a stale number never reaches another set. */
  get epfd(): number {
    return this.#backend.fd;
  }

  /** The backend's name: 'epoll', 'poll' or 'select'. */
  get backend(): BackendName {
    return this.#backend.name;
  }

  /** The lowest fd the backend cannot watch (select: 1024); Infinity when there is none. */
  get fdLimit(): number {
    return this.#backend.fdLimit;
  }

  /** Number of fds currently registered. */
  get size(): number {
    return this.#registered;
  }

  /** Registers `p.fd` with `mask`; returns 0 or -errno. */
  add(p: Pollable, mask: number): number {
    this.counters.interestAdds++;
    if (p.ctlCalls !== undefined) p.ctlCalls++;
    const r = this.#backend.add(p.fd, mask);
    if (r === 0) {
      this.#handlers[p.fd] = p;
      this.#interest[p.fd] = mask;
      this.#addedInBatch[p.fd] = this.#batchNo;
      this.#registered++;
    }
    return r;
  }

  /** Changes the interest of a registered fd (always one epoll_ctl); returns 0 or -errno. */
  modify(p: Pollable, mask: number): number {
    this.counters.interestMods++;
    if (p.ctlCalls !== undefined) p.ctlCalls++;
    const r = this.#backend.modify(p.fd, mask);
    if (r === 0 && this.#handlers[p.fd] === p) this.#interest[p.fd] = mask;
    return r;
  }

  /**
   * Sets the interest of a registered fd to `mask`, with an epoll_ctl only when it changes:
   * the level-triggered strategy arms EPOLLOUT while a send would block and disarms it
   * after, and most responses never block.
   */
  setInterest(p: Pollable, mask: number): number {
    if (this.#interest[p.fd] === mask && this.#handlers[p.fd] === p) return 0;
    return this.modify(p, mask);
  }

  /** Unregisters an fd that stays open; returns 0 or -errno. */
  remove(p: Pollable): number {
    this.counters.interestDels++;
    if (p.ctlCalls !== undefined) p.ctlCalls++;
    const r = this.#backend.remove(p.fd);
    this.forget(p);
    return r;
  }

  /** Drops the handler of an fd that was closed (close(2) removed it from an epoll set; poll and select are told). */
  forget(p: Pollable): void {
    if (this.#handlers[p.fd] === p) {
      this.#backend.forget(p.fd);
      this.#handlers[p.fd] = undefined;
      this.#interest[p.fd] = 0;
      this.#registered--;
    }
  }

  /** The handler registered for `fd`, if any. */
  handler(fd: number): Pollable | undefined {
    return this.#handlers[fd];
  }

  /** Every registered handler. */
  *handlers(): IterableIterator<Pollable> {
    for (const h of this.#handlers) if (h !== undefined) yield h;
  }

  /**
   * Puts `p` on the ready list: its `onReady` runs on a later turn of Node's loop, after
   * other I/O. This is how edge-triggered work is bounded per turn (man 7 epoll, "starvation").
   */
  later(p: Pollable): void {
    this.#ready.push(p);
    if (!this.#readyScheduled) {
      this.#readyScheduled = true;
      setImmediate(this.#runReady);
    }
  }

  /**
   * Starts dispatching from Node's event loop; keeps the process alive until `stop`.
   *
   * `holdMs` > 0 keeps the loop in this set for up to that long after a wake-up, waiting on
   * it directly while events keep coming: each wait then costs one epoll_wait instead of
   * two (libuv's on its own set, then ours). Node's timers, I/O and the ready list wait at
   * most `holdMs`. 0 (the default) returns to Node after every batch.
   */
  start(options: { holdMs?: number } = {}): void {
    this.#holdMs = options.holdMs ?? 0;
    if (this.#running) return;
    const r = this.#backend.watch(this.#events, this.#batch, this.#onWake, this.#onIdleTurn);
    if (r < 0) throw new EtltSystemError(r, 'uv_poll_start');
    this.#running = true;
  }

  /** Stops dispatching from Node's loop. */
  stop(): void {
    this.#running = false;
    this.#backend.unwatch();
  }

  /** Whether the running reactor keeps the process alive. */
  ref(keepAlive: boolean): void {
    this.#backend.ref(keepAlive);
  }

  /** Blocking mode: one wait with `timeoutMs` and its dispatch; returns the event count. */
  runOnce(timeoutMs: number): number {
    const n = this.#wait(timeoutMs);
    if (n > 0) this.#dispatch(n);
    return n;
  }

  /** Stops and closes the backend (its fd is -1 from then on). Registered fds are not closed. */
  close(): void {
    if (this.#backend.closed) return;
    this.#running = false;
    this.#backend.close();
    this.#handlers = [];
    this.#interest = [];
    this.#ready = [];
  }

  #wait(timeoutMs: number): number {
    this.counters.waits++;
    const n = this.#backend.wait(this.#events, this.#batch, timeoutMs);
    return this.#took(n, this.#waitSyscall);
  }

  #repoll(): number {
    const c = this.counters;
    c.waits++;
    c.repolls++;
    const n = this.#backend.wait(this.#events, this.#batch, 0);
    if (n !== 0) return this.#took(n, this.#waitSyscall);
    c.emptyRepolls++;
    return 0;
  }

  /** Counts (and records) one wait's result, wherever the call was made. */
  #took(n: number, failed: string): number {
    if (n > 0) {
      this.counters.events += n;
      if (this.recorder) this.recorder(this.#events, n);
    } else if (n === 0) {
      this.counters.idleWaits++;
    } else if (n !== -EINTR) {
      this.#onError(new EtltSystemError(n, failed));
    }
    return n;
  }

  #dispatch(n: number): void {
    const events = this.#events;
    const batchNo = ++this.#batchNo;
    for (let i = 0; i < n; i++) {
      const fd = events[2 * i]!;
      const h = this.#handlers[fd];
      if (h === undefined || this.#addedInBatch[fd] === batchNo) continue;
      // Re-read per event: an earlier handler in this batch may have changed this interest.
      const mask = events[2 * i + 1]! & ((this.#interest[fd] ?? 0) | ALWAYS_REPORTED);
      if (mask !== 0) h.onEvents(mask);
    }
  }

  /** A poll or select wait on one of Node's turns that found none of our fds ready. */
  #onIdleTurn = (): void => {
    this.counters.turnWaits++;
  };

  /** Called by the watcher with the batch it already drained (our first epoll_wait). */
  #onWake = (n: number, failed?: string): void => {
    this.counters.wakeups++;
    const wait = this.#waitSyscall;
    if (failed === undefined || failed === wait) this.counters.waits++;
    if (this.#took(n, failed ?? wait) <= 0) return;
    this.#dispatch(n);
    this.#drainMore();
    if (this.#holdMs <= 0) return;
    const end = performance.now() + this.#holdMs;
    while (this.#running && this.#ready.length === 0) {
      const remaining = Math.ceil(end - performance.now());
      if (remaining <= 0) break;
      const more = this.#wait(remaining);
      if (more <= 0) break;
      this.#dispatch(more);
    }
  };

  /**
   * Polls again (timeout 0) before going back to Node's loop, while that finds events: on a
   * busy set, events arrive while a batch is being handled, and taking them now costs one
   * epoll_wait instead of a whole loop turn (libuv's wait, the callback into JavaScript,
   * the microtask checkpoint). While the first extra poll mostly finds nothing (a quiet set),
   * only one wake-up in 16 tries it.
   */
  #drainMore(): void {
    if (this.#repollScore < REPOLL_MIN_SCORE && (++this.#repollProbe & 15) !== 0) return;
    for (let round = 0; round < MAX_REPOLLS && this.#running; round++) {
      const n = this.#repoll();
      if (round === 0) this.#repollScore += ((n > 0 ? 1 : 0) - this.#repollScore) / 8;
      if (n <= 0) return;
      const echoes = this.#echoesOnly(n);
      this.#dispatch(n);
      // Only what the last batch's registrations reported at once (an edge-triggered
      // EPOLLOUT on a fresh socket): taken, so libuv does not wake for them, but no sign
      // that more is coming; one more poll would most likely find nothing.
      if (echoes) return;
    }
  }

  /** Whether every one of the `n` events is for an fd registered during the last batch. */
  #echoesOnly(n: number): boolean {
    const events = this.#events;
    const batchNo = this.#batchNo;
    for (let i = 0; i < n; i++) {
      if (this.#addedInBatch[events[2 * i]!] !== batchNo) return false;
    }
    return true;
  }

  #runReady = (): void => {
    this.counters.readyTurns++;
    this.#readyScheduled = false;
    const ready = this.#ready;
    this.#ready = [];
    for (const p of ready) {
      if (this.#handlers[p.fd] === p) p.onReady?.();
    }
  };
}
