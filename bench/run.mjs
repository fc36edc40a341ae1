#!/usr/bin/env node
// The benchmark suite (`npm run bench`). It starts each server pinned to
// CPU 0, loads it from CPU 1 with wrk and ab, measures req/s, latency, the
// server's CPU time per request and, in a separate run under strace, its
// syscalls per request, and prints every figure as a ratio against the C
// baseline measured in the same run. Results also go to bench/out/results.json.
// Four suites:
//
//   close      one connection per request (HTTP/1.0 semantics), wrk and ab
//   keepalive  wrk over HTTP/1.1 connections kept for the whole run
//   pipelined  the same with 16 requests per write (bench/pipeline.lua)
//   idle       memory per idle keep-alive connection (bench/idle.mjs)
//   static     files of 1 KiB, 64 KiB, 16 MiB over keep-alive: etlt --root, nginx sendfile, sirv (bench/static.mjs)
//
// It never fails because the machine was slow: it exits non-zero only when it
// could not run at all (no load generator, no build of etlt's CPU measure in
// dist/, or no server started).
//
//   npm run bench                  full run, 3 interleaved rounds, about 12 minutes
//   BENCH_ROUNDS=5 npm run bench   more rounds, steadier medians
//   BENCH_QUICK=1 npm run bench    smoke run, one round, about 3 minutes
//   BENCH_ONLY=c,nginx npm run bench   only the named servers (in every suite)
//   BENCH_SUITES=keepalive,idle npm run bench   only some suites (default: all four)
//   BENCH_BEFORE=../before npm run bench   also the etlt rows of another (built) checkout,
//                                  named before:etlt-et, before:etlt-handler-et, ..., in the
//                                  keepalive, pipelined and static suites, interleaved with
//                                  this checkout's in the same rounds; BENCH_ONLY takes the
//                                  names too (BENCH_ONLY=c,etlt-et,before:etlt-et). A row whose
//                                  file that checkout lacks "did not start", with the reason.
//
// docs/benchmarks.md explains every column.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runIdle } from './idle.mjs';
import { runStatic, staticReport } from './static.mjs';
import { BEFORE, CONFIG, NOISY_PERCENT, ONLY, OUT, QUICK, SUITES, UNKNOWN_SUITES } from './lib/config.mjs';
import { CLK_TCK, cpuUnavailable, settle } from './lib/cpu.mjs';
import { CLIENT_CPU, CPUS, PIN, SERVER_CPU, ensureTools, have } from './lib/machine.mjs';
import { straceRun, summarize, timedRuns } from './lib/measure.mjs';
import { PERSISTENT_SUITES, runPersistent } from './lib/persistent.mjs';
import { cleanupSync, installCleanup, stop } from './lib/processes.mjs';
import { fmt, idleReport, persistentReport, report } from './lib/report.mjs';
import { CLOSE_SERVERS, alive, launch } from './lib/servers.mjs';
import { abArgv, wrkArgv } from './lib/tools.mjs';

installCleanup();

/** The BENCH_BEFORE checkout and its commit (null when it is no git checkout), or null. */
function beforeCheckout() {
  if (!BEFORE) return null;
  const git = spawnSync('git', ['-C', BEFORE, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' });
  return { dir: BEFORE, commit: git.status === 0 ? git.stdout.trim() : null };
}

/** The close suite: one connection per request, every server of CLOSE_SERVERS. */
async function runClose() {
  const launched = [];
  const results = [];
  try {
    for (const server of CLOSE_SERVERS) {
      if (ONLY && !ONLY.includes(server.name)) continue;
      console.error(`- ${server.label}: starting and warming up`);
      const l = await launch(server);
      if (l.entry.skipped) console.error(`  skipped: ${l.entry.reason}`);
      else launched.push(l);
      results.push(l.entry);
    }
    const plan = [];
    const csvPath = (l, c) => path.join(OUT, `ab-${l.server.name}-c${c}.csv`);
    if (have('wrk')) {
      for (const c of CONFIG.wrk.concurrency) {
        plan.push({
          label: 'wrk',
          tool: 'wrk',
          c,
          spec: (l) => ({ tool: 'wrk', concurrency: c, argv: wrkArgv(l.port, c, CONFIG.wrk.durationS) }),
        });
      }
    }
    if (have('ab')) {
      for (const c of CONFIG.ab.concurrency) {
        plan.push({
          label: 'ab',
          tool: 'ab',
          c,
          spec: (l) => ({
            tool: 'ab',
            concurrency: c,
            argv: abArgv(l.port, c, CONFIG.ab.n, CONFIG.ab.timeLimitS, csvPath(l, c)),
            csvPath: csvPath(l, c),
          }),
        });
      }
    }
    await timedRuns(launched, plan, CONFIG.rounds);
    if (have('strace') && have('ab')) {
      for (const l of launched) {
        if (!alive(l)) continue;
        await settle(l.pid);
        const { n, c } = CONFIG.strace;
        l.entry.strace = await straceRun(
          path.join(OUT, `strace-${l.server.name}.txt`),
          l.pid,
          'ab',
          abArgv(l.port, c, n, null),
        );
        if (l.entry.strace.error) console.error(`  ${l.entry.name}: ${l.entry.strace.error}`);
        else console.error(`  ${l.entry.name.padEnd(9)} strace ${fmt.n(l.entry.strace.totalPerReq, 2)} syscalls/req`);
      }
    }
  } finally {
    for (const l of launched) {
      const { code, signal } = await stop(l.child);
      l.entry.exit = { code, signal };
    }
  }
  summarize(results);
  return results;
}

const measured = (entries) => (entries ?? []).some((s) => !s.skipped && s.runs?.some((r) => r.requests > 0));

async function main() {
  const t0 = Date.now();
  fs.mkdirSync(OUT, { recursive: true });
  if (UNKNOWN_SUITES.length > 0)
    console.error(
      `bench: no suite named ${UNKNOWN_SUITES.join(', ')} (known: close, keepalive, pipelined, idle, static)`,
    );
  if (SUITES.length === 0) {
    console.error('bench: no suite to run');
    return 1;
  }
  ensureTools();
  if (!have('wrk') && !have('ab')) {
    console.error('bench: neither wrk nor ab is available: cannot run');
    return 1;
  }
  if (cpuUnavailable()) {
    console.error(`bench: cannot measure the servers' CPU: ${cpuUnavailable()}`);
    return 1;
  }
  if (!PIN) console.error(`bench: not pinning (taskset ${have('taskset') ? 'present' : 'missing'}, ${CPUS} CPUs)`);
  console.error(
    `bench: ${QUICK ? 'quick' : 'full'} run; server on CPU ${SERVER_CPU}, load on CPU ${CLIENT_CPU}; CLK_TCK=${CLK_TCK}; suites ${SUITES.join(', ')}`,
  );
  const before = beforeCheckout();
  if (before) {
    console.error(
      `bench: BENCH_BEFORE ${before.dir} (${before.commit ?? 'no git commit'}): its etlt rows are named before:NAME (keepalive, pipelined, static)`,
    );
  }
  const suites = {};
  let results = [];
  if (SUITES.includes('close')) results = await runClose();
  const persistent = SUITES.filter((s) => s in PERSISTENT_SUITES);
  if (persistent.length > 0) Object.assign(suites, await runPersistent(persistent));
  if (SUITES.includes('idle')) {
    console.error('idle:');
    suites.idle = await runIdle();
  }
  if (SUITES.includes('static')) {
    console.error('static:');
    suites.static = await runStatic();
  }
  const elapsedS = (Date.now() - t0) / 1000;
  const doc = {
    date: new Date().toISOString(),
    quick: QUICK,
    elapsedS,
    machine: {
      cpus: CPUS,
      cpuModel: os.cpus()[0]?.model,
      kernel: os.release(),
      node: process.version,
      clkTck: CLK_TCK,
      // the servers' CPU time: per-thread run time from schedstat, by src/lab/cpu.ts
      serverCpu: 'schedstat',
      pinned: PIN,
    },
    config: CONFIG,
    suites: SUITES,
    before,
    servers: results,
    keepalive: suites.keepalive,
    pipelined: suites.pipelined,
    idle: suites.idle,
    static: suites.static,
  };
  fs.writeFileSync(path.join(OUT, 'results.json'), `${JSON.stringify(doc, null, 2)}\n`);
  const printed = [];
  if (SUITES.includes('close')) printed.push(report(results));
  for (const name of persistent) printed.push(persistentReport(PERSISTENT_SUITES[name], suites[name]));
  if (suites.idle) printed.push(idleReport(suites.idle, CONFIG.idle.connections));
  if (suites.static) printed.push(staticReport(suites.static));
  console.log(printed.join('\n\n'));
  console.log(
    `\n${QUICK ? 'quick' : 'full'} run, ${elapsedS.toFixed(0)} s, ${CONFIG.rounds} round(s) per row; figures are medians over the rounds; ` +
      "xC = median of each round's ratio to the C server; results in bench/out/results.json",
  );
  const all = [results, ...persistent.map((n) => suites[n])];
  if (all.some((entries) => entries.some((s) => s.summary?.some((r) => r.noisyRounds > 0)))) {
    console.log(
      `* processes outside the bench, or the host (steal), took more than ${NOISY_PERCENT}% of a CPU during that run: its figures are noisy`,
    );
  }
  if (all.some((entries) => entries.some((s) => s.runs?.some((r) => r.problems)))) {
    console.log('! see the problems listed in results.json (errors, timeouts)');
  }
  const idleRan = (suites.idle ?? []).some((s) => !s.skipped && !s.error);
  const staticRan = (suites.static ?? []).some((s) => !s.skipped && s.runs.some((r) => r.requests > 0));
  return all.some(measured) || idleRan || staticRan ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error('bench: could not run:', err);
} finally {
  cleanupSync();
}
process.exitCode = code;
