/**
 * Command-line options as tables: each command declares its options once, and both its
 * parsing (strict: another command's option is an error, not ignored) and its help text
 * come from that table. Values are checked here; every problem is an EtltUsageError, which
 * the CLI prints with a pointer to `--help` and exit code 2.
 */
import { parseArgs } from 'node:util';
import { EtltUsageError } from '../errors.js';
import type { OptionRow, OptionTable } from '../option-table.js';
import { defaultShown, rangeShown } from '../option-table.js';

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
    const args = joinDashValues(argv, options);
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
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

/**
 * `--port -1` as `--port=-1`: parseArgs takes a value that begins with a dash for an option
 * ("argument is ambiguous"), so a negative number would never reach the check that says
 * what the option takes. A following word that is one of the command's options is left
 * alone: `--root --quiet` is still a missing value.
 */
function joinDashValues(
  argv: readonly string[],
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>,
): string[] {
  const known = new Set(
    Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]),
  );
  const longOf = (word: string): string | undefined => {
    if (word.startsWith('--')) return word.slice(2);
    return Object.entries(options).find(([, o]) => o.short !== undefined && word === `-${o.short}`)?.[0];
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const next = argv[i + 1];
    const name = word.includes('=') ? undefined : longOf(word);
    if (
      name !== undefined &&
      options[name]?.type === 'string' &&
      next !== undefined &&
      next.startsWith('-') &&
      !known.has(next.split('=')[0]!)
    ) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(word);
  }
  return out;
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

// ---- flags made from a class's option table (src/option-table.ts) ----

/** The help of a table row: its doc line, more lines, and its default and range in the flag's unit. */
function rowHelp(row: OptionRow): string {
  const seconds = row.cli?.unit === 'seconds';
  const inUnit = (ms: number) => String(seconds ? ms / 1000 : ms);
  const bareFlag = row.kind === 'boolean' && row.cli?.value === undefined;
  const shownDefault = bareFlag
    ? undefined
    : seconds && typeof row.default === 'number'
      ? inUnit(row.default)
      : row.kind === 'boolean' && row.cli?.value !== undefined && typeof row.default === 'boolean'
        ? row.default
          ? 'on'
          : 'off'
        : defaultShown(row);
  const range =
    row.kind === 'integer' && row.min !== undefined && row.max !== undefined
      ? `${inUnit(row.min)} to ${inUnit(row.max)}`
      : row.kind === 'choice'
        ? undefined
        : rangeShown(row);
  const facts = [
    ...(shownDefault === undefined ? [] : [`default ${shownDefault}`]),
    ...(range === undefined || row.cli?.value === 'N|auto' ? [] : [range]),
  ];
  const doc = row.doc.replace(/^milliseconds /, seconds ? 'seconds ' : 'milliseconds ');
  return [`${doc}${facts.length > 0 ? ` (${facts.join('; ')})` : ''}`, ...(row.cli?.more ? [row.cli.more] : [])]
    .map((line) => wrap(line, HELP_WIDTH))
    .join('\n');
}

/** The width of a help column: the flags take about 30 of a terminal's 100. */
const HELP_WIDTH = 72;

/** `text` broken at spaces into lines of at most `width` characters. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

/** The command-line options of `table`'s rows that have a flag. */
export function tableFlags<T>(table: OptionTable<T>): OptionSpec[] {
  return Object.values<OptionRow>(table).flatMap((row) => {
    const cli = row.cli;
    if (cli === undefined) return [];
    const spec: OptionSpec = {
      name: cli.flag,
      help: rowHelp(row),
      ...(cli.short === undefined ? {} : { short: cli.short }),
      ...(cli.value === undefined ? {} : { value: cli.value }),
    };
    return [spec];
  });
}

/**
 * The options the user gave on the command line, as `table`'s class takes them (seconds to
 * milliseconds, on/off to booleans), checked against the row's range in the flag's unit:
 * nothing that was not given, so the class's own defaults apply.
 */
export function tableValues<T>(table: OptionTable<T>, values: ParsedOptions): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [name, row] of Object.entries<OptionRow>(table)) {
    const cli = row.cli;
    if (cli === undefined || values[cli.flag] === undefined) continue;
    out[name] = flagValue(row, cli.flag, values);
  }
  return out as Partial<T>;
}

function flagValue(row: OptionRow, flag: string, values: ParsedOptions): unknown {
  const v = values[flag];
  const min = row.min ?? 0;
  const max = row.max ?? Number.MAX_SAFE_INTEGER;
  switch (row.kind) {
    case 'integer':
      if (row.cli?.unit === 'seconds') return secondsOption(values, flag, 0, min / 1000, max / 1000);
      return integerOption(values, flag, 0, min, max);
    case 'boolean':
      return row.cli?.value === undefined ? v === true : onOffOption(values, flag, false);
    case 'choice':
      return choiceOption(values, flag, '', row.choices ?? []);
    case 'string':
      if (typeof v !== 'string') throw new EtltUsageError(`--${flag} needs a value`);
      return v;
    case 'bytes':
    case 'function':
    case 'object':
      throw new EtltUsageError(`--${flag}: not an option the command line can give`);
  }
}
