#!/usr/bin/env node
// `npm run soak`: etlt serve under honest and hostile traffic at once, for a long time,
// each server variant of scripts/soak/variants.mjs in turn (et, lt, and where this build
// has the flags, --workers 2 and --root over a tree of files), sampled every second from
// outside; then judged (scripts/soak/verdict.mjs states the bounds) and written to
// soak.json and soak.html. Exits 0 when every variant that ran held, 1 when one did not
// (saying which check), 2 on a usage error. Loopback only; every process it starts is
// stopped, also on Ctrl-C and on failure.
//
//   npm run soak                      SOAK_S seconds of load in all (default 600), split over the variants
//   npm run soak -- --quick           60 s
//   npm run soak -- --seconds 120 --variants et,lt --out /tmp/soak
//   --variants et-no-drain            a deliberately broken server (a pitfall strategy): the soak must fail it
//   --require-all                     a variant this build cannot run, or a figure not measured, fails the soak
//                                     (default: reported loudly, not failed, never counted as passed)
//   --seed N                          the seed of every random choice (default 14)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// The soak drives the built CLI and uses the built lab's PRNG and report helpers: say so
// plainly before importing them.
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli', 'main.js');
if (!existsSync(CLI)) {
  process.stderr.write(`soak: ${path.relative(process.cwd(), CLI)} not found: run npm run build first\n`);
  process.exit(2);
}
const { cleanupSync } = await import('../bench/lib/processes.mjs');
const { seeded } = await import('../dist/src/lab/persistent.js');
const { emfilePhase } = await import('./soak/emfile.mjs');
const { renderSoakHtml } = await import('./soak/report.mjs');
const { soakVariant } = await import('./soak/runner.mjs');
const { BOUNDS, checks, figures, figuresLine } = await import('./soak/verdict.mjs');
const { PITFALLS, VARIANTS, missingFlags, serveFlags } = await import('./soak/variants.mjs');

/** A variant gets at least this many seconds of load, or its flatness cannot be judged. */
const MIN_VARIANT_S = 10;

function usage(message) {
  process.stderr.write(
    `soak: ${message}\nusage: npm run soak -- [--quick] [--seconds N] [--variants ${VARIANTS.map((v) => v.name).join(',')}] [--out DIR] [--require-all] [--seed N]\n`,
  );
  process.exit(2);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        quick: { type: 'boolean' },
        seconds: { type: 'string' },
        variants: { type: 'string' },
        out: { type: 'string' },
        'require-all': { type: 'boolean' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    usage(e.message);
  }
  if (values.help) {
    process.stdout.write(
      `npm run soak -- [options]\n  --quick            60 s of load in all (else SOAK_S, default 600)\n  --seconds N        N s of load in all, split over the variants (at least ${MIN_VARIANT_S} s each)\n  --variants LIST    some of ${VARIANTS.map((v) => v.name).join(', ')} (default all of those);\n                     ${PITFALLS.map((v) => v.name).join(', ')}: a deliberately broken server, which must fail\n  --out DIR          where soak.json and soak.html go (default the current directory)\n  --require-all      a variant this build cannot run, or a figure it cannot measure, fails the soak\n  --seed N           seed of every random choice (default 14)\n`,
    );
    process.exit(0);
  }
  const secondsText = values.seconds ?? (values.quick ? '60' : (process.env.SOAK_S ?? '600'));
  if (!/^[0-9]+$/.test(secondsText) || Number(secondsText) < 1)
    usage(`seconds must be a positive integer (got '${secondsText}')`);
  const names =
    values.variants === undefined
      ? VARIANTS.map((v) => v.name)
      : values.variants
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const known = [...VARIANTS, ...PITFALLS];
  const unknown = names.filter((n) => !known.some((v) => v.name === n));
  if (names.length === 0 || unknown.length > 0) usage(`unknown variant ${unknown.join(', ') || '(empty list)'}`);
  const seed = values.seed ?? '14';
  if (!/^[0-9]+$/.test(seed)) usage(`--seed must be an integer (got '${seed}')`);
  return {
    seconds: Number(secondsText),
    variants: known.filter((v) => names.includes(v.name)),
    out: path.resolve(values.out ?? '.'),
    requireAll: Boolean(values['require-all']),
    seed: Number(seed),
  };
}

const log = (line) => process.stderr.write(`soak: ${line}\n`);

function preflight() {
  const missing = ['wrk', 'ab', 'curl', 'prlimit'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
  );
  if (missing.length > 0)
    usage(`missing tools: ${missing.join(', ')} (apt-get install wrk apache2-utils curl util-linux)`);
}

async function main() {
  const opts = options();
  preflight();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etlt-soak-'));
  const live = new Set();
  const servers = new Set();
  let aborted = false;
  const cleanup = () => {
    for (const c of live) c.kill('SIGKILL');
    cleanupSync();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      aborted = true;
      log(`${sig}: stopping every process the soak started`);
      cleanup();
      process.exit(130);
    });
  }
  const flags = serveFlags();
  const rand = seeded(opts.seed);
  const runnable = opts.variants.filter((v) => missingFlags(v, flags).length === 0);
  const perVariant = Math.max(MIN_VARIANT_S, Math.floor(opts.seconds / Math.max(1, runnable.length)));
  const ctx = { dir, rand, live, servers, log, aborted: () => aborted };
  const startedAt = new Date().toISOString();
  const variants = [];
  for (const v of opts.variants) {
    const missing = missingFlags(v, flags);
    if (missing.length > 0) {
      const reason = `not available in this build: etlt serve --help lists no ${missing.join(', ')}`;
      log(`${v.name}: NOT AVAILABLE: ${reason}`);
      variants.push({ variant: v.name, status: 'unavailable', held: false, reason });
      continue;
    }
    try {
      const record = await soakVariant(v, perVariant, ctx);
      if (PITFALLS.includes(v) && checks(record).some((c) => c.ok === false)) {
        // A deliberately broken server that has already failed cannot hold: its EMFILE phase
        // (about 17 s, longer when its clients stall) would only make the verdict later.
        log(`${v.name}: EMFILE phase skipped: a deliberately broken server, already failed`);
      } else {
        log(`${v.name}: EMFILE phase`);
        record.emfile = await emfilePhase(v, ctx);
      }
      const cs = checks(record);
      const held = cs.every((c) => c.ok !== false);
      for (const c of cs)
        log(`${v.name}: ${c.ok === null ? 'NOT MEASURED' : c.ok ? 'held' : 'FAILED'}: ${c.name}: ${c.detail}`);
      const f = figures(record);
      log(`${v.name}: ${figuresLine(f)}`);
      variants.push({ variant: v.name, status: 'ran', held, checks: cs, figures: f, record });
    } catch (e) {
      log(`${v.name}: ERROR: ${e.stack ?? e}`);
      variants.push({ variant: v.name, status: 'error', held: false, error: String(e.message ?? e) });
    }
  }
  const ran = variants.filter((v) => v.status === 'ran');
  const unavailable = variants.filter((v) => v.status === 'unavailable').map((v) => v.variant);
  const broken = variants.filter((v) => v.status !== 'unavailable' && !v.held);
  const unmeasured = ran.flatMap((v) => v.checks.filter((c) => c.ok === null).map((c) => `${v.variant}: ${c.name}`));
  const held =
    broken.length === 0 &&
    ran.length > 0 &&
    (!opts.requireAll || (unavailable.length === 0 && unmeasured.length === 0));
  const summary =
    (broken.length > 0
      ? `${broken
          .map(
            (v) =>
              `${v.variant}: ${
                v.status === 'error'
                  ? v.error
                  : v.checks
                      .filter((c) => c.ok === false)
                      .map((c) => c.name)
                      .join('; ')
              }`,
          )
          .join(' / ')}`
      : `${ran.map((v) => v.variant).join(', ')} held` +
        (unavailable.length > 0 ? `; NOT AVAILABLE in this build: ${unavailable.join(', ')}` : '')) +
    (unmeasured.length > 0 ? `; NOT MEASURED: ${unmeasured.join(', ')}` : '');
  const result = {
    held,
    summary,
    startedAt,
    seconds: perVariant * ran.length,
    secondsPerVariant: perVariant,
    seed: opts.seed,
    machine: `${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.versions.node}`,
    bounds: BOUNDS,
    unavailable,
    unmeasured,
    variants,
  };
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(path.join(opts.out, 'soak.json'), JSON.stringify(result, null, 1));
  writeFileSync(path.join(opts.out, 'soak.html'), renderSoakHtml(result));
  log(`wrote ${path.join(opts.out, 'soak.json')} and soak.html`);
  process.stdout.write(`soak: ${held ? 'HELD' : 'DID NOT HOLD'}: ${summary}\n`);
  if (unavailable.length > 0)
    process.stdout.write(`soak: NOT AVAILABLE in this build (not counted as passed): ${unavailable.join(', ')}\n`);
  if (unmeasured.length > 0)
    process.stdout.write(`soak: NOT MEASURED (not counted as passed): ${unmeasured.join(', ')}\n`);
  return held ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    log(`error: ${e.stack ?? e}`);
    process.exit(1);
  },
);
