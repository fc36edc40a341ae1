#!/usr/bin/env node
// `npm run fuzz`: the property tests (test/unit/fuzz-*.test.mjs) for longer than `npm test`
// runs them, from a fresh seed each time unless one is given. It builds the TypeScript first.
//   FUZZ_RUNS=100000 npm run fuzz              runs per property (default 20000)
//   FUZZ_SEED=123 npm run fuzz                 replay a seed (printed at the start)
//   npm run fuzz -- test/unit/fuzz-head.test.mjs
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const UNIT = join(ROOT, 'test', 'unit');

const seed = process.env.FUZZ_SEED || String(randomInt(2 ** 31));
const runs = process.env.FUZZ_RUNS || '20000';
const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => resolve(f)) : fuzzFiles();
process.stderr.write(`fuzz: seed ${seed}, ${runs} runs per property (replay: FUZZ_SEED=${seed} npm run fuzz)\n`);

const tsc = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(1);
const env = { ...process.env, FUZZ_SEED: seed, FUZZ_RUNS: runs };
const r = spawnSync(process.execPath, ['--test', ...files], { cwd: ROOT, stdio: 'inherit', env });
if (r.status !== 0)
  process.stderr.write(`fuzz: failed; replay with FUZZ_SEED=${seed} (and the path fast-check printed as FUZZ_PATH)\n`);
process.exit(r.status ?? 1);

function fuzzFiles() {
  return readdirSync(UNIT)
    .filter((f) => f.startsWith('fuzz-') && f.endsWith('.test.mjs'))
    .sort()
    .map((f) => join(UNIT, f));
}
