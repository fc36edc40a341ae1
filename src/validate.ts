/** Argument checks for the public API: TypeError for a wrong type, RangeError for a wrong value. */

/** A TypeError naming the argument, with Node's `ERR_INVALID_ARG_TYPE` code. */
export function typeError(name: string, expected: string, value: unknown): TypeError {
  const shown = typeof value === 'string' ? `'${value}'` : typeof value === 'object' ? (value === null ? 'null' : 'an object') : String(value);
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${shown}`);
  (err as NodeJS.ErrnoException).code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

/** A RangeError naming the argument, with Node's `ERR_OUT_OF_RANGE` code. */
export function rangeError(name: string, expected: string, value: unknown): RangeError {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${expected}. Received ${String(value)}`);
  (err as NodeJS.ErrnoException).code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** An integer in [min, max]. */
export function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw typeError(name, 'of type number', value);
  if (!Number.isInteger(value)) throw rangeError(name, 'an integer', value);
  if (value < min || value > max) throw rangeError(name, `>= ${min} and <= ${max}`, value);
  return value;
}

/** A 32-bit event mask, signed or unsigned, returned unsigned. */
export function eventMask(value: unknown, name = 'eventmask'): number {
  return integer(value, name, -0x80000000, 0xffffffff) >>> 0;
}

/** Something that has a file descriptor. */
export interface HasFileno {
  fileno(): number;
}

/** A file descriptor: a non-negative integer, or any object with a `fileno()` method. */
export function fileDescriptor(value: unknown, name = 'fd'): number {
  if (typeof value === 'object' && value !== null && typeof (value as HasFileno).fileno === 'function') {
    value = (value as HasFileno).fileno();
  }
  if (typeof value !== 'number') throw typeError(name, 'a number or an object with a fileno() method', value);
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw rangeError(name, 'a non-negative integer file descriptor', value);
  }
  return value;
}

/** A byte source: Buffer, any TypedArray or DataView, or a string (sent as UTF-8). */
export function bytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value);
  throw typeError(name, 'a Buffer, TypedArray, DataView or string', value);
}

/** A writable byte destination. */
export function writableBytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw typeError(name, 'a Buffer, TypedArray or DataView', value);
}

/** A function. */
export function func<T extends (...args: never[]) => unknown>(value: unknown, name: string): T {
  if (typeof value !== 'function') throw typeError(name, 'of type function', value);
  return value as T;
}

/** A boolean, strictly. */
export function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw typeError(name, 'of type boolean', value);
  return value;
}

/** A boolean-ish flag, as Python's truthiness allows for setblocking(0). */
export function flag(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  throw typeError(name, 'a boolean or a number', value);
}
