/**
 * The epoll backend: a thin layer on the Python-faithful `Epoll` (src/epoll.ts), which owns
 * the epoll fd, its close, its finalizer and its libuv watcher; here only the calls the
 * reactor makes, each one syscall returning a count or -errno (`pollInto`, `watchInto`:
 * no allocation, no exception), as CPython's selectors.EpollSelector sits on select.epoll.
 */
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from '../constants.js';
import { libraryEpoll } from '../epoll.js';
import { sys } from '../sys.js';
import type { BackendName, PollBackend, WakeListener } from './backend.js';

/** An epoll set, created with EPOLL_CLOEXEC. */
export class EpollBackend implements PollBackend {
  readonly name: BackendName = 'epoll';
  readonly fdLimit = Infinity;
  readonly #epoll = libraryEpoll();
  /** The set's fd, read once (the hot path makes no `fileno()` call); -1 once closed. */
  #fd = this.#epoll.fileno();

  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  add(fd: number, mask: number): number {
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
    return this.#epoll.pollInto(out, max, timeoutMs);
  }

  watch(out: Uint32Array, max: number, listener: WakeListener): number {
    if (this.#epoll.watching) return 0;
    return this.#epoll.watchInto(out, max, listener);
  }

  unwatch(): void {
    if (this.#fd >= 0) this.#epoll.unwatch();
  }

  ref(keepAlive: boolean): void {
    if (this.#fd >= 0) this.#epoll.ref(keepAlive);
  }

  close(): void {
    if (this.#fd < 0) return;
    // -1 first, as Epoll.close() does: a stale number must never reach another epoll set.
    this.#fd = -1;
    try {
      this.#epoll.close();
    } catch {
      // close(2) failed (EBADF: someone closed our fd): the object is closed all the same.
    }
  }
}
