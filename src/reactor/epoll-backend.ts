/**
 * The epoll backend: each call is one syscall through the addon's allocation-free path, and
 * `watch` is the addon's uv_poll watcher (libuv watches the epoll fd; each wake-up drains
 * one batch in C before calling into JavaScript).
 */
import { sys } from '../sys.js';
import type { WatchHandle } from '../sys.js';
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from '../constants.js';
import { check } from '../errors.js';
import type { BackendName, PollBackend, WakeListener } from './backend.js';

/** An epoll set, created with EPOLL_CLOEXEC. */
export class EpollBackend implements PollBackend {
  readonly name: BackendName = 'epoll';
  readonly fdLimit = Infinity;
  #fd: number;
  #watch: WatchHandle | undefined;

  constructor() {
    this.#fd = check(sys.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1');
  }

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
    return sys.epoll_wait(this.#fd, out, max, timeoutMs);
  }

  watch(out: Uint32Array, max: number, listener: WakeListener): number {
    if (this.#watch) return 0;
    const handle = sys.watch_start(this.#fd, out, max, listener);
    if (typeof handle === 'number') return handle;
    this.#watch = handle;
    return 0;
  }

  unwatch(): void {
    const handle = this.#watch;
    this.#watch = undefined;
    if (handle) sys.watch_stop(handle);
  }

  ref(keepAlive: boolean): void {
    if (this.#watch) sys.watch_ref(this.#watch, keepAlive);
  }

  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    // -1 first, as Epoll.close() does: a stale number must never reach another epoll set.
    this.#fd = -1;
    this.unwatch();
    sys.close(fd);
  }
}
