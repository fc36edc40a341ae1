/**
 * How a socket's calls wait, as Python's do: a call interrupted by a signal is retried (PEP
 * 475), and in timeout mode (settimeout with seconds) a call that would block waits with
 * poll(2) on the one fd, in this thread, up to the time left.
 */
import { native } from './binding/index.js';
import { EAGAIN, EINPROGRESS, EINTR, ETIMEDOUT, MSG_NOSIGNAL, POLLOUT, SOL_SOCKET, SO_ERROR } from './constants.js';
import { EtltSystemError, check } from './errors.js';
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

/**
 * A call that may block: retried on EINTR (PEP 475); in timeout mode (`timeoutMs` > 0), on
 * EAGAIN after waiting for `events` on `fd` until `deadline` (default: `timeoutMs` from now),
 * with ETIMEDOUT thrown past it. `waitFirst`: wait before calling, and return 0 once ready.
 * Returns the call's result or -errno.
 */
export function blockingCall(
  fd: number,
  timeoutMs: number,
  events: number,
  call: () => number,
  deadline = 0,
  waitFirst = false,
): number {
  if (timeoutMs > 0 && deadline === 0) deadline = performance.now() + timeoutMs;
  let r = waitFirst ? -EAGAIN : call();
  for (;;) {
    if (r === -EINTR) {
      r = call();
      continue;
    }
    if (r !== -EAGAIN || timeoutMs === 0) return r;
    const left = Math.ceil(deadline - performance.now());
    if (left <= 0) return timedOut(timeoutMs);
    const n = waitReady(fd, events, left);
    if (n === 0) return timedOut(timeoutMs);
    if (n < 0 && n !== -EINTR) return n;
    if (waitFirst && n > 0) return 0;
    r = call();
  }
}

function timedOut(timeoutMs: number): never {
  throw new EtltSystemError(-ETIMEDOUT, 'poll', `timed out after ${timeoutMs / 1000} s`);
}

/**
 * What a connect(2) that returned `r` comes to, as Python's: an interrupted connect goes on in
 * the kernel, and calling it again would fail with EALREADY, so a blocking socket instead
 * waits until the socket is writable and reads the outcome from SO_ERROR; in timeout mode, a
 * handshake under way is waited for up to the timeout. `blocking` is asked only for an EINTR
 * outside timeout mode. Returns 0 or -errno.
 */
export function connectOutcome(fd: number, r: number, timeoutMs: number, blocking: () => boolean): number {
  const timed = timeoutMs > 0 && (r === -EINPROGRESS || r === -EINTR);
  if (!timed && (r !== -EINTR || !blocking())) return r;
  if (timed) {
    const w = blockingCall(fd, timeoutMs, POLLOUT, () => -EAGAIN, performance.now() + timeoutMs, true);
    if (w < 0) return w;
  } else {
    while (waitReady(fd, POLLOUT, -1) === -EINTR);
  }
  const out = Buffer.alloc(4);
  check(native.getsockopt(fd, SOL_SOCKET, SO_ERROR, out), 'getsockopt');
  const err = out.readInt32LE(0);
  return err === 0 ? 0 : -err;
}

/**
 * Sends all of `buf` on `fd`, looping as long as it blocks; in timeout mode one deadline bounds
 * the whole call, as Python's sendall (3.5+). A failure throws with `bytesSent` on the error.
 */
export function sendAll(fd: number, timeoutMs: number, buf: Uint8Array, flags: number): void {
  let off = 0;
  const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : 0;
  while (off < buf.byteLength) {
    const n = blockingCall(
      fd,
      timeoutMs,
      POLLOUT,
      () => native.send(fd, buf, off, buf.byteLength - off, flags | MSG_NOSIGNAL),
      deadline,
    );
    if (n < 0) {
      const err = new EtltSystemError(n, 'send');
      Object.defineProperty(err, 'bytesSent', { value: off, enumerable: true });
      throw err;
    }
    off += n;
  }
}
