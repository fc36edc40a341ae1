/**
 * The epoll backend: a thin layer on the Python-faithful `Epoll` (src/epoll.ts), which owns
 * the epoll fd, its close, its finalizer and its libuv watcher; here only the calls the
 * reactor makes, each one syscall returning a count or -errno (`pollInto`, `watchInto`:
 * no allocation, no exception), as CPython's selectors.EpollSelector sits on select.epoll.
 */
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from '../constants.js';
import type { Epoll } from '../epoll.js';
import { libraryEpoll } from '../epoll.js';
import { EtltClosedError } from '../errors.js';
import { sys } from '../sys.js';
import type { BackendName, PollBackend, WakeListener } from './backend.js';

/** Not made yet: the set is created on first use, so a server that never listens holds no fd. */
const UNMADE = -2;

/** An epoll set, created with EPOLL_CLOEXEC when first used. */
export class EpollBackend implements PollBackend {
  readonly name: BackendName = 'epoll';
  readonly fdLimit = Infinity;
  #epoll: Epoll | undefined;
  /** The set's fd, read once (the hot path makes no `fileno()` call); UNMADE, or -1 once closed. */
  #fd = UNMADE;

  get fd(): number {
    return this.#fd === UNMADE ? this.#open().fileno() : this.#fd;
  }

  get closed(): boolean {
    return this.#fd === -1;
  }

  add(fd: number, mask: number): number {
    if (this.#fd === UNMADE) this.#open();
    return sys.epoll_ctl(this.#fd, EPOLL_CTL_ADD, fd, mask);
  }

  modify(fd: number, mask: number): number {
    return sys.epoll_ctl(this.#fd, EPOLL_CTL_MOD, fd, mask);
  }

  remove(fd: number): number {
    return sys.epoll_ctl(this.#fd, EPOLL_CTL_DEL, fd, 0);
  }

  forget(): void {
    // close(2) already took the fd out of the set (epoll(7): once every duplicate is closed).
  }

  wait(out: Uint32Array, max: number, timeoutMs: number): number {
    return (this.#epoll ?? this.#open()).pollInto(out, max, timeoutMs);
  }

  watch(out: Uint32Array, max: number, listener: WakeListener): number {
    const epoll = this.#epoll ?? this.#open();
    if (epoll.watching) return 0;
    return epoll.watchInto(out, max, listener);
  }

  unwatch(): void {
    if (this.#fd >= 0) this.#epoll!.unwatch();
  }

  ref(keepAlive: boolean): void {
    if (this.#fd >= 0) this.#epoll!.ref(keepAlive);
  }

  close(): void {
    if (this.#fd === -1) return;
    const epoll = this.#epoll;
    // -1 first, as Epoll.close() does: a stale number must never reach another epoll set.
    this.#fd = -1;
    try {
      epoll?.close();
    } catch {
      // close(2) failed (EBADF: someone closed our fd): the object is closed all the same.
    }
  }

  #open(): Epoll {
    if (this.#fd === -1) throw new EtltClosedError('epoll backend', 'use');
    const epoll = libraryEpoll();
    this.#epoll = epoll;
    this.#fd = epoll.fileno();
    return epoll;
  }
}
