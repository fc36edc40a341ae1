/**
 * `Epoll`: Python's `select.epoll`, faithfully, plus `watch()` to run on Node's event loop.
 */
import { native } from './binding/index.js';
import type { WatchHandle } from './binding/index.js';
import {
  EPOLLIN,
  EPOLLOUT,
  EPOLLPRI,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EINTR,
} from './constants.js';
import { EtltClosedError, EtltSystemError, check } from './errors.js';
import { closeOnCollect, closeQuietlyOnCollect, release } from './finalizer.js';
import { eventMask, fileDescriptor, flag, func, integer, rangeError, typeError } from './validate.js';
import type { HasFileno } from './validate.js';

/** A ready file descriptor and the events that fired on it (a non-negative mask). */
export type EpollEvent = [fd: number, events: number];

/** Receives each batch of ready events of a watched epoll. */
export type EpollListener = (events: EpollEvent[]) => void;

/** Python's default `maxevents` when -1 is given: FD_SETSIZE - 1. */
const DEFAULT_MAXEVENTS = 1023;
/** Events drained per wake-up in `watch()`: bounded, so one busy set cannot starve Node's loop. */
const WATCH_BATCH = 256;
/** Set by `Epoll.fromFd` for the one constructor call that adopts an fd instead of creating one. */
let adoptFd = -1;
/** Watched epolls: libuv delivers their events, so they must not be collected while it does. */
const watched = new Set<Epoll>();

/** Seconds (fractions allowed) to whole milliseconds, rounded up as CPython does; -1 = forever. */
function timeoutToMs(timeout: unknown): number {
  if (timeout === undefined || timeout === null) return -1;
  if (typeof timeout !== 'number') throw typeError('timeout', 'a number of seconds', timeout);
  // NaN is a number of the wrong value (Python: ValueError), so a RangeError like other ranges.
  if (Number.isNaN(timeout)) throw rangeError('timeout', 'a number of seconds, not NaN', timeout);
  if (timeout < 0) return -1;
  const ms = Math.ceil(timeout * 1000);
  if (ms > 0x7fffffff) throw rangeError('timeout', `at most ${0x7fffffff / 1000} seconds`, timeout);
  return ms;
}

/**
 * An epoll instance (epoll(7)), created with EPOLL_CLOEXEC.
 *
 * Registrations are level-triggered unless the mask has EPOLLET. Masks are 32-bit: a
 * negative JavaScript number such as `EPOLLIN | EPOLLET` means the same unsigned mask.
 * Failed syscalls throw {@link EtltSystemError} (`EEXIST`, `ENOENT`, `EBADF`, `EPERM`...);
 * any use after `close()` throws an error with code `ERR_ETLT_CLOSED`.
 */
export class Epoll implements Disposable {
  #fd: number;
  #events: Uint32Array | undefined;
  #watch: WatchHandle | undefined;
  /** ref()'s choice, kept across watch() calls the way a timer's ref() is kept. */
  #keepAlive = true;

  /**
   * @param sizehint ignored by Linux since 2.6.8, kept for Python's signature: -1 or positive.
   * @param flags 0 or EPOLL_CLOEXEC (always applied, as in Python).
   */
  constructor(sizehint = -1, flags = 0) {
    if (adoptFd >= 0) {
      this.#fd = adoptFd;
      adoptFd = -1;
      closeOnCollect(this, this.#fd, 'epoll');
      return;
    }
    integer(sizehint, 'sizehint', -1, 0x7fffffff);
    if (sizehint === 0) throw rangeError('sizehint', '-1 or positive', sizehint);
    integer(flags, 'flags', 0, 0x7fffffff);
    if ((flags & ~EPOLL_CLOEXEC) !== 0) throw rangeError('flags', `0 or EPOLL_CLOEXEC (${EPOLL_CLOEXEC})`, flags);
    this.#fd = check(native.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1');
    closeOnCollect(this, this.#fd, 'epoll');
  }

  /** Wraps an existing epoll fd; the object owns it from now on and closes it on `close()`. */
  static fromFd(fd: number): Epoll {
    adoptFd = fileDescriptor(fd, 'fd');
    native.fd_adopt(adoptFd);
    return new Epoll();
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** The epoll file descriptor. */
  fileno(): number {
    return this.#live('fileno');
  }

  /** Closes the epoll fd (after stopping `watch`). Safe to call more than once. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    // The fd becomes -1 first, so a close that fails or re-enters leaves a closed object.
    this.#fd = -1;
    release(this);
    this.#stopWatch();
    check(native.close(fd), 'close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Registers `fd` with `eventmask` (default EPOLLIN | EPOLLPRI | EPOLLOUT). EEXIST if already there. */
  register(fd: number | HasFileno, eventmask: number = EPOLLIN | EPOLLPRI | EPOLLOUT): void {
    this.#ctl('register', EPOLL_CTL_ADD, fd, eventmask);
  }

  /** Replaces the mask of a registered `fd`. ENOENT if it is not registered. */
  modify(fd: number | HasFileno, eventmask: number): void {
    this.#ctl('modify', EPOLL_CTL_MOD, fd, eventmask);
  }

  /** Removes `fd` from the set. ENOENT if it is not registered. */
  unregister(fd: number | HasFileno): void {
    const epfd = this.#live('unregister');
    const n = fileDescriptor(fd);
    check(native.epoll_ctl(epfd, EPOLL_CTL_DEL, n, 0), 'epoll_ctl');
  }

  /**
   * Waits up to `timeout` seconds (fractions allowed, rounded up to whole milliseconds;
   * negative or omitted: forever) and returns up to `maxevents` ready `[fd, events]` pairs.
   * EINTR is retried with the time that remains (PEP 475). While it blocks, Node runs no
   * JavaScript: a `process.on('SIGINT')` handler cannot run until the loop returns to Node,
   * so a blocking loop should leave SIGINT's default action alone, or use `watch()`.
   */
  poll(timeout?: number | null, maxevents = -1): EpollEvent[] {
    const epfd = this.#live('poll');
    let ms = timeoutToMs(timeout);
    integer(maxevents, 'maxevents', -1, 0x7fffffff);
    if (maxevents === 0 || maxevents < -1) throw rangeError('maxevents', '-1 or positive', maxevents);
    const max = maxevents === -1 ? DEFAULT_MAXEVENTS : maxevents;
    const buf = this.#buffer(max);
    const deadline = ms >= 0 ? performance.now() + ms : 0;
    for (;;) {
      const n = native.epoll_wait(epfd, buf, max, ms);
      if (n >= 0) return toPairs(buf, n);
      if (n !== -EINTR) throw new EtltSystemError(n, 'epoll_wait');
      if (ms >= 0) ms = Math.max(0, Math.ceil(deadline - performance.now()));
    }
  }

  /**
   * Low-level poll for engines: fills `out` with [fd, events] pairs and returns the count,
   * or `-errno` (EINTR included). No allocation, no exception for a failed syscall.
   */
  pollInto(out: Uint32Array, maxevents: number, timeoutMs: number): number {
    return native.epoll_wait(this.#live('pollInto'), out, maxevents, timeoutMs);
  }

  /**
   * Delivers ready events to `listener` from Node's event loop, without blocking it and
   * without a thread: libuv watches the epoll fd, and each wake-up drains up to 256 events
   * with a zero-timeout epoll_wait. Microtasks and `nextTick` run after each batch. Trigger
   * semantics are exactly `poll()`'s. A watched epoll keeps the process alive (see `ref`).
   * An exception thrown by the listener is an uncaught exception; so is a failed wait, unless
   * `onError` takes it. Replaces any earlier listener.
   */
  watch(listener: EpollListener, onError?: (err: EtltSystemError) => void): this {
    this.#live('watch');
    func(listener, 'listener');
    if (onError !== undefined) func(onError, 'onError');
    const buf = this.#buffer(WATCH_BATCH);
    const r = this.watchInto(buf, WATCH_BATCH, (n, failed) => {
      if (n > 0) listener(toPairs(buf, n));
      else if (n < 0 && n !== -EINTR) {
        const err = new EtltSystemError(n, failed ?? 'epoll_wait');
        if (onError === undefined) throw err;
        onError(err);
      }
    });
    if (r < 0) throw new EtltSystemError(r, 'uv_poll_start');
    return this;
  }

  /**
   * Low-level watch for engines, as `pollInto` is to `poll`: `watch()` without the pairs.
   * Each wake-up fills the caller-owned `out` with up to `maxevents` [fd, events] pairs and
   * tells `listener` their count, or -errno and the call that failed. Replaces any earlier
   * watch; keeps `ref()`'s choice. Returns 0 or -errno (uv_poll_start's); no allocation per
   * wake-up, no exception for a failed syscall. The reactor's epoll backend is this.
   */
  watchInto(out: Uint32Array, maxevents: number, listener: (count: number, failed?: string) => void): number {
    const epfd = this.#live('watchInto');
    this.#stopWatch();
    const handle = native.watch_start(epfd, out, maxevents, listener);
    if (typeof handle === 'number') return handle;
    // Each watch makes a new libuv handle, referenced by default: apply an earlier unref().
    if (!this.#keepAlive) native.watch_ref(handle, false);
    this.#watch = handle;
    watched.add(this);
    return 0;
  }

  /** Stops delivering events; an unwatched epoll does not keep the process alive. */
  unwatch(): this {
    this.#live('unwatch');
    this.#stopWatch();
    return this;
  }

  /** True while `watch()` is delivering events. */
  get watching(): boolean {
    return this.#watch !== undefined;
  }

  /**
   * Whether a watched epoll keeps the process alive (default true), like `timer.ref()`;
   * the choice holds for later `watch()` calls too.
   */
  ref(keepAlive: boolean = true): this {
    this.#live('ref');
    this.#keepAlive = flag(keepAlive, 'keepAlive');
    if (this.#watch) native.watch_ref(this.#watch, this.#keepAlive);
    return this;
  }

  /** Shorthand for `ref(false)`. */
  unref(): this {
    this.#live('unref');
    return this.ref(false);
  }

  #ctl(name: string, op: number, fd: number | HasFileno, eventmask: number): void {
    const epfd = this.#live(name);
    const n = fileDescriptor(fd);
    const mask = eventMask(eventmask);
    check(native.epoll_ctl(epfd, op, n, mask), 'epoll_ctl');
  }

  #live(operation: string): number {
    if (this.#fd < 0) throw new EtltClosedError('epoll object', operation);
    return this.#fd;
  }

  #buffer(max: number): Uint32Array {
    if (this.#events === undefined || this.#events.length < max * 2) this.#events = new Uint32Array(max * 2);
    return this.#events;
  }

  #stopWatch(): void {
    const handle = this.#watch;
    this.#watch = undefined;
    watched.delete(this);
    if (handle) native.watch_stop(handle);
  }
}

function toPairs(buf: Uint32Array, n: number): EpollEvent[] {
  const out = new Array<EpollEvent>(n);
  for (let i = 0; i < n; i++) out[i] = [buf[2 * i]!, buf[2 * i + 1]!];
  return out;
}

/**
 * An Epoll the library keeps for itself inside an object the user holds (a server's set):
 * dropped unclosed, it is closed on collection without the warning a user's own gets.
 */
export function libraryEpoll(): Epoll {
  const ep = new Epoll();
  closeQuietlyOnCollect(ep, ep.fileno());
  return ep;
}
