/**
 * Argument and option checks for the public API, in one voice (Node's): a TypeError with
 * `ERR_INVALID_ARG_TYPE` for a wrong type, a RangeError with `ERR_OUT_OF_RANGE` for a wrong
 * value, each naming the argument (`The "fd" argument must be ...`) or the option (`The
 * "host" option must be ...`).
 */
import { EtltArgTypeError, EtltOutOfRangeError, EtltUnknownOptionError } from './errors.js';

/** Whether a checked name is a function's argument or a key of an options object. */
export type Role = 'argument' | 'option';

/** How Node shows a received value in ERR_INVALID_ARG_TYPE. */
function received(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? `an instance of ${name}` : 'an object';
  }
  let shown =
    typeof value === 'string'
      ? `'${value.length > 28 ? `${value.slice(0, 25)}...` : value}'`
      : // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a primitive here: objects returned above
        String(value);
  if (typeof value === 'bigint') shown += 'n';
  return `type ${typeof value} (${shown})`;
}

/** A TypeError naming the argument or option, with Node's `ERR_INVALID_ARG_TYPE` code. */
export function typeError(name: string, expected: string, value: unknown, role: Role = 'argument'): TypeError {
  return new EtltArgTypeError(`The "${name}" ${role} must be ${expected}. Received ${received(value)}`);
}

/** A RangeError naming the argument or option, with Node's `ERR_OUT_OF_RANGE` code. */
export function rangeError(name: string, expected: string, value: unknown, role: Role = 'argument'): RangeError {
  const subject = role === 'option' ? `the "${name}" option` : `"${name}"`;
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  return new EtltOutOfRangeError(`The value of ${subject} is out of range. It must be ${expected}. Received ${shown}`);
}

/** An integer in [min, max]. */
export function integer(value: unknown, name: string, min: number, max: number, role: Role = 'argument'): number {
  if (typeof value !== 'number') throw typeError(name, 'of type number', value, role);
  if (!Number.isInteger(value)) throw rangeError(name, 'an integer', value, role);
  if (value < min || value > max) throw rangeError(name, `>= ${min} and <= ${max}`, value, role);
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
export function bytes(value: unknown, name: string, role: Role = 'argument'): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value);
  throw typeError(name, 'a Buffer, TypedArray, DataView or string', value, role);
}

/** A writable byte destination. */
export function writableBytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw typeError(name, 'a Buffer, TypedArray or DataView', value);
}

/** A function. */
export function func<T extends (...args: never[]) => unknown>(
  value: unknown,
  name: string,
  role: Role = 'argument',
): T {
  if (typeof value !== 'function') throw typeError(name, 'of type function', value, role);
  return value as T;
}

/** A boolean, strictly. */
export function boolean(value: unknown, name: string, role: Role = 'argument'): boolean {
  if (typeof value !== 'boolean') throw typeError(name, 'of type boolean', value, role);
  return value;
}

/** A string. */
export function string(value: unknown, name: string, role: Role = 'argument'): string {
  if (typeof value !== 'string') throw typeError(name, 'of type string', value, role);
  return value;
}

/** One of `choices` (strings), as a RangeError listing them otherwise. */
export function oneOf<T extends string>(
  value: unknown,
  name: string,
  choices: readonly T[],
  role: Role = 'argument',
): T {
  if (typeof value !== 'string') throw typeError(name, 'of type string', value, role);
  if (!(choices as readonly string[]).includes(value)) {
    throw rangeError(name, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value, role);
  }
  return value as T;
}

/** A boolean-ish flag, as Python's truthiness allows for setblocking(0). */
export function flag(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  throw typeError(name, 'a boolean or a number', value);
}

/**
 * An options object (undefined means `{}`) whose keys are all in `known`: a misspelt
 * option fails loudly instead of being ignored. Suggests the known key it most resembles.
 */
export function options<T extends object>(value: unknown, name: string, known: readonly string[]): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw typeError(name, 'of type object', value);
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = known.find(
      (k) => k.toLowerCase().startsWith(key.toLowerCase()) || key.toLowerCase().startsWith(k.toLowerCase()),
    );
    throw new EtltUnknownOptionError(
      `Unknown option "${key}" in ${name}${near ? ` (did you mean "${near}"?)` : ''}. Known: ${known.join(', ')}`,
    );
  }
  return value;
}
