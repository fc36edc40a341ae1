/**
 * What the reactor needs of a polling mechanism: six small calls (after Redis's `ae.c` over
 * `ae_epoll.c`), so another backend (poll, select) is one new file, not a new reactor.
 * Every call returns a count or `-errno`, never throws: they are on the hot path.
 */

/** Called by a watched backend with the batch it already collected, or -errno and the failed call. */
export type WakeListener = (count: number, failed?: string) => void;

/** A polling mechanism over a set of fds with interest masks (epoll's bits). */
export interface PollBackend {
  /** The backend's own fd (epoll's), or -1 once closed. */
  readonly fd: number;
  /** Adds `fd` with `mask`; 0 or -errno. */
  add(fd: number, mask: number): number;
  /** Changes the mask of `fd`; 0 or -errno. */
  modify(fd: number, mask: number): number;
  /** Removes `fd`; 0 or -errno. */
  remove(fd: number): number;
  /**
   * Waits up to `timeoutMs` (-1: forever, 0: not at all) and fills `out` with up to `max`
   * [fd, events] pairs; returns the count or -errno.
   */
  wait(out: Uint32Array, max: number, timeoutMs: number): number;
  /**
   * Runs on Node's loop: on each wake-up, up to `max` pairs are collected into `out` and
   * `listener` gets their count. Returns 0 or -errno.
   */
  watch(out: Uint32Array, max: number, listener: WakeListener): number;
  /** Stops `watch`. Safe to call when not watching. */
  unwatch(): void;
  /** Whether a running watch keeps the process alive. */
  ref(keepAlive: boolean): void;
  /** Stops watching and closes the backend's fd; safe twice. */
  close(): void;
}
