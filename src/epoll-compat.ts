/**
 * `etlt/epoll-compat`: the API of the npm package `epoll` (the base of `onoff`), on Node's
 * own loop with no thread. A program written for that package runs with its import changed:
 *
 *     const { Epoll } = require('epoll');           // before
 *     import { Epoll } from 'etlt/epoll-compat';    // after
 *
 * The contract kept (from that package's README and source): `new Epoll(callback)`; the
 * callback gets `(null, fd, events)` once per ready fd, or `(err)` when waiting failed;
 * `add`, `modify` and `remove` return the object, for chains such as
 * `poller.remove(fd).close()`; `close()` deregisters every fd and may be called once; any
 * call after it throws (code ERR_ETLT_CLOSED); `closed` tells; the static constants; level-triggered unless
 * EPOLLET, whose negative form (as on ARM) is accepted; the process stays alive while an fd
 * is registered; an event for an fd removed meanwhile is dropped.
 *
 * What differs, deliberately: each Epoll has its own epoll set (the package shares one
 * process-wide set, a helper thread and one uv_async_send per event); failed syscalls throw
 * Node-style errors (`code`, `errno`, `syscall`) instead of a bare strerror message; wrong
 * arguments throw TypeError/RangeError naming the argument. It works in worker threads.
 */
import { Epoll as PyEpoll } from './epoll.js';
import type { EpollEvent } from './epoll.js';
import { EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLPRI, EPOLLRDHUP } from './constants.js';
import { EtltClosedError } from './errors.js';
import { eventMask, func, integer } from './validate.js';

/** The callback of the `epoll` package: `(null, fd, events)` per ready fd, or `(err)`. */
export type EpollCallback = (err: Error | null, fd?: number, events?: number) => void;

/** The npm `epoll` package's Epoll, on Node's loop (see the module's notes). */
export class Epoll {
  static readonly EPOLLIN: number = EPOLLIN;
  static readonly EPOLLOUT: number = EPOLLOUT;
  static readonly EPOLLRDHUP: number = EPOLLRDHUP;
  static readonly EPOLLPRI: number = EPOLLPRI;
  static readonly EPOLLERR: number = EPOLLERR;
  static readonly EPOLLHUP: number = EPOLLHUP;
  static readonly EPOLLET: number = EPOLLET;
  static readonly EPOLLONESHOT: number = EPOLLONESHOT;

  #callback: EpollCallback | undefined;
  #epoll: PyEpoll | undefined;
  /** The registered fds: an event for an fd removed earlier in the same batch is dropped. */
  readonly #fds = new Set<number>();

  constructor(callback: EpollCallback) {
    this.#callback = func<EpollCallback>(callback, 'callback');
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#callback === undefined;
  }

  /** Registers `fd` for `events` (Epoll.EPOLLPRI | Epoll.EPOLLONESHOT, say). */
  add(fd: number, events: number): this {
    const epoll = this.#live('add');
    const n = integer(fd, 'fd', 0, 0x7fffffff);
    epoll.register(n, eventMask(events, 'events'));
    this.#fds.add(n);
    // Registered fds keep the process alive, as the package's uv_ref on add does.
    if (this.#fds.size === 1) this.#watch(epoll);
    return this;
  }

  /** Changes the events of a registered `fd`. */
  modify(fd: number, events: number): this {
    const epoll = this.#live('modify');
    epoll.modify(integer(fd, 'fd', 0, 0x7fffffff), eventMask(events, 'events'));
    return this;
  }

  /** Deregisters `fd`; with none left, the process may exit. */
  remove(fd: number): this {
    const epoll = this.#live('remove');
    const n = integer(fd, 'fd', 0, 0x7fffffff);
    epoll.unregister(n);
    this.#fds.delete(n);
    // With nothing registered it holds no fd either (the package's set is process-wide and
    // never closed); the next add makes a new one.
    if (this.#fds.size === 0) this.#release();
    return this;
  }

  /** Deregisters every fd and frees the epoll set. A second call throws, as the package's does. */
  close(): this {
    this.#live('close');
    this.#callback = undefined;
    this.#release();
    return this;
  }

  #release(): void {
    this.#fds.clear();
    const epoll = this.#epoll;
    this.#epoll = undefined;
    epoll?.close();
  }

  #live(operation: string): PyEpoll {
    if (this.#callback === undefined) throw new EtltClosedError('Epoll (epoll-compat)', operation);
    this.#epoll ??= new PyEpoll();
    return this.#epoll;
  }

  #watch(epoll: PyEpoll): void {
    epoll.watch(
      (events: EpollEvent[]) => {
        for (const [fd, mask] of events) {
          // Re-read both each time: the callback may remove an fd or close this object.
          const callback = this.#callback;
          if (callback === undefined) return;
          if (this.#fds.has(fd)) callback(null, fd, mask);
        }
      },
      (err) => this.#callback?.(err),
    );
  }
}
