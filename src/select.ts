/**
 * Python's `select.select()` and `select.poll()`, faithfully: the objects passed in come
 * back, timeouts are seconds for `select` and milliseconds for `poll`, EINTR is retried with
 * the time that remains (PEP 475). Both block the thread, as Python's do. Each is a thin layer
 * on the set the reactor's backend of the same mechanism keeps: `FdSets` (src/fdsets.ts) and
 * `PollFds` (src/pollfds.ts); here the checks, the errors and the retry.
 */
import { EEXIST, EINTR, FD_SETSIZE, POLLIN, POLLOUT, POLLPRI } from './constants.js';
import { EtltNotRegisteredError, EtltSystemError } from './errors.js';
import { FdSets } from './fdsets.js';
import { PollFds } from './pollfds.js';
import { fileDescriptor, integer, rangeError, typeError } from './validate.js';
import type { HasFileno } from './validate.js';

/** What `select()`, `Poll` and the selectors accept: an fd, or an object with `fileno()`. */
export type FileObject = number | HasFileno;

/** A ready fd and its `revents` (a non-negative mask of POLL* bits). */
export type PollEvent = [fd: number, events: number];

/** The largest poll(2) timeout: an int of milliseconds. */
const INT_MAX = 0x7fffffff;

/** How an object is shown in a message: the fd, or the class and its fd. */
export function describeFileObject(fileobj: unknown, fd?: number): string {
  if (typeof fileobj === 'number') return String(fileobj);
  const name = (fileobj as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof fileobj;
  return fd === undefined ? `<${name}>` : `<${name} fd=${fd}>`;
}

/**
 * select()'s timeout, seconds, to whole microseconds rounded up (CPython's ROUND_TIMEOUT);
 * -1 for undefined/null (forever). NaN and a negative value are RangeErrors, as Python's
 * ValueError; so is one too large for the kernel's timeval.
 */
function selectTimeoutUs(timeout: unknown): number {
  if (timeout === undefined || timeout === null) return -1;
  if (typeof timeout !== 'number') throw typeError('timeout', 'a number of seconds, null or undefined', timeout);
  if (Number.isNaN(timeout)) throw rangeError('timeout', 'a number of seconds, not NaN', timeout);
  if (timeout < 0) throw rangeError('timeout', 'non-negative', timeout);
  const us = Math.ceil(timeout * 1e6);
  if (!Number.isSafeInteger(us)) {
    throw rangeError('timeout', `at most ${Math.floor(Number.MAX_SAFE_INTEGER / 1e6)} seconds`, timeout);
  }
  return us;
}

/** The entries of one of select()'s lists: each object and its fd, in order. */
interface Entries {
  objects: unknown[];
  fds: number[];
}

/*
 * An array is read live, index by index, as CPython reads a list: a fileno() that mutates
 * the list it is in changes what is read next (test_select_mutated). Other iterables are
 * taken whole first.
 */
function entriesOf(list: unknown, name: string): Entries {
  if (typeof list !== 'object' || list === null || typeof (list as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw typeError(name, 'an array or another iterable of fds or objects with a fileno() method', list);
  }
  const items = Array.isArray(list) ? list : Array.from(list as Iterable<unknown>);
  const out: Entries = { objects: [], fds: [] };
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    const fd = fileDescriptor(item, `${name}[${i}]`);
    // Python: "filedescriptor out of range in select()": an fd_set holds FD_SETSIZE bits.
    if (fd >= FD_SETSIZE) {
      throw rangeError(
        `${name}[${i}]`,
        `a file descriptor below FD_SETSIZE (${FD_SETSIZE}): filedescriptor out of range in select(); use Poll or a selector other than SelectSelector`,
        fd,
      );
    }
    out.objects.push(item);
    out.fds.push(fd);
  }
  return out;
}

/*
 * The sets of every select() call, emptied after each. Made per call they cost more than the
 * syscall (seven typed arrays of 128 bytes or more, each with a backing store of its own:
 * 8.2 us a call against 4.0 us over eight socketpairs); select() runs no code of its caller
 * once its lists are read, so no call can begin while another uses them.
 */
const scratch = new FdSets();

function add(sets: FdSets, entries: Entries, bit: number): void {
  for (const fd of entries.fds) if (sets.add(fd, bit) === -EEXIST) sets.modify(fd, sets.maskOf(fd) | bit);
}

/** The objects of `entries` whose fd is ready in `sets` for `events`, in order. */
function ready<T>(sets: FdSets, entries: Entries, events: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < entries.fds.length; i++) {
    if ((sets.revents(entries.fds[i]!) & events) !== 0) out.push(entries.objects[i] as T);
  }
  return out;
}

/**
 * Python's `select.select(rlist, wlist, xlist, timeout=None)`: waits until some fds are
 * ready for reading, writing or an exceptional condition, and returns three new arrays of
 * the very objects passed in (fds or objects with `fileno()`) that are ready, in the order
 * given. `timeout` is in seconds (fractions allowed, rounded up to microseconds); omitted or
 * null blocks; 0 polls; negative is a RangeError. An fd at or above FD_SETSIZE (1024) is a
 * RangeError naming it; a negative fd a RangeError; a closed fd throws `EBADF`. EINTR is
 * retried with the time that remains (PEP 475). Blocks the thread while it waits.
 */
export function select<R extends FileObject, W extends FileObject, X extends FileObject>(
  rlist: Iterable<R>,
  wlist: Iterable<W>,
  xlist: Iterable<X>,
  timeout?: number | null,
): [R[], W[], X[]] {
  const r = entriesOf(rlist, 'rlist');
  const w = entriesOf(wlist, 'wlist');
  const x = entriesOf(xlist, 'xlist');
  let us = selectTimeoutUs(timeout);
  const deadline = us >= 0 ? performance.now() + us / 1000 : 0;
  const sets = scratch;
  try {
    // An fd in two lists is one entry of the set with both bits.
    add(sets, r, POLLIN);
    add(sets, w, POLLOUT);
    add(sets, x, POLLPRI);
    for (;;) {
      const n = sets.select(us);
      if (n >= 0) return [ready<R>(sets, r, POLLIN), ready<W>(sets, w, POLLOUT), ready<X>(sets, x, POLLPRI)];
      if (n !== -EINTR) throw new EtltSystemError(n, 'select');
      if (us >= 0) {
        us = Math.max(0, Math.ceil((deadline - performance.now()) * 1000));
        if (us === 0) return [[], [], []];
      }
    }
  } finally {
    sets.clear();
  }
}

/** Poll's `timeout`, milliseconds (fractions rounded up), to a whole count; -1 for forever. */
function pollTimeoutMs(timeout: unknown): number {
  if (timeout === undefined || timeout === null) return -1;
  if (typeof timeout !== 'number') throw typeError('timeout', 'a number of milliseconds, null or undefined', timeout);
  if (Number.isNaN(timeout)) throw rangeError('timeout', 'a number of milliseconds, not NaN', timeout);
  // Python rounds away from zero: -1e-100 is still negative, so it blocks, as -1 does.
  const ms = timeout < 0 ? Math.floor(timeout) : Math.ceil(timeout);
  // Python: OverflowError "timeout is too large" beyond a C int.
  if (ms > INT_MAX || ms < -INT_MAX - 1) throw rangeError('timeout', `>= ${-INT_MAX - 1} and <= ${INT_MAX}`, timeout);
  return ms < 0 ? -1 : ms;
}

/** A poll event mask: an unsigned short, as Python's `register` and `modify` take it. */
function pollMask(value: unknown): number {
  return integer(value, 'eventmask', 0, 0xffff);
}

/**
 * Python's `select.poll()` object: a set of fds and the events to wait for on each, polled
 * with poll(2). Registering an fd again replaces its mask. Unlike `Epoll` it holds no fd,
 * so it has no `close()`. A thin layer on `PollFds` (src/pollfds.ts), the reactor's poll
 * backend's set too: here the checks, the errors and PEP 475's retry of EINTR.
 */
export class Poll {
  readonly #set = new PollFds();
  #out = new Uint32Array(0);

  /** Adds `fd` (or replaces its mask). Default mask: POLLIN | POLLPRI | POLLOUT. */
  register(fd: FileObject, eventmask: number = POLLIN | POLLPRI | POLLOUT): void {
    const n = fileDescriptor(fd);
    const mask = pollMask(eventmask);
    if (this.#set.add(n, mask) === -EEXIST) this.#set.modify(n, mask);
  }

  /** Replaces the mask of a registered `fd`; `ENOENT` if it is not registered, as in Python. */
  modify(fd: FileObject, eventmask: number): void {
    const n = fileDescriptor(fd);
    const mask = pollMask(eventmask);
    const r = this.#set.modify(n, mask);
    if (r < 0) throw new EtltSystemError(r, 'modify');
  }

  /** Removes `fd`; {@link EtltNotRegisteredError} (Python's KeyError) if it is not registered. */
  unregister(fd: FileObject): void {
    const n = fileDescriptor(fd);
    if (this.#set.remove(n) < 0) throw new EtltNotRegisteredError(`${describeFileObject(fd, n)} is not registered`);
  }

  /**
   * Waits up to `timeout` **milliseconds** (as in Python; fractions rounded up; omitted, null
   * or negative: forever) and returns the `[fd, revents]` pairs of the fds with events, in
   * registration order. A closed fd reports POLLNVAL; POLLERR and POLLHUP come unasked.
   * EINTR is retried with the time that remains (PEP 475). Blocks the thread while it waits.
   */
  poll(timeout?: number | null): PollEvent[] {
    let ms = pollTimeoutMs(timeout);
    const deadline = ms >= 0 ? performance.now() + ms : 0;
    for (;;) {
      const n = this.#set.poll(ms);
      if (n >= 0) return this.#events(n);
      if (n !== -EINTR) throw new EtltSystemError(n, 'poll');
      if (ms >= 0) {
        ms = Math.max(0, Math.ceil(deadline - performance.now()));
        if (ms === 0) return [];
      }
    }
  }

  #events(ready: number): PollEvent[] {
    if (ready === 0) return [];
    if (this.#out.length < 2 * ready) this.#out = new Uint32Array(2 * ready);
    const found = this.#set.collect(this.#out, ready, ready, false);
    const out = new Array<PollEvent>(found);
    for (let i = 0; i < found; i++) out[i] = [this.#out[2 * i]!, this.#out[2 * i + 1]!];
    return out;
  }
}
