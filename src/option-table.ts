/**
 * One option table per public class, the way `http/trigger/catalog.ts` is the one table of
 * strategies: each option's name, kind, default, range, one-line doc, and its command-line
 * flag with the flag's unit. The class checks its options and fills the defaults from it
 * (`resolveOptions`), `etlt serve` builds its flags, their parsing and `--help` from it, the
 * README's option lists are generated from it (`scripts/options-doc.mjs`), and `WorkerPool`
 * sends a worker only the options that can cross a process (`crossesProcess`).
 *
 * Adding an option is one row: the compiler refuses a table that misses a key of the
 * options interface (`OptionTable<T>`).
 */
import { boolean, bytes, func, integer, oneOf, options as checkOptions, string, typeError } from './validate.js';

/** What an option's value is, and so how it is checked. */
export type OptionKind = 'integer' | 'boolean' | 'string' | 'choice' | 'bytes' | 'function' | 'object';

/** How `etlt serve` spells an option. */
export interface CliFlag {
  /** The long name, without `--`. */
  readonly flag: string;
  readonly short?: string;
  /**
   * The value's placeholder in the help (`N`, `BYTES`); absent for a boolean given as a bare
   * flag. A boolean with a value takes `on` or `off`.
   */
  readonly value?: string;
  /** 'seconds': the flag takes (fractional) seconds where the option takes milliseconds. */
  readonly unit?: 'seconds';
  /** More help lines, after the doc line. */
  readonly more?: string;
}

/** One option. */
export interface OptionRow {
  readonly kind: OptionKind;
  /** One line: what it does. */
  readonly doc: string;
  /**
   * The value when the option is not given: a value, or a function of the options resolved
   * so far (rows resolve in table order), or absent for an option that has none.
   */
  readonly default?: unknown;
  /** How the default reads in help and docs when it is computed or better said in words. */
  readonly defaultText?: string;
  /** An integer's range, inclusive. */
  readonly min?: number;
  readonly max?: number;
  /** A choice's values. */
  readonly choices?: readonly string[];
  /** Its flag, when `etlt serve` has one. */
  readonly cli?: CliFlag;
}

/** The table of an options interface: a row for every key, in the order they resolve. */
export type OptionTable<T> = { readonly [K in keyof Required<T>]: OptionRow };

/** Whether an option can be sent to another process (functions cannot). */
export function crossesProcess(row: OptionRow): boolean {
  return row.kind !== 'function';
}

/** The default of `row`, given the options resolved before it. */
function defaultOf(row: OptionRow, resolved: Record<string, unknown>): unknown {
  return typeof row.default === 'function'
    ? (row.default as (r: Record<string, unknown>) => unknown)(resolved)
    : row.default;
}

/** Checks one given value against its row; returns it (bytes as a Uint8Array). */
export function checkValue(row: OptionRow, value: unknown, name: string): unknown {
  switch (row.kind) {
    case 'integer':
      return integer(value, name, row.min ?? Number.MIN_SAFE_INTEGER, row.max ?? Number.MAX_SAFE_INTEGER, 'option');
    case 'boolean':
      return boolean(value, name, 'option');
    case 'string':
      return string(value, name, 'option');
    case 'choice':
      return oneOf(value, name, row.choices ?? [], 'option');
    case 'bytes':
      return bytes(value, name, 'option');
    case 'function':
      return func(value, name, 'option');
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw typeError(name, 'of type object', value, 'option');
      return value;
  }
}

/**
 * `given` checked against `table` (an unknown key is an error that names the nearest known
 * one; a wrong value a TypeError or RangeError naming the option), with every default
 * filled in. `what` names the object in errors ('HttpServer options').
 */
export function resolveOptions<T extends object>(
  table: OptionTable<T>,
  given: unknown,
  what: string,
): Record<keyof T, unknown> {
  const rows = table as Readonly<Record<string, OptionRow>>;
  const o = checkOptions<Record<string, unknown>>(given, what, Object.keys(rows));
  const resolved: Record<string, unknown> = {};
  for (const [name, row] of Object.entries(rows)) {
    const value = o[name];
    resolved[name] = value === undefined ? defaultOf(row, resolved) : checkValue(row, value, name);
  }
  return resolved as Record<keyof T, unknown>;
}

/** The default as the docs show it, in the option's own unit (undefined: none). */
export function defaultShown(row: OptionRow): string | undefined {
  if (row.defaultText !== undefined) return row.defaultText;
  const d = row.default;
  if (typeof d === 'string') return `'${d}'`;
  if (typeof d === 'number' || typeof d === 'boolean') return String(d);
  return undefined;
}

/** The range as the docs show it (undefined: none). */
export function rangeShown(row: OptionRow): string | undefined {
  if (row.kind === 'integer' && row.min !== undefined && row.max !== undefined) return `${row.min} to ${row.max}`;
  if (row.kind === 'choice' && row.choices !== undefined) return row.choices.map((c) => `'${c}'`).join(' | ');
  return undefined;
}
