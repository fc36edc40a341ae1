/**
 * Command-line options as tables: each command declares its options once, and both its
 * parsing (strict: another command's option is an error, not ignored) and its help text
 * come from that table. Values are checked here; every problem is an EtltUsageError, which
 * the CLI prints with a pointer to `--help` and exit code 2.
 */
import { parseArgs } from 'node:util';
import { EtltUsageError } from '../errors.js';

/** One option of a command. */
export interface OptionSpec {
  /** The long name, without `--`. */
  readonly name: string;
  readonly short?: string;
  /** The value's placeholder in the help (`N`, `FILE`); absent for a flag that takes none. */
  readonly value?: string;
  /** What it does, one or more lines; the default is stated here, in words. */
  readonly help: string;
}

/** A command and its options. */
export interface CommandSpec {
  readonly name: string;
  /** One line for the overview. */
  readonly summary: string;
  readonly options: readonly OptionSpec[];
  /** Lines printed after the options (signals, notes). */
  readonly notes?: readonly string[];
}

/** What `parse` found: option values by long name, as given. */
export type ParsedOptions = Record<string, string | boolean | undefined>;

const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', help: 'show this help' };

/** Parses `argv` (after the command name) strictly against `spec`'s table. */
export function parse(spec: CommandSpec, argv: readonly string[]): ParsedOptions {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const o of [...spec.options, HELP_OPTION]) {
    options[o.name] =
      o.short === undefined
        ? { type: o.value ? 'string' : 'boolean' }
        : { type: o.value ? 'string' : 'boolean', short: o.short };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new EtltUsageError(`etlt ${spec.name}: unexpected argument '${positionals[0]}'`);
    return values;
  } catch (e) {
    if (e instanceof EtltUsageError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS_')) {
      throw new EtltUsageError(
        `etlt ${spec.name}: ${err.message.replace(/\. To specify a positional argument.*$/s, '')}`,
      );
    }
    throw e;
  }
}

/** The help of one command, generated from its table. */
export function helpFor(spec: CommandSpec, indent = ''): string {
  const rows = [...spec.options, HELP_OPTION].map((o) => {
    const left = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.value ? ` ${o.value}` : ''}`;
    return [left, o.help.split('\n')] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const lines = [`${indent}etlt ${spec.name} [options]   ${spec.summary}`, ''];
  for (const [left, help] of rows) {
    lines.push(`${indent}  ${left.padEnd(width)}${help[0] ?? ''}`);
    for (const more of help.slice(1)) lines.push(`${indent}  ${' '.repeat(width)}${more}`);
  }
  if (spec.notes !== undefined && spec.notes.length > 0) lines.push('', ...spec.notes.map((n) => `${indent}${n}`));
  return lines.join('\n');
}

// ---- value checks: each names the option and what it must be ----

/** A decimal integer in [min, max] (not '1.5', '0x10', '1e3' or ' 80'), or `fallback` when absent. */
export function integerOption(values: ParsedOptions, name: string, fallback: number, min: number, max: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v) || n < min || n > max) {
    throw new EtltUsageError(`--${name} must be an integer from ${min} to ${max} (got '${String(v)}')`);
  }
  return n;
}

/** A number of seconds in [min, max] (fractions allowed), returned in milliseconds. */
export function secondsOption(
  values: ParsedOptions,
  name: string,
  fallbackS: number,
  min: number,
  max: number,
): number {
  const v = values[name];
  if (v === undefined) return Math.round(fallbackS * 1000);
  const n = Number(v);
  if (typeof v !== 'string' || !/^[0-9]+(\.[0-9]+)?$/.test(v) || n < min || n > max) {
    throw new EtltUsageError(`--${name} must be a number of seconds from ${min} to ${max} (got '${String(v)}')`);
  }
  return Math.round(n * 1000);
}

/** 'on' or 'off'. */
export function onOffOption(values: ParsedOptions, name: string, fallback: boolean): boolean {
  const v = values[name];
  if (v === undefined) return fallback;
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new EtltUsageError(`--${name} must be 'on' or 'off' (got '${String(v)}')`);
}

/** One of `choices`. */
export function choiceOption<T extends string>(
  values: ParsedOptions,
  name: string,
  fallback: T,
  choices: readonly T[],
): T {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
  throw new EtltUsageError(`--${name} must be one of ${choices.join(', ')} (got '${String(v)}')`);
}

/** A comma-separated list of `choices`, or undefined when absent. */
export function listOption<T extends string>(
  values: ParsedOptions,
  name: string,
  choices: readonly T[],
): T[] | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const items = String(v)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = items.filter((x) => !(choices as readonly string[]).includes(x));
  if (items.length === 0 || bad.length > 0) {
    throw new EtltUsageError(
      `--${name}: unknown ${bad.length > 0 ? `'${bad.join("', '")}'` : 'empty list'} (known: ${choices.join(', ')})`,
    );
  }
  return items as T[];
}

/** A string value, or undefined when absent. */
export function stringOption(values: ParsedOptions, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new EtltUsageError(`--${name} needs a value`);
  return v;
}

/** A flag's value. */
export function flagOption(values: ParsedOptions, name: string): boolean {
  return values[name] === true;
}
