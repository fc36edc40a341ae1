#!/usr/bin/env node
/**
 * The README's option lists, generated from the option tables (src/http/options.ts,
 * src/cluster/options.ts) between `<!-- options:NAME -->` and `<!-- /options:NAME -->`.
 * `node scripts/options-doc.mjs` rewrites README.md (after a build); `--check` exits 1 when
 * it is out of date (test/unit/option-table.test.mjs runs the same comparison).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { HTTP_SERVER_OPTIONS } = await import(`${ROOT}dist/src/http/options.js`);
const { WORKER_POOL_OPTIONS } = await import(`${ROOT}dist/src/cluster/options.js`);
const { defaultShown, rangeShown } = await import(`${ROOT}dist/src/option-table.js`);

/** The tables the README lists, by marker name. */
export const TABLES = { HttpServer: HTTP_SERVER_OPTIONS, WorkerPool: WORKER_POOL_OPTIONS };

/** One table as Markdown: option, kind, default, range, what it does, and its flag. */
export function markdown(table) {
  const cell = (s) => String(s).replaceAll('|', '\\|');
  const rows = Object.entries(table).map(([name, row]) => {
    const flag = row.cli === undefined ? '' : `\`--${row.cli.flag}${row.cli.value ? ` ${row.cli.value}` : ''}\``;
    const unit = row.cli?.unit === 'seconds' ? ' (in seconds)' : '';
    return `| \`${name}\` | ${row.kind} | ${cell(defaultShown(row) ?? '')} | ${cell(rangeShown(row) ?? '')} | ${cell(row.doc)} | ${cell(flag)}${unit} |`;
  });
  return [
    '| option | kind | default | range | what it does | `etlt serve` |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** `text` with every marked section regenerated. */
export function regenerate(text) {
  let out = text;
  for (const [name, table] of Object.entries(TABLES)) {
    const open = `<!-- options:${name} -->`;
    const close = `<!-- /options:${name} -->`;
    const a = out.indexOf(open);
    const b = out.indexOf(close);
    if (a < 0 || b < a) throw new Error(`README.md: no ${open} ... ${close} section`);
    out = `${out.slice(0, a + open.length)}\n${markdown(table)}\n${out.slice(b)}`;
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = `${ROOT}README.md`;
  const text = readFileSync(path, 'utf8');
  const fresh = regenerate(text);
  if (process.argv.includes('--check')) {
    if (fresh !== text) {
      process.stderr.write('README.md: the option lists are out of date: run node scripts/options-doc.mjs\n');
      process.exitCode = 1;
    }
  } else writeFileSync(path, fresh);
}
