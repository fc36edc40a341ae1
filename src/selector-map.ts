/**
 * The keys of Python's `selectors` and the table of them every selector keeps: a
 * `SelectorKey` per registration, the fd to key table with the lookup of a file object's
 * fd, and the live read-only view of it that `getMap()` returns.
 */
import { EtltNotRegisteredError } from './errors.js';
import { describeFileObject } from './select.js';
import type { FileObject } from './select.js';
import { fileDescriptor } from './validate.js';

/**
 * A registration (Python's `SelectorKey` named tuple): the file object as given, its fd,
 * the events (EVENT_READ | EVENT_WRITE) it is watched for, and the caller's data. Immutable:
 * `modify` returns a new key.
 */
export class SelectorKey<T = unknown, F extends FileObject = FileObject> {
  constructor(
    /** The file object registered: an fd, or the very object with `fileno()`. */
    readonly fileobj: F,
    /** Its file descriptor, as it was at registration. */
    readonly fd: number,
    /** EVENT_READ, EVENT_WRITE or both. */
    readonly events: number,
    /** Whatever the caller attached (undefined when nothing was). */
    readonly data: T | undefined,
  ) {
    Object.freeze(this);
  }
}

/** A ready key and the events (EVENT_READ | EVENT_WRITE, within its key's) that fired. */
export type SelectorEvent<T = unknown, F extends FileObject = FileObject> = [key: SelectorKey<T, F>, events: number];

/**
 * The read-only, live view of a selector's registrations (Python's `get_map()`): fd to key,
 * as a `ReadonlyMap` whose `get` and `has` also take the file object itself, and whose
 * `keys()` are the fds in registration order. Empty once its selector is closed.
 */
export interface SelectorMapping<T = unknown, F extends FileObject = FileObject> extends ReadonlyMap<
  number,
  SelectorKey<T, F>
> {
  /** The key of a registered fd or file object, or undefined. */
  get(fileobj: FileObject): SelectorKey<T, F> | undefined;
  /** Whether an fd or file object is registered. */
  has(fileobj: FileObject): boolean;
}

/** A selector's registrations: fd to key, and the lookup of a file object's fd. */
export class Registry<T, F extends FileObject = FileObject> {
  readonly keys = new Map<number, SelectorKey<T, F>>();

  /*
   * Python's `_fileobj_lookup`: the fileno(), or, when that is not a valid fd (a closed
   * Socket's is -1), the fd of the key registered with this very object, so a file object
   * closed since can still be unregistered. The argument error when neither, if `required`.
   */
  lookup(fileobj: FileObject, required: true): number;
  lookup(fileobj: FileObject, required: boolean): number | undefined;
  lookup(fileobj: FileObject, required: boolean): number | undefined {
    try {
      return fileDescriptor(fileobj, 'fileobj');
    } catch (err) {
      for (const key of this.keys.values()) if (key.fileobj === fileobj) return key.fd;
      if (required) throw err;
      return undefined;
    }
  }

  keyOf(fileobj: FileObject): SelectorKey<T, F> {
    const fd = this.lookup(fileobj, true);
    const key = this.keys.get(fd);
    if (key === undefined) throw new EtltNotRegisteredError(`${describeFileObject(fileobj, fd)} is not registered`);
    return key;
  }

  remove(fileobj: FileObject): SelectorKey<T, F> {
    const key = this.keyOf(fileobj);
    this.keys.delete(key.fd);
    return key;
  }
}

export class LiveMapping<T, F extends FileObject = FileObject> implements SelectorMapping<T, F> {
  readonly #registry: Registry<T, F>;

  constructor(registry: Registry<T, F>) {
    this.#registry = registry;
  }

  get size(): number {
    return this.#registry.keys.size;
  }

  get(fileobj: FileObject): SelectorKey<T, F> | undefined {
    const fd = this.#registry.lookup(fileobj, false);
    return fd === undefined ? undefined : this.#registry.keys.get(fd);
  }

  has(fileobj: FileObject): boolean {
    return this.get(fileobj) !== undefined;
  }

  forEach(callback: (key: SelectorKey<T, F>, fd: number, map: ReadonlyMap<number, SelectorKey<T, F>>) => void): void {
    for (const [fd, key] of this.#registry.keys) callback(key, fd, this);
  }

  entries(): MapIterator<[number, SelectorKey<T, F>]> {
    return this.#registry.keys.entries();
  }

  keys(): MapIterator<number> {
    return this.#registry.keys.keys();
  }

  values(): MapIterator<SelectorKey<T, F>> {
    return this.#registry.keys.values();
  }

  [Symbol.iterator](): MapIterator<[number, SelectorKey<T, F>]> {
    return this.#registry.keys.entries();
  }
}
