/**
 * `etlt lab`: every strategy under every workload, each pair on a fresh server process
 * (pinned to CPU 0 when there are two) with the load generator in its own process (CPU 1).
 * Server CPU comes from the kernel's per-thread run time (/proc/PID/task/TID/schedstat,
 * nanoseconds), syscalls from the server's own counters. A result whose figures cannot be
 * true (below zero, a share above 100%) is kept but marked `unreliable`, with the reason.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { FACTS } from '../http/trigger/catalog.js';
import type { Mode } from '../http/trigger/catalog.js';
import { syscallsByKind } from '../trace/counters.js';
import type { AllCounters } from '../trace/counters.js';
import { oneOf } from '../validate.js';
import { canPin, checkFiles, labServeArgv, snapshotCounters, waitExit } from './children.js';
import type { ChildSet } from './children.js';
import { labVersion, runSteps } from './steps.js';
import { RESULT_CONTEXT, counterDelta, impossibleFigures } from './plausible.js';
import type { LoadConfig, LoadResult } from './loadgen.js';
import { cpuTimeNs as cpuNs } from './cpu.js';
import type { ConnectionCost, LabReport, LabResult, TimelineWait } from './types.js';
import { WORKLOADS, WORKLOAD_NAMES } from './workloads.js';
import type { Workload } from './workloads.js';

export { WORKLOADS, WORKLOAD_NAMES } from './workloads.js';

/** Progress of a lab run, for the CLI's display. */
export type LabProgress =
  | { kind: 'start'; index: number; total: number; strategy: string; workload: string }
  | {
      kind: 'progress';
      index: number;
      total: number;
      strategy: string;
      workload: string;
      finished: number;
      planned: number;
    }
  | { kind: 'done'; index: number; total: number; result: LabResult };

/** Options of {@link runLab}. */
export interface LabOptions {
  strategies: readonly Mode[];
  workloads: readonly string[];
  quick: boolean;
  onProgress?: (p: LabProgress) => void;
  /** Aborting stops every child process, removes the run's files and rejects with ABORT_ERR. */
  signal?: AbortSignal;
}

/** The machine's steal and total CPU ticks so far (/proc/stat, first line). */
function cpuTicks(): { steal: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { steal: fields[7] ?? 0, total: fields.reduce((a, b) => a + b, 0) };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : 0);

/** What one server process measured: its counters, and the load's own figures. */
interface Measured {
  load: LoadResult;
  /** The counters at the end of the measured load. */
  counters: Record<string, number>;
  /** With idle connections: the counters when the measured load began (they were all open and answered). */
  atStart?: Record<string, number>;
  /** Server CPU and the machine's ticks over the measured load (from the load generator's "busy" to its result). */
  cpuNs: number;
  ticks: { steal: number; total: number };
  timeline: TimelineWait[];
  connections: ConnectionCost[];
}

/** The server's options for workload `w`. */
function serverArgv(strategy: Mode, w: Workload, dir: string, statsFile: string): string[] {
  const argv = [
    '--mode',
    strategy,
    ...labServeArgv(statsFile),
    '--idle-timeout',
    '2',
    '--trace',
    w.timeline ? '60' : w.load.persistent ? '20' : '0',
    // The lab studies epoll's modes: every connection must reach epoll, as in the seed.
    '--defer-accept',
    'off',
  ];
  if (w.load.persistent) {
    // Kept-alive connections last the whole run: no keep-alive timeout or request limit ends one.
    argv.push('--keepalive-timeout', '600', '--max-requests', '1000000');
  }
  if (w.bodyBytes > 0) {
    const body = join(dir, 'body.bin');
    if (!existsSync(body)) writeFileSync(body, Buffer.alloc(w.bodyBytes, 'x'));
    argv.push('--body', body);
  }
  return argv;
}

/**
 * Runs `cfg` against a fresh server for `strategy` under `w`. With idle connections, the
 * server's counters are read twice, from the same process: when the idle connections are
 * all open and the measured load is about to begin, and when it has ended (before the server
 * stops and closes the idle connections). Their difference is what the measured load cost
 * beside the idle connections: it cannot be negative, as a separate baseline run's could.
 */
async function measure(
  children: ChildSet,
  strategy: Mode,
  w: Workload,
  cfg: Omit<LoadConfig, 'port'>,
  dir: string,
  progress: (n: number) => void,
): Promise<Measured> {
  const statsFile = join(dir, `${strategy}-${w.name}.json`);
  const { child, port } = await children.startServer(serverArgv(strategy, w, dir, statsFile), w.fds ?? 0);
  const pid = child.pid!;
  const idle = (cfg.idleConnections ?? 0) > 0;
  let load: ReturnType<ChildSet['startLoad']> | undefined;
  try {
    let atStart: Record<string, number> | undefined;
    let cpu0 = cpuNs(pid);
    let ticks0 = cpuTicks();
    load = children.startLoad(
      { ...cfg, port, gated: idle },
      {
        progress,
        busy: async () => {
          if (idle) atStart = await snapshotCounters(child, statsFile);
          cpu0 = cpuNs(pid);
          ticks0 = cpuTicks();
        },
      },
      w.fds ?? 0,
    );
    const result = await load.result;
    const cpu1 = cpuNs(pid);
    const ticks1 = cpuTicks();
    const atEnd = idle ? await snapshotCounters(child, statsFile) : undefined;
    child.kill('SIGTERM');
    await waitExit(child, 5000);
    const saved = JSON.parse(readFileSync(statsFile, 'utf8')) as {
      stats: Record<string, number>;
      timeline: TimelineWait[];
      connections?: ConnectionCost[];
    };
    return {
      load: result,
      counters: atEnd ?? saved.stats,
      ...(atStart ? { atStart } : {}),
      cpuNs: cpu1 - cpu0,
      ticks: { steal: ticks1.steal - ticks0.steal, total: ticks1.total - ticks0.total },
      timeline: saved.timeline ?? [],
      connections: (saved.connections ?? []).slice(0, 20),
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await waitExit(child, 2000);
    await load?.stop();
  }
}

/** The result of `strategy` under `w` from a run `m`: with idle connections, what the measured load alone cost. */
function toResult(strategy: Mode, w: Workload, m: Measured): LabResult {
  const { load } = m;
  const { delta: c, fell } = m.atStart ? counterDelta(m.counters, m.atStart) : { delta: m.counters, fell: [] };
  // Per completed request; a strategy that completed none is charged per attempt instead.
  const n = Math.max(1, load.completed > 0 ? load.completed : load.attempted);
  const get = (k: string) => c[k] ?? 0;
  const kinds = syscallsByKind(c as unknown as AllCounters);
  const sys = { epoll_wait: 0, epoll_ctl: 0, accept4: 0, recvfrom: 0, sendto: 0, shutdown: 0, close: 0 };
  for (const k of Object.keys(sys) as (keyof typeof sys)[]) sys[k] = kinds[k] ?? 0;
  const total = Object.values(sys).reduce((a, b) => a + b, 0);
  const per = (v: number) => round(v / n);
  const sorted = [...load.latenciesMs].sort((a, b) => a - b);
  const result: LabResult = {
    strategy,
    workload: w.name,
    attempted: load.attempted,
    completed: load.completed,
    stalled: load.stalled,
    errors: load.errors,
    seconds: round(load.seconds, 3),
    rps: round(load.completed / Math.max(load.seconds, 1e-9), 0),
    cpuUsPerRequest: round(m.cpuNs / 1000 / n, 1),
    p50Ms: round(percentile(sorted, 50), 3),
    p99Ms: round(percentile(sorted, 99), 3),
    syscallsPerRequest: {
      total: per(total),
      epoll_wait: per(sys.epoll_wait),
      epoll_ctl: per(sys.epoll_ctl),
      accept4: per(sys.accept4),
      recvfrom: per(sys.recvfrom),
      sendto: per(sys.sendto),
      shutdown: per(sys.shutdown),
      close: per(sys.close),
    },
    idleWaitsPerRequest: per(get('idleWaits')),
    eventsPerWait: round(get('events') / Math.max(1, get('waits'))),
    uselessEventsPerRequest: per(get('useless')),
    stealPercent: round((100 * m.ticks.steal) / Math.max(1, m.ticks.total), 1),
    connections: get('connections'),
    requestsPerConnection: round(get('requests') / Math.max(1, get('connections'))),
    reconnects: load.reconnects,
    counters: m.counters,
  };
  if (load.idle !== undefined) result.idle = load.idle;
  if (m.atStart !== undefined) result.countersAtStart = m.atStart;
  const why = [
    ...fell.map((k) => `the counter ${k} fell during the run`),
    ...impossibleFigures(result, RESULT_CONTEXT),
  ];
  if (why.length > 0) result.unreliable = why.join('; ');
  return result;
}

/**
 * Runs one strategy under one workload on a fresh server process. With idle connections,
 * the figures are those of the busy load beside them (opening them, their one request each
 * and their closing are not counted), per busy request.
 */
async function runPair(
  children: ChildSet,
  strategy: Mode,
  w: Workload,
  quick: boolean,
  dir: string,
  progress: (n: number, planned: number) => void,
): Promise<{ result: LabResult; timeline: TimelineWait[]; connections: ConnectionCost[] }> {
  const planned = quick ? w.load.quickRequests : w.load.requests;
  const { quickRequests: _q, requests: _r, ...shape } = w.load;
  const cfg = { ...shape, host: '127.0.0.1', requests: planned, seconds: quick ? 3 : 6 };
  const m = await measure(children, strategy, w, cfg, dir, (n) => progress(n, planned));
  return { result: toResult(strategy, w, m), timeline: m.timeline, connections: m.connections };
}

/** Runs the lab and returns its report. */
export async function runLab(options: LabOptions): Promise<LabReport> {
  const workloads = options.workloads.map((name) =>
    WORKLOADS.find((x) => x.name === oneOf(name, 'workloads', WORKLOAD_NAMES))!,
  );
  for (const s of options.strategies) oneOf(s, 'strategies', Object.keys(FACTS));
  for (const w of workloads) if (w.fds !== undefined) checkFiles(w.fds, `the ${w.name} workload`);
  const report: LabReport = {
    version: labVersion(),
    startedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), node: process.version, kernel: release(), pinned: canPin() },
    strategies: [...options.strategies],
    workloads: workloads.map((w) => ({ name: w.name, description: w.description })),
    results: [],
    timelines: {},
    descriptions: Object.fromEntries(options.strategies.map((s) => [s, FACTS[s].description])),
  };
  const pairs = workloads.flatMap((w) => options.strategies.map((strategy) => ({ w, strategy })));
  await runSteps(pairs, options.signal, 'etlt-lab-', async ({ w, strategy }, { children, dir, index, total }) => {
    options.onProgress?.({ kind: 'start', index, total, strategy, workload: w.name });
    const { result, timeline, connections } = await runPair(
      children,
      strategy,
      w,
      options.quick,
      dir,
      (finished, planned) =>
        options.onProgress?.({ kind: 'progress', index, total, strategy, workload: w.name, finished, planned }),
    );
    if (options.signal?.aborted) return;
    report.results.push(result);
    if (w.timeline) {
      report.timelines[strategy] = timeline;
      (report.connections ??= {})[strategy] = connections;
    } else if (w.load.persistent) {
      ((report.connectionsByWorkload ??= {})[w.name] ??= {})[strategy] = connections;
    }
    options.onProgress?.({ kind: 'done', index, total, result });
  });
  return report;
}
