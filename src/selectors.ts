/**
 * Python's `selectors`, faithfully: one interface (register a file object for READ and/or
 * WRITE with any data, select, get back keys) over select(2), poll(2) and epoll(7).
 * `DefaultSelector` is the epoll one, as on Linux in Python.
 */
import { Epoll } from './epoll.js';
import { EPOLLIN, EPOLLOUT, POLLIN, POLLOUT } from './constants.js';
import { EtltAlreadyRegisteredError, EtltClosedError, EtltSystemError } from './errors.js';
import { Poll, describeFileObject, select } from './select.js';
import type { FileObject } from './select.js';
import { LiveMapping, Registry, SelectorKey } from './selector-map.js';
import type { SelectorEvent, SelectorMapping } from './selector-map.js';
import { integer, rangeError, typeError } from './validate.js';

export type { FileObject } from './select.js';
export { SelectorKey } from './selector-map.js';
export type { SelectorEvent, SelectorMapping } from './selector-map.js';

/** Ready for reading (Python's `selectors.EVENT_READ`). */
export const EVENT_READ = 1;
/** Ready for writing (Python's `selectors.EVENT_WRITE`). */
export const EVENT_WRITE = 2;

/** events for register and modify: EVENT_READ, EVENT_WRITE or both, never 0 (Python's ValueError). */
function checkEvents(events: unknown): number {
  integer(events, 'events', -0x80000000, 0x7fffffff);
  const n = events as number;
  if (n === 0 || (n & ~(EVENT_READ | EVENT_WRITE)) !== 0) {
    throw rangeError('events', 'EVENT_READ (1), EVENT_WRITE (2) or both (3)', n);
  }
  return n;
}

/** A selector timeout in seconds: undefined/null blocks, anything <= 0 polls. */
function checkTimeout(timeout: unknown): number | null {
  if (timeout === undefined || timeout === null) return null;
  if (typeof timeout !== 'number') throw typeError('timeout', 'a number of seconds, null or undefined', timeout);
  if (Number.isNaN(timeout)) throw rangeError('timeout', 'a number of seconds, not NaN', timeout);
  return timeout;
}

/** The registrations of a selector, for its subclasses in this module (set in BaseSelector's static block). */
let registryOf: <T, F extends FileObject>(selector: BaseSelector<T, F>) => Registry<T, F>;

/**
 * What every selector shares (Python's `BaseSelector` with `_BaseSelectorImpl`): the fd to
 * key table, the lookup of a file object's fd, `getKey`, `getMap`, `close` and dispose.
 * Subclasses add the polling mechanism.
 */
export abstract class BaseSelector<T = unknown, F extends FileObject = FileObject> implements Disposable {
  readonly #registry = new Registry<T, F>();
  #map: SelectorMapping<T, F> | null = new LiveMapping<T, F>(this.#registry);

  static {
    registryOf = <U, G extends FileObject>(selector: BaseSelector<U, G>): Registry<U, G> => {
      if (selector.#map === null) throw new EtltClosedError('selector', 'select');
      return selector.#registry;
    };
  }

  /**
   * Registers `fileobj` (an fd or an object with `fileno()`) for `events` with `data`, and
   * returns its key. RangeError for events that are 0 or outside READ | WRITE or for a
   * negative fd; {@link EtltAlreadyRegisteredError} if it, or its fd, is already registered.
   */
  register(fileobj: F, events: number, data?: T): SelectorKey<T, F> {
    this.#live('register');
    const ev = checkEvents(events);
    const fd = this.#registry.lookup(fileobj, true);
    if (this.#registry.keys.has(fd)) {
      throw new EtltAlreadyRegisteredError(`${describeFileObject(fileobj, fd)} (FD ${fd}) is already registered`);
    }
    const key = new SelectorKey<T, F>(fileobj, fd, ev, data);
    this.#registry.keys.set(fd, key);
    return key;
  }

  /**
   * Unregisters `fileobj` and returns its key; {@link EtltNotRegisteredError} if it is not
   * registered. A file object closed since it was registered is unregistered all the same
   * (found by identity when its `fileno()` is no longer valid), without a system error.
   */
  unregister(fileobj: FileObject): SelectorKey<T, F> {
    this.#live('unregister');
    return this.#registry.remove(fileobj);
  }

  /**
   * Changes the events or the data of a registered `fileobj`, returning the new key (the
   * same key when neither changed); {@link EtltNotRegisteredError} if it is not registered.
   */
  modify(fileobj: FileObject, events: number, data?: T): SelectorKey<T, F> {
    this.#live('modify');
    const key = this.#registry.keyOf(fileobj);
    const ev = checkEvents(events);
    if (ev !== key.events) {
      this.unregister(fileobj);
      // The key keeps the object first registered, so key.fileobj stays what the caller's type says.
      return this.register(key.fileobj, ev, data);
    }
    if (data === key.data) return key;
    const changed = new SelectorKey<T, F>(key.fileobj, key.fd, key.events, data);
    this.#registry.keys.set(key.fd, changed);
    return changed;
  }

  /**
   * Waits until some registered file objects are ready, or `timeout` seconds pass
   * (fractions allowed; omitted or null: forever; 0 or less: poll), and returns
   * `[key, events]` for each ready one, `events` within its key's. EINTR is retried with the
   * time that remains (PEP 475). Blocks the thread while it waits.
   */
  abstract select(timeout?: number | null): SelectorEvent<T, F>[];

  /** Closes the selector and forgets every registration; safe to call more than once. */
  close(): void {
    this.#registry.keys.clear();
    this.#map = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The key of a registered `fileobj`; {@link EtltNotRegisteredError} if none, ERR_ETLT_CLOSED once closed. */
  getKey(fileobj: FileObject): SelectorKey<T, F> {
    this.#live('getKey');
    return this.#registry.keyOf(fileobj);
  }

  /** The live, read-only map of the registrations; null once closed, as Python's None. */
  getMap(): SelectorMapping<T, F> | null {
    return this.#map;
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#map === null;
  }

  #live(operation: string): void {
    if (this.#map === null) throw new EtltClosedError('selector', operation);
  }
}

/**
 * A selector over `select()` (Python's `SelectSelector`). Registering an fd at or above
 * FD_SETSIZE (1024) succeeds, as in Python, but `select()` then throws the RangeError that
 * names it: use `EpollSelector` or `PollSelector` for more fds.
 */
export class SelectSelector<T = unknown, F extends FileObject = FileObject> extends BaseSelector<T, F> {
  readonly #readers = new Set<number>();
  readonly #writers = new Set<number>();

  override register(fileobj: F, events: number, data?: T): SelectorKey<T, F> {
    const key = super.register(fileobj, events, data);
    if (events & EVENT_READ) this.#readers.add(key.fd);
    if (events & EVENT_WRITE) this.#writers.add(key.fd);
    return key;
  }

  override unregister(fileobj: FileObject): SelectorKey<T, F> {
    const key = super.unregister(fileobj);
    this.#readers.delete(key.fd);
    this.#writers.delete(key.fd);
    return key;
  }

  override select(timeout?: number | null): SelectorEvent<T, F>[] {
    const registry = registryOf(this);
    const seconds = checkTimeout(timeout);
    const [r, w] = select(this.#readers, this.#writers, [], seconds === null ? null : Math.max(seconds, 0));
    const readable = new Set(r);
    const writable = new Set(w);
    const ready: SelectorEvent<T, F>[] = [];
    for (const fd of new Set([...r, ...w])) {
      const events = (readable.has(fd) ? EVENT_READ : 0) | (writable.has(fd) ? EVENT_WRITE : 0);
      const key = registry.keys.get(fd);
      if (key) ready.push([key, events & key.events]);
    }
    return ready;
  }

  override close(): void {
    this.#readers.clear();
    this.#writers.clear();
    super.close();
  }
}

/** What a poll-like mechanism gives the selector: Poll's or Epoll's register/modify/unregister. */
interface Poller {
  register(fd: number, eventmask: number): void;
  modify(fd: number, eventmask: number): void;
  unregister(fd: number): void;
}

/** Waits up to `seconds` (null: forever, 0: poll) for at most `maxevents` [fd, events] pairs. */
type Wait = (seconds: number | null, maxevents: number) => (readonly [number, number])[];

/**
 * What `PollSelector` and `EpollSelector` share (Python's `_PollLikeSelector`): the events
 * mapped to the mechanism's masks, a registration undone when the mechanism refuses it, and
 * an unregister that tolerates a file object closed since (epoll_ctl's EBADF or ENOENT).
 */
abstract class PollLikeSelector<T, F extends FileObject = FileObject> extends BaseSelector<T, F> {
  readonly #poller: Poller;
  readonly #readMask: number;
  readonly #writeMask: number;
  readonly #wait: Wait;

  constructor(poller: Poller, readMask: number, writeMask: number, wait: Wait) {
    super();
    this.#poller = poller;
    this.#readMask = readMask;
    this.#writeMask = writeMask;
    this.#wait = wait;
  }

  override register(fileobj: F, events: number, data?: T): SelectorKey<T, F> {
    const key = super.register(fileobj, events, data);
    try {
      this.#poller.register(key.fd, this.#mask(events));
    } catch (err) {
      registryOf(this).remove(fileobj);
      throw err;
    }
    return key;
  }

  override unregister(fileobj: FileObject): SelectorKey<T, F> {
    const key = super.unregister(fileobj);
    try {
      this.#poller.unregister(key.fd);
    } catch (err) {
      // The fd was closed since it was registered (EBADF), maybe reused (ENOENT): the kernel
      // dropped it from the set already. Python ignores every OSError here.
      if (!(err instanceof EtltSystemError)) throw err;
    }
    return key;
  }

  override modify(fileobj: FileObject, events: number, data?: T): SelectorKey<T, F> {
    const key = this.getKey(fileobj);
    const registry = registryOf(this);
    const ev = checkEvents(events);
    let changed = false;
    if (ev !== key.events) {
      try {
        this.#poller.modify(key.fd, this.#mask(ev));
      } catch (err) {
        // Python (bpo-30014): a failed modify leaves the file object unregistered.
        registry.remove(fileobj);
        throw err;
      }
      changed = true;
    }
    if (data !== key.data) changed = true;
    if (!changed) return key;
    const next = new SelectorKey<T, F>(key.fileobj, key.fd, ev, data);
    registry.keys.set(key.fd, next);
    return next;
  }

  override select(timeout?: number | null): SelectorEvent<T, F>[] {
    const registry = registryOf(this);
    const seconds = checkTimeout(timeout);
    // maxevents must be positive: select() works with nothing registered too.
    const pairs = this.#wait(seconds === null ? null : Math.max(seconds, 0), Math.max(registry.keys.size, 1));
    // As Python maps them: any bit but the read one (OUT, ERR, HUP, NVAL) is WRITE, any but
    // the write one is READ, then masked with the key's events.
    const out: SelectorEvent<T, F>[] = [];
    for (const [fd, event] of pairs) {
      let events = 0;
      if (event & ~this.#readMask) events |= EVENT_WRITE;
      if (event & ~this.#writeMask) events |= EVENT_READ;
      const key = registry.keys.get(fd);
      if (key) out.push([key, events & key.events]);
    }
    return out;
  }

  #mask(events: number): number {
    return (events & EVENT_READ ? this.#readMask : 0) | (events & EVENT_WRITE ? this.#writeMask : 0);
  }
}

/**
 * A selector over `Poll` (Python's `PollSelector`): no FD_SETSIZE limit. An fd closed while
 * registered is reported ready (poll(2) gives POLLNVAL, which maps to both events) until it
 * is unregistered.
 */
export class PollSelector<T = unknown, F extends FileObject = FileObject> extends PollLikeSelector<T, F> {
  constructor() {
    const poll = new Poll();
    // poll() has a resolution of 1 ms: round up, to wait at least the timeout.
    super(poll, POLLIN, POLLOUT, (seconds) => poll.poll(seconds === null ? null : Math.ceil(seconds * 1e3)));
  }
}

/**
 * A selector over `Epoll` (Python's `EpollSelector`, the `DefaultSelector` on Linux). The
 * kernel drops an fd from the set when its file is closed, so a file object closed while
 * registered reports nothing, and `unregister` ignores epoll_ctl's EBADF (the fd is closed)
 * or ENOENT (the number was reused by a file not in the set), as CPython ignores the OSError.
 * Its key stays until then: registering the new file under the reused number first is an
 * {@link EtltAlreadyRegisteredError}, as Python's KeyError.
 */
export class EpollSelector<T = unknown, F extends FileObject = FileObject> extends PollLikeSelector<T, F> {
  readonly #epoll: Epoll;

  constructor() {
    const epoll = new Epoll();
    // Epoll.poll rounds seconds up to whole milliseconds itself.
    super(epoll, EPOLLIN, EPOLLOUT, (seconds, maxevents) => epoll.poll(seconds, maxevents));
    this.#epoll = epoll;
  }

  /** The epoll fd. */
  fileno(): number {
    return this.#epoll.fileno();
  }

  /** Closes the epoll fd and forgets every registration; safe to call more than once. */
  override close(): void {
    this.#epoll.close();
    super.close();
  }
}

/** The best selector on Linux: {@link EpollSelector}, as in Python. */
export const DefaultSelector = EpollSelector;
/** The best selector on Linux: {@link EpollSelector}, as in Python. */
export type DefaultSelector<T = unknown, F extends FileObject = FileObject> = EpollSelector<T, F>;
