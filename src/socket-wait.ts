/**
 * The waits of a socket in timeout mode (Python's settimeout with seconds): poll(2) on the one
 * fd, in this thread, up to the time left.
 */
import { native } from './binding/index.js';
import { rangeError, typeError } from './validate.js';

/** One struct pollfd (int fd, short events, short revents), reused: waits never overlap in a thread. */
const pollfd = new Int32Array(2);
const pollfdShorts = new Int16Array(pollfd.buffer);

/** poll(2) for `events` on `fd` up to `ms`: the count ready (0 on timeout) or -errno. */
export function waitReady(fd: number, events: number, ms: number): number {
  pollfd[0] = fd;
  pollfdShorts[2] = events;
  pollfdShorts[3] = 0;
  return native.poll(pollfd, 1, ms);
}

/** A timeout as Python's settimeout takes it: null (blocking), 0 (non-blocking) or seconds. */
export function timeoutArg(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number') throw typeError('value', 'a number of seconds or null', value);
  if (Number.isNaN(value) || value < 0) throw rangeError('value', 'a non-negative number of seconds or null', value);
  if (value > 0x7fffffff / 1000) throw rangeError('value', `at most ${0x7fffffff / 1000} seconds`, value);
  return value;
}
