/**
 * `os`: the fd functions of Python's `os` module, faithfully (Python 3.13's signatures, its
 * keyword-only arguments as an options object): pipe(), pipe2(), eventfd() with
 * eventfd_read()/eventfd_write(), the timerfd_* functions, and read, write, close,
 * set_blocking and get_blocking on raw fds. Each fd they make is a plain number that works
 * with Epoll, Poll, select, the selectors and watch().
 *
 * Failed syscalls throw {@link EtltSystemError} (Python's OSError: `code`, `errno`,
 * `syscall`); EINTR is retried (PEP 475). Wrong arguments throw a TypeError or RangeError
 * naming the argument (Python's TypeError, ValueError and OverflowError).
 */
import { native } from './binding/index.js';
import { EFD_CLOEXEC, EINTR, F_GETFL, F_SETFL, O_CLOEXEC, O_NONBLOCK, TFD_CLOEXEC } from './constants.js';
import { EtltSystemError, check } from './errors.js';
import { bytes, flag, integer, options, rangeError, typeError } from './validate.js';

/** The largest value an eventfd counter can hold (2**64 - 2, eventfd(2)). */
const EVENTFD_MAX = 0xfffffffffffffffen;
const NS_PER_S = 1_000_000_000n;

/** Repeats a native call while it fails with EINTR (PEP 475). */
function retry(call: () => number): number {
  for (;;) {
    const r = call();
    if (r !== -EINTR) return r;
  }
}

function fdArg(fd: unknown): number {
  return integer(fd, 'fd', -0x80000000, 0x7fffffff);
}

/** Python's `os.pipe()`: a pipe as `[readFd, writeFd]`, both non-inheritable (O_CLOEXEC). */
export function pipe(): [readFd: number, writeFd: number] {
  return pipe2(O_CLOEXEC);
}

/** Python's `os.pipe2(flags)`: a pipe with O_NONBLOCK, O_CLOEXEC and O_DIRECT as asked. */
export function pipe2(flags: number): [readFd: number, writeFd: number] {
  integer(flags, 'flags', -0x80000000, 0x7fffffff);
  const fds = new Int32Array(2);
  check(native.pipe2(flags, fds), 'pipe2');
  return [fds[0]!, fds[1]!];
}

/**
 * Python's `os.eventfd(initval, flags=EFD_CLOEXEC)`: an event counter starting at
 * `initval` (0 to 2**32 - 1), with EFD_CLOEXEC, EFD_NONBLOCK and EFD_SEMAPHORE as asked.
 * Readable while the counter is above 0, writable while it is below 2**64 - 2.
 */
export function eventfd(initval: number, flags: number = EFD_CLOEXEC): number {
  integer(initval, 'initval', 0, 0xffffffff);
  integer(flags, 'flags', -0x80000000, 0x7fffffff);
  return check(native.eventfd(initval, flags), 'eventfd');
}

/** Options of {@link eventfd_read}: `bigint` returns the counter as a bigint (exact beyond 2**53). */
export interface EventfdReadOptions {
  readonly bigint?: boolean;
}

/**
 * Python's `os.eventfd_read(fd)`: reads the counter and resets it (with EFD_SEMAPHORE:
 * returns 1 and decrements it). Blocks while it is 0, or throws EAGAIN when non-blocking.
 * A number, exact up to 2**53 - 1; `{ bigint: true }` for the full 64-bit range.
 */
export function eventfd_read(fd: number): number;
export function eventfd_read(fd: number, opts: { readonly bigint: true }): bigint;
export function eventfd_read(fd: number, opts?: EventfdReadOptions): number | bigint;
export function eventfd_read(fd: number, opts?: EventfdReadOptions): number | bigint {
  const n = fdArg(fd);
  const big = options<EventfdReadOptions>(opts, 'options', ['bigint']).bigint ?? false;
  if (typeof big !== 'boolean') throw typeError('bigint', 'of type boolean', big, 'option');
  const buf = Buffer.alloc(8);
  check(
    retry(() => native.read(n, buf, 0, 8)),
    'read',
  );
  const value = buf.readBigUInt64LE(0);
  return big ? value : Number(value);
}

/**
 * Python's `os.eventfd_write(fd, value)`: adds `value` (0 to 2**64 - 2) to the counter.
 * Blocks while that would overflow it, or throws EAGAIN when non-blocking.
 */
export function eventfd_write(fd: number, value: number | bigint): void {
  const n = fdArg(fd);
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number') v = BigInt(integer(value, 'value', 0, Number.MAX_SAFE_INTEGER));
  else throw typeError('value', 'of type number or bigint', value);
  if (v < 0n || v > EVENTFD_MAX) throw rangeError('value', `>= 0 and <= ${EVENTFD_MAX}`, value);
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(v, 0);
  check(
    retry(() => native.write(n, buf, 0, 8)),
    'write',
  );
}

/** Keyword-only arguments of {@link timerfd_create}. */
export interface TimerfdCreateOptions {
  /** TFD_NONBLOCK and TFD_CLOEXEC (always applied, as Python does). */
  readonly flags?: number;
}

/**
 * Python's `os.timerfd_create(clockid, /, *, flags=0)`: a timer on CLOCK_REALTIME,
 * CLOCK_MONOTONIC or CLOCK_BOOTTIME (and their _ALARM forms), non-inheritable. Reading it
 * (8 bytes) gives the number of expirations since the last read.
 */
export function timerfd_create(clockid: number, opts?: TimerfdCreateOptions): number {
  integer(clockid, 'clockid', -0x80000000, 0x7fffffff);
  const flags = options<TimerfdCreateOptions>(opts, 'options', ['flags']).flags ?? 0;
  integer(flags, 'flags', -0x80000000, 0x7fffffff, 'option');
  return check(native.timerfd_create(clockid, flags | TFD_CLOEXEC), 'timerfd_create');
}

/** Keyword-only arguments of {@link timerfd_settime}: seconds, fractions allowed. */
export interface TimerfdSettimeOptions {
  /** TFD_TIMER_ABSTIME (then `initial` is a time on the timer's clock) and TFD_TIMER_CANCEL_ON_SET. */
  readonly flags?: number;
  /** The first expiration, in seconds from now (or absolute); 0 disarms the timer. */
  readonly initial?: number;
  /** The period after the first expiration, in seconds; 0: expire once. */
  readonly interval?: number;
}

/** Keyword-only arguments of {@link timerfd_settime_ns}: nanoseconds. */
export interface TimerfdSettimeNsOptions {
  readonly flags?: number;
  readonly initial?: bigint | number;
  readonly interval?: bigint | number;
}

/** Seconds as whole nanoseconds; NaN and infinities are Python's ValueError/OverflowError. */
function secondsToNs(value: unknown, name: string): bigint {
  if (typeof value !== 'number') throw typeError(name, 'a number of seconds', value, 'option');
  // A 64-bit time_t holds about 9.2e18 s; beyond it Python raises OverflowError.
  if (!Number.isFinite(value) || Math.abs(value) > 9.2e18) {
    throw rangeError(name, 'a finite number of seconds within a 64-bit time_t', value, 'option');
  }
  return BigInt(Math.round(value * 1e9));
}

function nsArg(value: unknown, name: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'number') throw rangeError(name, 'an integer number of nanoseconds', value, 'option');
  throw typeError(name, 'of type bigint or number', value, 'option');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/*
 * Nanoseconds to (tv_sec, tv_nsec) with tv_nsec in [0, 1e9): a negative time keeps a negative
 * tv_sec, which the kernel refuses with EINVAL, as CPython's test_timerfd_negative expects.
 */
function split(ns: bigint, name: string, into: BigInt64Array, at: number): void {
  let sec = ns / NS_PER_S;
  let nsec = ns % NS_PER_S;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS_PER_S;
  }
  if (sec < INT64_MIN || sec > INT64_MAX) throw rangeError(name, 'within a 64-bit time_t', ns, 'option');
  into[at] = sec;
  into[at + 1] = nsec;
}

function settime(fd: unknown, flags: unknown, initial: bigint, interval: bigint): BigInt64Array {
  const n = fdArg(fd);
  integer(flags, 'flags', -0x80000000, 0x7fffffff, 'option');
  const spec = new BigInt64Array(4);
  split(initial, 'initial', spec, 0);
  split(interval, 'interval', spec, 2);
  const old = new BigInt64Array(4);
  check(native.timerfd_settime(n, flags as number, spec, old), 'timerfd_settime');
  return old;
}

function gettime(fd: unknown): BigInt64Array {
  const out = new BigInt64Array(4);
  check(native.timerfd_gettime(fdArg(fd), out), 'timerfd_gettime');
  return out;
}

const toSeconds = (s: bigint, ns: bigint): number => Number(s) + Number(ns) / 1e9;
const toNs = (s: bigint, ns: bigint): bigint => s * NS_PER_S + ns;

/**
 * Python's `os.timerfd_settime(fd, /, *, flags=0, initial=0.0, interval=0.0)`: arms (or,
 * with initial 0, disarms) the timer and returns its previous setting as `[next, interval]`
 * in seconds. A negative time throws EINVAL, as the kernel does.
 */
export function timerfd_settime(fd: number, opts?: TimerfdSettimeOptions): [next: number, interval: number] {
  const o = options<TimerfdSettimeOptions>(opts, 'options', ['flags', 'initial', 'interval']);
  const old = settime(
    fd,
    o.flags ?? 0,
    secondsToNs(o.initial ?? 0, 'initial'),
    secondsToNs(o.interval ?? 0, 'interval'),
  );
  return [toSeconds(old[0]!, old[1]!), toSeconds(old[2]!, old[3]!)];
}

/** Python's `os.timerfd_settime_ns(fd, /, *, flags=0, initial=0, interval=0)`: as timerfd_settime, in nanoseconds. */
export function timerfd_settime_ns(fd: number, opts?: TimerfdSettimeNsOptions): [next: bigint, interval: bigint] {
  const o = options<TimerfdSettimeNsOptions>(opts, 'options', ['flags', 'initial', 'interval']);
  const old = settime(fd, o.flags ?? 0, nsArg(o.initial ?? 0n, 'initial'), nsArg(o.interval ?? 0n, 'interval'));
  return [toNs(old[0]!, old[1]!), toNs(old[2]!, old[3]!)];
}

/** Python's `os.timerfd_gettime(fd, /)`: `[next, interval]` in seconds; next is relative even for an absolute timer. */
export function timerfd_gettime(fd: number): [next: number, interval: number] {
  const t = gettime(fd);
  return [toSeconds(t[0]!, t[1]!), toSeconds(t[2]!, t[3]!)];
}

/** Python's `os.timerfd_gettime_ns(fd, /)`: as timerfd_gettime, in nanoseconds. */
export function timerfd_gettime_ns(fd: number): [next: bigint, interval: bigint] {
  const t = gettime(fd);
  return [toNs(t[0]!, t[1]!), toNs(t[2]!, t[3]!)];
}

/** Python's `os.read(fd, n)`: up to `n` bytes; an empty Buffer at end of file. */
export function read(fd: number, n: number): Buffer {
  const f = fdArg(fd);
  integer(n, 'n', 0, 0x7fffffff);
  const buf = Buffer.allocUnsafe(n);
  const got = check(
    retry(() => native.read(f, buf, 0, n)),
    'read',
  );
  return got === n ? buf : Buffer.from(buf.subarray(0, got));
}

/** Python's `os.write(fd, data)`: the bytes written (maybe fewer than given). Strings are written as UTF-8. */
export function write(fd: number, data: Uint8Array | string): number {
  const f = fdArg(fd);
  const buf = bytes(data, 'data');
  return check(
    retry(() => native.write(f, buf, 0, buf.byteLength)),
    'write',
  );
}

/** Python's `os.close(fd)`: closes a raw fd. Never retried: Linux releases the fd even when close reports EINTR. */
export function close(fd: number): void {
  const r = native.close(fdArg(fd));
  if (r < 0 && r !== -EINTR) throw new EtltSystemError(r, 'close');
}

/** Python's `os.set_blocking(fd, blocking)`: clears or sets O_NONBLOCK. */
export function set_blocking(fd: number, blocking: boolean): void {
  const f = fdArg(fd);
  const on = flag(blocking, 'blocking');
  const flags = check(native.fcntl(f, F_GETFL, 0), 'fcntl');
  const next = on ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
  if (next !== flags) check(native.fcntl(f, F_SETFL, next), 'fcntl');
}

/** Python's `os.get_blocking(fd)`: false when O_NONBLOCK is set. */
export function get_blocking(fd: number): boolean {
  return (check(native.fcntl(fdArg(fd), F_GETFL, 0), 'fcntl') & O_NONBLOCK) === 0;
}

export {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EFD_SEMAPHORE,
  TFD_CLOEXEC,
  TFD_NONBLOCK,
  TFD_TIMER_ABSTIME,
  TFD_TIMER_CANCEL_ON_SET,
  CLOCK_REALTIME,
  CLOCK_MONOTONIC,
  CLOCK_BOOTTIME,
  O_CLOEXEC,
  O_NONBLOCK,
  O_DIRECT,
} from './constants.js';
