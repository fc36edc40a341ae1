// The persistent-connection suites, keep-alive and pipelined: the same
// servers (KEEPALIVE_SERVERS, and with BENCH_BEFORE the other checkout's etlt
// rows), started once for both, loaded by wrk over connections that stay open
// for the whole run.
import path from 'node:path';

import { CONFIG, ONLY, OUT, ROOT } from './config.mjs';
import { settle } from './cpu.mjs';
import { have } from './machine.mjs';
import { straceRun, summarize, timedRuns } from './measure.mjs';
import { stop } from './processes.mjs';
import { fmt } from './report.mjs';
import { KEEPALIVE_SERVERS, alive, launch, withBefore } from './servers.mjs';
import { wrkKeepAliveArgv, wrkPipelineArgv } from './tools.mjs';

const PIPELINE_LUA = path.join(ROOT, 'bench', 'pipeline.lua');

export const PERSISTENT_SUITES = {
  keepalive: {
    name: 'keepalive',
    title: 'keep-alive: wrk, HTTP/1.1, one request at a time on each connection, connections kept for the run',
    label: 'keep-alive',
    targets: { cpuVsC: 1.5, syscallsPerReq: 3 },
    // io_uring's own (issue 22): syscalls/request, and CPU/request at c=500 against etlt ET's in the same run.
    uringTargets: { syscallsPerReq: 0.5, cpuVsEtAt500: 0.9 },
    argv: (port, c, durationS) => wrkKeepAliveArgv(port, c, durationS),
  },
  pipelined: {
    name: 'pipelined',
    title: `pipelined: wrk with bench/pipeline.lua, ${CONFIG.persistent.depth} requests per write (TechEmpower plaintext), connections kept for the run`,
    label: 'pipelined',
    targets: { cpuVsC: 3, syscallsPerReq: 0.3 },
    uringTargets: { syscallsPerReq: 0.05 },
    argv: (port, c, durationS) => wrkPipelineArgv(port, c, durationS, PIPELINE_LUA, CONFIG.persistent.depth),
  },
};

/**
 * Runs the named persistent suites ('keepalive', 'pipelined'); returns, per suite, one
 * entry per server (skipped ones with their reason) with its runs, its strace run per
 * concurrency (`straces[c]`) and its summary rows.
 */
export async function runPersistent(names) {
  const entries = Object.fromEntries(names.map((n) => [n, []]));
  if (!have('wrk')) {
    console.error(`bench: wrk not available: the ${names.join(' and ')} suites are skipped`);
    return entries;
  }
  const launched = [];
  try {
    for (const server of withBefore(KEEPALIVE_SERVERS)) {
      if (ONLY && !ONLY.includes(server.name)) continue;
      console.error(`- ${server.label}: starting and warming up`);
      const l = await launch(server, `keepalive-${server.name}`);
      if (l.entry.skipped) {
        console.error(`  did not start: ${l.entry.reason}`);
        for (const n of names) entries[n].push({ ...l.entry });
        continue;
      }
      l.entries = {};
      for (const n of names) entries[n].push((l.entries[n] = { ...l.entry, runs: [], straces: {} }));
      launched.push(l);
    }
    for (const n of names) {
      const suite = PERSISTENT_SUITES[n];
      const view = launched.map((l) => ({ ...l, entry: l.entries[n] }));
      console.error(`${suite.name}:`);
      const plan = CONFIG.persistent.concurrency.map((c) => ({
        label: suite.label,
        tool: 'wrk',
        c,
        spec: (l) => ({ tool: 'wrk', concurrency: c, argv: suite.argv(l.port, c, CONFIG.persistent.durationS) }),
      }));
      await timedRuns(view, plan, CONFIG.rounds);
      if (!have('strace')) continue;
      for (const l of view) {
        for (const c of CONFIG.persistent.concurrency) {
          if (!alive(l)) continue;
          await settle(l.pid);
          const file = path.join(OUT, `strace-${n}-${l.entry.name}-c${c}.txt`);
          const t = await straceRun(file, l.pid, 'wrk', suite.argv(l.port, c, CONFIG.persistent.straceDurationS));
          l.entry.straces[c] = t;
          if (t.error) console.error(`  ${l.entry.name}: ${t.error}`);
          else
            console.error(
              `  ${l.entry.name.padEnd(9)} c=${String(c).padEnd(3)} strace ${fmt.n(t.totalPerReq, 3)} syscalls/req`,
            );
        }
      }
    }
  } finally {
    for (const l of launched) {
      const { code, signal } = await stop(l.child);
      for (const e of Object.values(l.entries)) e.exit = { code, signal };
    }
  }
  for (const n of names) summarize(entries[n]);
  return entries;
}
