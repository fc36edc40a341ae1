/**
 * What the reactor needs of a polling mechanism: a few small calls (after Redis's `ae.c` over
 * `ae_epoll.c` and `ae_select.c`), so another backend is one new file, not a new reactor.
 * Every call returns a count or `-errno`, never throws: they are on the hot path.
 */

/** Called by a watched backend with the batch it already collected, or -errno and the failed call. */
export type WakeListener = (count: number, failed?: string) => void;

/**
 * The readiness mechanisms the reactor drives: epoll(7), poll(2) and select(2); epoll first,
 * the default. The one list of their names: the catalog's `BACKENDS` (http/trigger/catalog.ts)
 * is this list and io_uring, and `createBackend`'s table does not compile without a maker for
 * each name. This module imports nothing, so the catalog (and the lab's report, which renders
 * without the addon) can read the list.
 */
export const READINESS_BACKENDS = ['epoll', 'poll', 'select'] as const;

/** The name of a readiness mechanism the reactor drives. */
export type BackendName = (typeof READINESS_BACKENDS)[number];

/**
 * A polling mechanism over a set of fds with interest masks (epoll's bits, which poll(2)
 * shares on Linux). poll and select are level-triggered only: EPOLLET is refused (EINVAL).
 */
export interface PollBackend {
  /** Which mechanism this is. */
  readonly name: BackendName;
  /** The backend's own fd (epoll's); -1 for one that has none (poll, select) and once closed. */
  readonly fd: number;
  /** Whether `close()` ran. */
  readonly closed: boolean;
  /** The lowest fd it cannot watch (select: FD_SETSIZE, 1024); Infinity for none. */
  readonly fdLimit: number;
  /** Adds `fd` with `mask`; 0 or -errno. */
  add(fd: number, mask: number): number;
  /** Changes the mask of `fd`; 0 or -errno. */
  modify(fd: number, mask: number): number;
  /** Removes `fd`; 0 or -errno. */
  remove(fd: number): number;
  /**
   * `fd` was closed: close(2) took it out of an epoll set, but poll and select keep their
   * own lists, where a stale entry would report POLLNVAL forever. Safe for an fd not there.
   */
  forget(fd: number): void;
  /**
   * Waits up to `timeoutMs` (-1: forever, 0: not at all) and fills `out` with up to `max`
   * [fd, events] pairs; returns the count or -errno.
   */
  wait(out: Uint32Array, max: number, timeoutMs: number): number;
  /**
   * Runs on Node's loop: on each wake-up, up to `max` pairs are collected into `out` and
   * `listener` gets their count. A backend that blocks on Node's behalf (poll, select) calls
   * `onIdle` instead for a wait that found none of its fds ready (Node's own I/O, a timer or
   * a signal ended it): the server did not wake. Returns 0 or -errno.
   */
  watch(out: Uint32Array, max: number, listener: WakeListener, onIdle?: () => void): number;
  /** Stops `watch`. Safe to call when not watching. */
  unwatch(): void;
  /** Whether a running watch keeps the process alive. */
  ref(keepAlive: boolean): void;
  /** Stops watching and closes the backend's fd; safe twice. */
  close(): void;
}
