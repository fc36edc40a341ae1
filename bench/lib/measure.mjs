// One timed load run, the strace run, the interleaved rounds, and the
// summary of a server's rounds.
import fs from 'node:fs';

import { HARD_TIMEOUT_S, NOISY_PERCENT, STRACE_TIMEOUT_S } from './config.mjs';
import { CLK_TCK, otherTicks, processTree, serverCpuNs, settle, snapshot, stealTicks } from './cpu.mjs';
import { CLIENT_CPU, pinned, tcpCounters } from './machine.mjs';
import { killGroup, run, sleep, start, stop, tail } from './processes.mjs';
import { alive } from './servers.mjs';
import { parseAb, parseStraceSummary, parseWrk } from './tools.mjs';
import { fmt, median } from './report.mjs';

/**
 * One timed run of `spec` ({ tool: 'wrk' | 'ab', concurrency, argv, csvPath? })
 * against the server `serverPid`, with the CPU figures around it.
 */
export async function loadRun(spec, serverPid) {
  const { tool, concurrency: c, argv, csvPath } = spec;
  if (csvPath) fs.rmSync(csvPath, { force: true });
  const tcpBefore = tcpCounters();
  const stealBefore = stealTicks();
  const before = snapshot();
  const cpuBefore = serverCpuNs(serverPid);
  const t0 = process.hrtime.bigint();
  const r = await run(pinned(CLIENT_CPU, argv), HARD_TIMEOUT_S);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuAfter = serverCpuNs(serverPid);
  const other = otherTicks(before, snapshot());
  const steal = stealTicks() - stealBefore;
  const tcpAfter = tcpCounters();
  const tcp = Object.fromEntries(Object.keys(tcpAfter).map((k) => [k, tcpAfter[k] - (tcpBefore[k] ?? 0)]));
  let csv = '';
  try {
    if (tool === 'ab' && csvPath) csv = fs.readFileSync(csvPath, 'utf8');
  } catch {
    // ab stopped before writing it: fall back to the text table
  }
  const parsed = tool === 'wrk' ? parseWrk(r.stdout) : parseAb(r.stdout, csv);
  // A server that died during the run took its time with it: its share is unknown, not zero.
  const ns = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  const cpuS = ns === null ? null : ns / 1e9;
  const result = {
    tool,
    concurrency: c,
    command: argv.join(' '),
    ...parsed,
    wallS,
    serverCpuNs: ns,
    serverCpuS: cpuS,
    serverCpuPercent: cpuS === null ? null : (100 * cpuS) / wallS,
    otherCpuPercent: (100 * other) / CLK_TCK / wallS,
    stealPercent: (100 * steal) / CLK_TCK / wallS,
    tcp,
    cpuUsPerReq: cpuS !== null && parsed.requests > 0 ? (cpuS * 1e6) / parsed.requests : null,
  };
  const problems = [];
  if (r.timedOut) problems.push(`killed after ${HARD_TIMEOUT_S}s`);
  if (r.code !== 0 && !r.timedOut) problems.push(`exit ${r.code ?? r.signal}: ${tail(r.stderr || r.stdout, 3)}`);
  if (parsed.requests === 0) problems.push('no request completed');
  else if (parsed.errorCount > parsed.requests * 0.01)
    problems.push(`${parsed.errorCount} errors ${JSON.stringify(parsed.errors)}`);
  if (problems.length > 0) result.problems = problems;
  result.noisy = result.otherCpuPercent > NOISY_PERCENT || result.stealPercent > NOISY_PERCENT;
  return result;
}

/** Every thread of pid is traced once its TracerPid is set. */
function allTraced(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).every((tid) => {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      return !/^TracerPid:\s+0$/m.test(status);
    });
  } catch {
    return false;
  }
}

/**
 * Syscall counts: strace attached to the server (and its threads and
 * children, -f) while `argv` (ab or wrk, by `tool`) loads it; the requests
 * are those the tool completed.
 */
export async function straceRun(outFile, serverPid, tool, argv) {
  fs.rmSync(outFile, { force: true });
  // Every process of the server's tree: -f follows only children forked after attaching,
  // and `--workers N` forks its workers at start.
  const pids = processTree(serverPid);
  const tracer = start([
    'strace',
    '-c',
    '-f',
    '-U',
    'name,calls',
    '-o',
    outFile,
    ...pids.flatMap((p) => ['-p', String(p)]),
  ]);
  let stderr = '';
  tracer.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const deadline = Date.now() + 5000;
  const traced = () => pids.every((p) => allTraced(p));
  while (Date.now() < deadline && !traced() && tracer.exitCode === null) await sleep(20);
  if (!traced()) {
    await stop(tracer);
    return { error: `strace did not attach: ${tail(stderr, 3)}` };
  }
  const r = await run(pinned(CLIENT_CPU, argv), STRACE_TIMEOUT_S);
  const load = tool === 'wrk' ? parseWrk(r.stdout) : parseAb(r.stdout);
  // SIGINT makes strace detach and write its summary; it is sent to strace
  // alone, never to the traced server.
  try {
    process.kill(tracer.pid, 'SIGINT');
  } catch {
    // gone
  }
  const timer = setTimeout(() => killGroup(tracer, 'SIGKILL'), 5000);
  await tracer.exited;
  clearTimeout(timer);
  let summary = { total: 0, byKind: {} };
  try {
    summary = parseStraceSummary(fs.readFileSync(outFile, 'utf8'));
  } catch {
    return { error: `no strace summary: ${tail(stderr, 3)}` };
  }
  const requests = load.requests;
  const per = (k) => (requests > 0 ? (k ?? 0) / requests : null);
  const top = Object.entries(summary.byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([name, calls]) => ({ name, calls, perReq: per(calls) }));
  return {
    command: `strace -c -f -p PID  +  ${argv.join(' ')}`,
    requests,
    errors: load.errors,
    seconds: load.seconds,
    totalCalls: summary.total,
    totalPerReq: per(summary.total),
    epollWaitPerReq: per(
      (summary.byKind.epoll_wait ?? 0) + (summary.byKind.epoll_pwait ?? 0) + (summary.byKind.epoll_pwait2 ?? 0),
    ),
    epollCtlPerReq: per(summary.byKind.epoll_ctl),
    byKind: top,
  };
}

/**
 * The timed runs, interleaved: for each step of `plan` ({ label, tool, c,
 * spec(l) }), `rounds` rounds, each running every server once, in an order
 * rotated by one per round. A burst of noise from the host (steal) or another
 * job then hits one run of several, in no fixed position, and the medians
 * see through it; servers measured minutes apart would not be comparable.
 */
export async function timedRuns(launched, plan, rounds) {
  for (const { label, tool, c, spec } of plan) {
    for (let round = 0; round < rounds; round++) {
      const order = launched.map((_, i) => launched[(i + round) % launched.length]);
      for (const l of order) {
        if (!alive(l)) {
          l.entry.died ??= `server exited (code ${l.child.exitCode}, signal ${l.child.signalCode}) before ${tool} c=${c}`;
          continue;
        }
        await settle(l.pid);
        const r = await loadRun(spec(l), l.pid);
        r.round = round;
        l.entry.runs.push(r);
        const note =
          (r.problems ? `  ! ${r.problems.join('; ')}` : '') +
          (r.noisy
            ? `  * other processes used ${fmt.n(r.otherCpuPercent)}% of a CPU, steal ${fmt.n(r.stealPercent)}%`
            : '') +
          (r.tcp.TCPSynRetrans || r.tcp.ListenOverflows || r.tcp.ListenDrops
            ? `  (machine-wide: ${r.tcp.TCPSynRetrans} SYN retransmits, ${r.tcp.ListenOverflows} listen overflows, ${r.tcp.ListenDrops} listen drops)`
            : '');
        console.error(
          `  ${label.padEnd(3)} c=${String(c).padEnd(3)} round ${round + 1}/${rounds}  ${l.entry.name.padEnd(9)} ${fmt.n(r.rps).padStart(6)} req/s  ${fmt.n(r.cpuUsPerReq, 1).padStart(6)} us CPU/req${note}`,
        );
      }
    }
  }
}

/**
 * One row per (server, tool, concurrency) from its rounds: medians, the CPU range, and the
 * CPU ratio to the base server (`baseName`) as the median of each round's ratio (each
 * server against the base's run of the same round, minutes closer in time than the other
 * rounds).
 */
export function summarize(results, baseName = 'c') {
  const base = results.find((s) => s.name === baseName && !s.skipped);
  for (const s of results) {
    if (s.skipped) continue;
    const keys = [...new Set(s.runs.map((r) => `${r.tool} ${r.concurrency}`))];
    s.summary = keys.map((key) => {
      const runs = s.runs.filter((r) => `${r.tool} ${r.concurrency}` === key);
      const baseRuns = base ? base.runs.filter((r) => `${r.tool} ${r.concurrency}` === key) : [];
      const ratios = runs.map((r) => {
        const b = baseRuns.find((x) => x.round === r.round);
        return b && b.cpuUsPerReq && r.cpuUsPerReq ? r.cpuUsPerReq / b.cpuUsPerReq : null;
      });
      const cpus = runs.map((r) => r.cpuUsPerReq).filter((x) => x !== null);
      return {
        tool: runs[0].tool,
        concurrency: runs[0].concurrency,
        rounds: runs.length,
        rps: median(runs.map((r) => r.rps)),
        rpsVsC: median(
          runs.map((r) => {
            const b = baseRuns.find((x) => x.round === r.round);
            return b && b.rps ? r.rps / b.rps : null;
          }),
        ),
        p50Ms: median(runs.map((r) => r.p50Ms)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        cpuUsPerReq: median(cpus),
        cpuMin: cpus.length ? Math.min(...cpus) : null,
        cpuMax: cpus.length ? Math.max(...cpus) : null,
        cpuVsC: median(ratios),
        serverCpuPercent: median(runs.map((r) => r.serverCpuPercent)),
        otherCpuPercent: median(runs.map((r) => r.otherCpuPercent)),
        stealPercent: median(runs.map((r) => r.stealPercent)),
        noisyRounds: runs.filter((r) => r.noisy).length,
        requests: runs.reduce((a, r) => a + r.requests, 0),
        errorCount: runs.reduce((a, r) => a + r.errorCount, 0),
        problems: runs.some((r) => r.problems),
      };
    });
  }
}
