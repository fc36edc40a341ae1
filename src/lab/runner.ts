/**
 * `etlt lab`: every strategy under every workload, each pair on a fresh server process
 * (pinned to CPU 0 when there are two) with the load generator in its own process (CPU 1).
 * Server CPU comes from the kernel's per-thread run time (/proc/PID/task/TID/schedstat,
 * nanoseconds), syscalls from the server's own counters.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { syscallsByKind } from '../trace/counters.js';
import { cpuTimeNs as cpuNs } from './cpu.js';
import type { ServerCounters } from '../trace/counters.js';
import type { LoadConfig, LoadResult } from './loadgen.js';
import type { ConnectionCost, LabReport, LabResult, TimelineWait } from './types.js';

/** A workload: how the load generator behaves. */
export interface Workload {
  name: string;
  description: string;
  load: Omit<LoadConfig, 'host' | 'port' | 'requests' | 'seconds'> & { requests: number; quickRequests: number };
  /** Response body size in bytes (0: the seed's 13 bytes). */
  bodyBytes: number;
  /** Record the first epoll_wait returns for the timeline. */
  timeline: boolean;
}

const TIMEOUT_MS = 1000;

/** The workloads, in the order they run. */
export const WORKLOADS: readonly Workload[] = [
  {
    name: 'sequential',
    description: 'one connection per request, one at a time (the seed\'s own use)',
    load: { concurrency: 1, requests: 1500, quickRequests: 300, pieces: 1, pieceDelayMs: 0, padHeader: 0, slowReadMs: 0, timeoutMs: TIMEOUT_MS },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'concurrent',
    description: '100 connections at once, one request each, over and over',
    load: { concurrency: 100, requests: 6000, quickRequests: 1500, pieces: 1, pieceDelayMs: 0, padHeader: 0, slowReadMs: 0, timeoutMs: TIMEOUT_MS },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'split',
    description: 'each request written in 4 pieces 2 ms apart, 20 at once',
    load: { concurrency: 20, requests: 1500, quickRequests: 300, pieces: 4, pieceDelayMs: 2, padHeader: 0, slowReadMs: 0, timeoutMs: TIMEOUT_MS },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'big-head',
    description: 'a 3 KiB request head in one write (three recv(1024) worth), one at a time: the timeline workload',
    load: { concurrency: 1, requests: 1500, quickRequests: 300, pieces: 1, pieceDelayMs: 0, padHeader: 3000, slowReadMs: 0, timeoutMs: TIMEOUT_MS },
    bodyBytes: 0,
    timeline: true,
  },
  {
    name: 'slow-reader',
    description: 'an 8 MiB response (more than the socket buffers hold) to clients that pause 1 ms after each chunk, 4 at once',
    load: { concurrency: 4, requests: 24, quickRequests: 8, pieces: 1, pieceDelayMs: 0, padHeader: 0, slowReadMs: 1, timeoutMs: 8000 },
    bodyBytes: 8 << 20,
    timeline: false,
  },
];

/** What each strategy is. */
export const DESCRIPTIONS: Record<string, string> = {
  'seed-lt': 'the seed\'s LT loop: EPOLLIN, modify to EPOLLOUT, modify to 0 + shutdown, close on EPOLLHUP (its hangs fixed)',
  'seed-et': 'the seed\'s ET loop: the same modify pattern with EPOLLET, draining each edge (its hangs fixed)',
  lt: 'etlt serve --mode lt: EPOLLIN for life, EPOLLOUT only while a send would block, close when done',
  et: 'etlt serve --mode et: registered once with IN|OUT|RDHUP|ET, never modified, drained with bounded turns',
  'et-no-drain': 'pitfall: ET but one accept and one recv(1024) per edge: data left behind waits for an edge that never comes',
  'lt-always-out': 'pitfall: LT with EPOLLOUT armed from accept to close: every wait reports every idle writable socket',
};

/** Progress of a lab run, for the CLI's display. */
export type LabProgress =
  | { kind: 'start'; index: number; total: number; strategy: string; workload: string }
  | { kind: 'progress'; index: number; total: number; strategy: string; workload: string; finished: number; planned: number }
  | { kind: 'done'; index: number; total: number; result: LabResult };

/** Options of {@link runLab}. */
export interface LabOptions {
  strategies: string[];
  workloads: string[];
  quick: boolean;
  onProgress?: (p: LabProgress) => void;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const CLI = join(here, '..', 'cli', 'main.js');
const LOADGEN = join(here, '..', 'cli', 'loadgen.js');

function pinned(cpu: number, argv: string[]): [string, string[]] {
  if (availableParallelism() >= 2 && existsSync('/usr/bin/taskset')) return ['/usr/bin/taskset', ['-c', String(cpu), ...argv]];
  return [argv[0]!, argv.slice(1)];
}

/** The machine's steal and total CPU ticks so far (/proc/stat, first line). */
function cpuTicks(): { steal: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { steal: fields[7] ?? 0, total: fields.reduce((a, b) => a + b, 0) };
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

async function startServer(argv: string[]): Promise<{ child: ChildProcess; port: number }> {
  const [cmd, args] = pinned(0, [process.execPath, CLI, 'serve', ...argv]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout! });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 10000);
    lines.on('line', (line) => {
      const m = /serving on http:\/\/[^ ]*:(\d+)\//.exec(line);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server exited (${code}) before serving: ${stderr}`));
    });
  });
  return { child, port };
}

function runLoadProcess(cfg: LoadConfig, onProgress: (n: number) => void): Promise<LoadResult> {
  const [cmd, args] = pinned(1, [process.execPath, LOADGEN, JSON.stringify(cfg)]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    let result: LoadResult | undefined;
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as { progress?: number; result?: LoadResult };
      if (msg.progress !== undefined) onProgress(msg.progress);
      if (msg.result !== undefined) result = msg.result;
    });
    child.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`load generator failed (exit ${code})`));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : 0);

/** Runs one strategy under one workload on a fresh server process. */
async function runPair(strategy: string, w: Workload, quick: boolean, dir: string, progress: (n: number, planned: number) => void): Promise<{ result: LabResult; timeline: TimelineWait[]; connections: ConnectionCost[] }> {
  const statsFile = join(dir, `${strategy}-${w.name}.json`);
  const argv = ['--mode', strategy, '--host', '127.0.0.1', '--port', '0', '--quiet', '--stats-json', statsFile,
    '--idle-timeout', '2', '--close-timeout', '1', '--trace', w.timeline ? '60' : '0',
    // The lab studies epoll's modes: every connection must reach epoll, as in the seed.
    '--defer-accept', 'off'];
  if (w.bodyBytes > 0) {
    const body = join(dir, 'body.bin');
    if (!existsSync(body)) writeFileSync(body, Buffer.alloc(w.bodyBytes, 'x'));
    argv.push('--body', body);
  }
  const { child, port } = await startServer(argv);
  try {
    const planned = quick ? w.load.quickRequests : w.load.requests;
    const { quickRequests: _q, requests: _r, ...shape } = w.load;
    const cfg: LoadConfig = { ...shape, host: '127.0.0.1', port, requests: planned, seconds: quick ? 3 : 6 };
    const cpu0 = cpuNs(child.pid!);
    const ticks0 = cpuTicks();
    const load = await runLoadProcess(cfg, (n) => progress(n, planned));
    const cpu1 = cpuNs(child.pid!);
    const ticks1 = cpuTicks();
    child.kill('SIGTERM');
    await waitExit(child, 5000);
    const saved = JSON.parse(readFileSync(statsFile, 'utf8')) as { stats: Record<string, number>; timeline: TimelineWait[]; connections?: ConnectionCost[] };
    const c = saved.stats;
    // Per completed request; a strategy that completed none is charged per attempt instead.
    const n = Math.max(1, load.completed > 0 ? load.completed : load.attempted);
    const get = (k: string) => c[k] ?? 0;
    const kinds = syscallsByKind(c as unknown as ServerCounters);
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
      cpuUsPerRequest: round((cpu1 - cpu0) / 1000 / n, 1),
      p50Ms: round(percentile(sorted, 50), 3),
      p99Ms: round(percentile(sorted, 99), 3),
      syscallsPerRequest: {
        total: per(total), epoll_wait: per(sys.epoll_wait), epoll_ctl: per(sys.epoll_ctl), accept4: per(sys.accept4),
        recvfrom: per(sys.recvfrom), sendto: per(sys.sendto), shutdown: per(sys.shutdown), close: per(sys.close),
      },
      idleWaitsPerRequest: per(get('idleWaits')),
      eventsPerWait: round(get('events') / Math.max(1, get('epollWait'))),
      uselessEventsPerRequest: per(get('useless')),
      stealPercent: round((100 * (ticks1.steal - ticks0.steal)) / Math.max(1, ticks1.total - ticks0.total), 1),
      counters: c,
    };
    return { result, timeline: saved.timeline ?? [], connections: (saved.connections ?? []).slice(0, 20) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await waitExit(child, 2000);
  }
}

/** Runs the lab and returns its report. */
export async function runLab(options: LabOptions): Promise<LabReport> {
  const workloads = options.workloads.map((name) => {
    const w = WORKLOADS.find((x) => x.name === name);
    if (!w) throw new RangeError(`unknown workload '${name}' (known: ${WORKLOADS.map((x) => x.name).join(', ')})`);
    return w;
  });
  for (const s of options.strategies) {
    if (!Object.hasOwn(DESCRIPTIONS, s)) throw new RangeError(`unknown strategy '${s}' (known: ${Object.keys(DESCRIPTIONS).join(', ')})`);
  }
  const pkg = JSON.parse(readFileSync(join(here, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  const report: LabReport = {
    version: pkg.version,
    startedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), node: process.version, kernel: release(), pinned: availableParallelism() >= 2 && existsSync('/usr/bin/taskset') },
    strategies: options.strategies,
    workloads: workloads.map((w) => ({ name: w.name, description: w.description })),
    results: [],
    timelines: {},
    descriptions: Object.fromEntries(options.strategies.map((s) => [s, DESCRIPTIONS[s]!])),
  };
  const dir = mkdtempSync(join(tmpdir(), 'etlt-lab-'));
  const total = workloads.length * options.strategies.length;
  let index = 0;
  try {
    for (const w of workloads) {
      for (const strategy of options.strategies) {
        index++;
        options.onProgress?.({ kind: 'start', index, total, strategy, workload: w.name });
        const { result, timeline, connections } = await runPair(strategy, w, options.quick, dir, (finished, planned) =>
          options.onProgress?.({ kind: 'progress', index, total, strategy, workload: w.name, finished, planned }));
        report.results.push(result);
        if (w.timeline) {
          report.timelines[strategy] = timeline;
          (report.connections ??= {})[strategy] = connections;
        }
        options.onProgress?.({ kind: 'done', index, total, result });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}
