/**
 * `etlt lab scaling`: the seed's three claims for epoll, measured on this machine. For each
 * backend (epoll, poll, select) and each count N of idle kept-alive connections, a fresh
 * `etlt serve --mode lt --backend B` holds the N connections (each made one request) while
 * a few busy keep-alive clients load it; the server's CPU per busy request and per wait,
 * its waits and syscalls per request, and its memory per connection show
 *
 * 1. one thread serving many connections (10,000 and more: req/s, bytes per connection),
 * 2. select stopping at FD_SETSIZE (its rows carry an `error`), poll and epoll going on,
 * 3. poll and select scanning every fd on every wait (their cost grows with N), epoll not.
 *
 * Every (backend, N) runs on one server process: the busy clients warm it up first (so
 * that the first row does not carry the JIT's warm-up), then the N idle connections open,
 * then the measured busy load runs beside them. The server's counters are read (SIGUSR1)
 * when the measured load begins and when it ends: their difference, like the CPU, is the
 * busy load's alone, and cannot be negative. A row whose figures still cannot be true is
 * marked `unreliable`, with the reason.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { FD_SETSIZE } from '../constants.js';
import { READINESS_BACKENDS as BACKENDS } from '../http/trigger/catalog.js';
import type { Backend } from '../http/trigger/catalog.js';
import { syscallsByKind } from '../trace/counters.js';
import type { AllCounters } from '../trace/counters.js';
import { HOLD_CONNECTIONS, canPin, fileLimit, labServeArgv, snapshotCounters, waitExit } from './children.js';
import type { ChildSet } from './children.js';
import { labVersion, runSteps } from './steps.js';
import { cpuTimeNs } from './cpu.js';
import type { LoadConfig, LoadResult } from './loadgen.js';
import { counterDelta, impossibleFigures } from './plausible.js';
import type { ScalingReport, ScalingRow } from './scaling-types.js';

export type { ScalingReport, ScalingRow } from './scaling-types.js';

/** Idle connection counts of a full run; one more decade when the fd limit allows it. */
const FULL_IDLE = [10, 100, 300, 1000, 3000, 10_000, 100_000];
/** A quick run: one count below FD_SETSIZE, one past it (select's row is an error). */
const QUICK_IDLE = [10, 1100];
/** Busy keep-alive clients beside the idle ones. */
const BUSY = 4;
/** Fds a server or a load generator holds besides its connections (Node's own, pipes, the listener). */
const FD_OVERHEAD = 100;

/** Kerrisk, The Linux Programming Interface, table 63-9: 100,000 operations, seconds of CPU. */
export const TLPI_TABLE_63_9 = {
  operations: 100_000,
  rows: [
    { fds: 10, poll: 0.61, select: 0.73, epoll: 0.41 },
    { fds: 100, poll: 2.9, select: 3.0, epoll: 0.42 },
    { fds: 1000, poll: 35, select: 35, epoll: 0.53 },
    { fds: 10_000, poll: 990, select: 930, epoll: 0.66 },
  ],
} as const;

/** What the experiment is told. */
export interface ScalingOptions {
  quick: boolean;
  /** Idle connection counts (default: QUICK_IDLE or FULL_IDLE within the fd limit). */
  idle?: readonly number[];
  /** Backends (default: all three). */
  backends?: readonly Backend[];
  onProgress?: (p: ScalingProgress) => void;
  signal?: AbortSignal;
}

/** Progress of a run: a row started, or done. */
export type ScalingProgress =
  | { kind: 'start'; index: number; total: number; backend: Backend; idle: number }
  | { kind: 'done'; index: number; total: number; row: ScalingRow };

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : 0);

/** The idle counts a full run can hold: each process needs N fds and some more. */
export function defaultIdleCounts(quick: boolean): number[] {
  const hard = fileLimit()[1];
  const counts = quick ? QUICK_IDLE : FULL_IDLE;
  return counts.filter((n) => n + BUSY + FD_OVERHEAD <= hard);
}

/** A server's resident memory in bytes (VmRSS of /proc/PID/status), 0 when gone. */
function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface Run {
  load: LoadResult;
  /** The counters when the measured load began (the idle connections open) and when it ended. */
  atStart: Record<string, number>;
  counters: Record<string, number>;
  /** Server CPU over the busy load, in ns. */
  cpuNs: number;
  /** Server memory after the warm-up (no connection open) and once the idle ones were all open. */
  rssBefore: number;
  rssIdle: number;
}

function serverArgv(backend: Backend, statsFile: string): string[] {
  return [
    '--mode',
    'lt',
    '--backend',
    backend,
    ...labServeArgv(statsFile),
    // Idle connections are held for the whole run.
    ...HOLD_CONNECTIONS,
    // Every connection must reach the backend, as in the seed.
    '--defer-accept',
    'off',
  ];
}

async function runOnce(
  children: ChildSet,
  backend: Backend,
  idle: number,
  requests: number,
  warmup: number,
  seconds: number,
  statsFile: string,
): Promise<Run> {
  const fds = idle + BUSY + FD_OVERHEAD;
  const { child, port } = await children.startServer(serverArgv(backend, statsFile), fds);
  const pid = child.pid!;
  const cfg: LoadConfig = {
    host: '127.0.0.1',
    port,
    concurrency: BUSY,
    requests,
    seconds,
    pieces: 1,
    pieceDelayMs: 0,
    padHeader: 0,
    slowReadMs: 0,
    timeoutMs: 5000,
    persistent: true,
    depth: 1,
    idleConnections: idle,
    warmupRequests: warmup,
    gated: true,
  };
  let load: ReturnType<ChildSet['startLoad']> | undefined;
  try {
    let rssBefore = rssBytes(pid);
    let rssIdle = rssBefore;
    let atStart: Record<string, number> = {};
    let cpu0 = cpuTimeNs(pid);
    load = children.startLoad(
      cfg,
      {
        progress: () => {},
        warm: () => (rssBefore = rssBytes(pid)),
        busy: async () => {
          rssIdle = rssBytes(pid);
          atStart = await snapshotCounters(child, statsFile);
          cpu0 = cpuTimeNs(pid);
        },
      },
      fds,
    );
    const result = await load.result;
    const cpuNs = cpuTimeNs(pid) - cpu0;
    const counters = await snapshotCounters(child, statsFile);
    return { load: result, atStart, counters, cpuNs, rssBefore, rssIdle };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await waitExit(child, 2000);
    await load?.stop();
  }
}

/** The waits a backend itself made (epoll_wait, poll or select): the ones whose cost may grow with N. `c` in today's names. */
function backendWaits(c: Record<string, number>): number {
  return (c['waits'] ?? 0) + (c['turnWaits'] ?? 0);
}

function row(backend: Backend, idle: number, m: Run): ScalingRow {
  const { delta: c, fell } = counterDelta(m.counters, m.atStart);
  const n = Math.max(1, m.load.completed);
  const waits = backendWaits(c);
  const kinds = syscallsByKind(c as unknown as AllCounters, backend);
  const syscalls = Object.values(kinds).reduce((a, b) => a + b, 0);
  const r: ScalingRow = {
    backend,
    mode: 'lt',
    idle,
    busy: BUSY,
    idleHeld: m.load.idle?.held ?? 0,
    requests: m.load.completed,
    errors: m.load.errors + m.load.stalled,
    rps: round(m.load.completed / Math.max(m.load.seconds, 1e-9), 0),
    usPerRequest: round(m.cpuNs / 1000 / n, 1),
    usPerWait: round(m.cpuNs / 1000 / Math.max(1, waits), 2),
    waitsPerRequest: round(waits / n),
    eventsPerWait: round((c['events'] ?? 0) / Math.max(1, c['waits'] ?? 0)),
    syscallsPerRequest: round(syscalls / n),
    // Below a thousand connections the heap's own growth (JIT, buffers) drowns theirs.
    rssBytesPerConnection: idle >= 1000 ? Math.max(0, Math.round((m.rssIdle - m.rssBefore) / idle)) : null,
    shed: m.counters['overFdLimit'] ?? 0,
  };
  const why = [...fell.map((k) => `the counter ${k} fell during the run`), ...impossibleFigures(r, NOT_FIGURES)];
  if (why.length > 0) r.unreliable = why.join('; ');
  return r;
}

/** Keys of a row that are context, not figures checked by {@link impossibleFigures}. */
const NOT_FIGURES = new Set(['backend', 'mode', 'error', 'unreliable']);

/** A row that cannot run: select with more fds than FD_SETSIZE, or a count past the fd limit. */
function errorRow(backend: Backend, idle: number, error: string, shed = 0): ScalingRow {
  return {
    backend,
    mode: 'lt',
    idle,
    busy: BUSY,
    idleHeld: 0,
    requests: 0,
    errors: 0,
    rps: null,
    usPerRequest: null,
    usPerWait: null,
    waitsPerRequest: null,
    eventsPerWait: null,
    syscallsPerRequest: null,
    rssBytesPerConnection: null,
    shed,
    error,
  };
}

/** Runs the experiment and returns its report. */
export async function runScaling(options: ScalingOptions): Promise<ScalingReport> {
  const idleCounts = [...(options.idle ?? defaultIdleCounts(options.quick))];
  const backends = [...(options.backends ?? BACKENDS)];
  const requests = options.quick ? 1000 : 20_000;
  // Enough for V8's optimising tier: opening N idle connections is N more requests, and the
  // rows with few of them must not be the colder ones.
  const warmup = options.quick ? 3000 : 10_000;
  const seconds = options.quick ? 1 : 5;
  const report: ScalingReport = {
    experiment: 'scaling',
    version: labVersion(),
    startedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), node: process.version, kernel: release(), pinned: canPin() },
    quick: options.quick,
    busy: BUSY,
    requestsPerRow: requests,
    fdSetSize: FD_SETSIZE,
    fileLimit: fileLimit()[1],
    backends,
    idleCounts,
    rows: [],
    published: TLPI_TABLE_63_9,
  };
  const rows = idleCounts.flatMap((idle) => backends.map((backend) => ({ idle, backend })));
  await runSteps(rows, options.signal, 'etlt-scaling-', async ({ idle, backend }, { children, dir, index, total }) => {
    options.onProgress?.({ kind: 'start', index, total, backend, idle });
    const r = await measureRow(children, backend, idle, requests, warmup, seconds, dir);
    if (options.signal?.aborted) return;
    report.rows.push(r);
    options.onProgress?.({ kind: 'done', index, total, row: r });
  });
  return report;
}

async function measureRow(
  children: ChildSet,
  backend: Backend,
  idle: number,
  requests: number,
  warmup: number,
  seconds: number,
  dir: string,
): Promise<ScalingRow> {
  const hard = fileLimit()[1];
  if (idle + BUSY + FD_OVERHEAD > hard)
    return errorRow(backend, idle, `${idle} connections need more open files than the hard limit ${hard} (ulimit -Hn)`);
  const m = await runOnce(children, backend, idle, requests, warmup, seconds, join(dir, `${backend}-${idle}.json`));
  // Measured, not predicted: the server sheds each connection whose fd select cannot watch.
  const shed = m.atStart['overFdLimit'] ?? 0;
  if (shed > 0) {
    return errorRow(
      backend,
      idle,
      `select(2) cannot watch an fd of FD_SETSIZE (${FD_SETSIZE}) or more: the server shed ${shed} of ${idle} idle connections`,
      shed,
    );
  }
  // The busy clients' fds come after the idle ones': they may be the ones past the limit.
  const shedBusy = (m.counters['overFdLimit'] ?? 0) - shed;
  if (shedBusy > 0) {
    return errorRow(
      backend,
      idle,
      `select(2) cannot watch an fd of FD_SETSIZE (${FD_SETSIZE}) or more: the server shed ${shedBusy} connections of the busy clients beside ${idle} idle ones`,
      shedBusy,
    );
  }
  return row(backend, idle, m);
}
