/**
 * `etlt lab balance`: N workers under the same connection-per-request load for each way of
 * sharing the accept load, once with every worker equal and once with one of them slow,
 * reporting per worker the connections it accepted, its wake-ups, the wake-ups that found
 * nothing to accept, and the latency of the requests it answered. The workers are a
 * `WorkerPool` of this process; the load generator runs in its own process.
 */
import { availableParallelism, release } from 'node:os';
import { BALANCE_DESCRIPTIONS } from '../cluster/balance.js';
import type { Balance } from '../cluster/balance.js';
import { extendWorkers } from '../cluster/extension.js';
import { WorkerPool } from '../cluster/pool.js';
import { labKnobs } from './worker-knobs.js';
import type { Mode } from '../http/trigger/catalog.js';
import { balanceFindings } from './balance-findings.js';
import type { BalanceReport, BalanceRow, BalanceScenario, BalanceWorker } from './balance-types.js';
import { impossibleFigures } from './plausible.js';
import type { ChildSet } from './children.js';
import { labVersion, runSteps } from './steps.js';
import { cpuTimeNs } from './cpu.js';
import type { LoadResult } from './loadgen.js';

/** The hold of the excl-hold kind: long enough that a busy worker waits in its own set. */
const HOLD_MS = 10;

/** The kinds the lab compares: the herd in both trigger modes, and the two cures. */
export const BALANCE_KINDS: readonly {
  name: string;
  balance: Balance;
  mode: Mode;
  description: string;
  holdMs?: number;
}[] = [
  { name: 'shared-lt', balance: 'shared', mode: 'lt', description: `${BALANCE_DESCRIPTIONS.shared}; level-triggered` },
  { name: 'shared-et', balance: 'shared', mode: 'et', description: `${BALANCE_DESCRIPTIONS.shared}; edge-triggered` },
  {
    name: 'exclusive',
    balance: 'exclusive',
    mode: 'et',
    description:
      'one inherited listener, registered with EPOLLEXCLUSIVE, meant to wake one worker per connection (whether it does here: the finding beside its row)',
  },
  // EPOLLEXCLUSIVE stops the wake-ups at the first epoll set with a thread waiting in
  // epoll_wait on it (fs/eventpoll.c, ep_poll_callback). A worker's set is nested in libuv's,
  // which waits on it only through poll: then every exclusive entry is woken, as if shared.
  // Holding the loop in the worker's own set (--hold) makes the worker such a waiter.
  {
    name: 'excl-hold',
    balance: 'exclusive',
    mode: 'et',
    holdMs: HOLD_MS,
    description: `the same, with --hold ${HOLD_MS}: each worker waits in epoll_wait on its own set while busy`,
  },
  { name: 'reuseport', balance: 'reuseport', mode: 'et', description: BALANCE_DESCRIPTIONS.reuseport },
];

/** Progress, for the CLI's display. */
export type BalanceProgress =
  | { kind: 'start'; index: number; total: number; scenario: string; balance: string }
  | { kind: 'done'; index: number; total: number; row: BalanceRow };

/** Options of {@link runBalance}. */
export interface BalanceOptions {
  workers: number;
  quick: boolean;
  onProgress?: (p: BalanceProgress) => void;
  /** Aborting stops the workers and the load generator and rejects with ABORT_ERR. */
  signal?: AbortSignal;
}

/** Connections in flight at once: more than the workers, so that several wait in the accept queue. */
const CONCURRENCY = 32;
/** The slow worker's busy time per request. */
const SLOW_MS = 2;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : 0);

function latency(ms: readonly number[]): { p50Ms: number; p99Ms: number; maxMs: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    p50Ms: round(percentile(sorted, 50), 3),
    p99Ms: round(percentile(sorted, 99), 3),
    maxMs: round(sorted[sorted.length - 1] ?? 0, 3),
  };
}

function stdev(ms: readonly number[]): number {
  if (ms.length === 0) return 0;
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  return Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / ms.length);
}

/** Runs one kind in one scenario on a fresh pool. */
async function runOne(
  kind: (typeof BALANCE_KINDS)[number],
  scenario: BalanceScenario,
  workers: number,
  requests: number,
  children: ChildSet,
): Promise<BalanceRow> {
  const pool = new WorkerPool({
    workers,
    balance: kind.balance,
    // As in the trigger lab: every connection reaches epoll.
    server: {
      host: '127.0.0.1',
      port: 0,
      mode: kind.mode,
      deferAccept: false,
      idleTimeoutMs: 2000,
      ...(kind.holdMs === undefined ? {} : { holdMs: kind.holdMs }),
    },
    closeTimeoutMs: 1000,
  });
  // The lab's knobs: each worker tags its answers, and the scenario's slow worker spins.
  extendWorkers(pool, labKnobs(scenario.busyMs > 0 ? { index: 0, busyMs: scenario.busyMs } : undefined));
  let load: ReturnType<ChildSet['startLoad']> | undefined;
  try {
    const { port } = await pool.start();
    const pids = pool.pids;
    let cpu0 = pids.map((pid) => cpuTimeNs(pid));
    load = children.startLoad(
      {
        host: '127.0.0.1',
        port,
        concurrency: CONCURRENCY,
        requests,
        seconds: 30,
        pieces: 1,
        pieceDelayMs: 0,
        padHeader: 0,
        slowReadMs: 0,
        timeoutMs: 5000,
        byBody: true,
      },
      {
        progress: () => {},
        busy: () => {
          cpu0 = pids.map((pid) => cpuTimeNs(pid));
        },
      },
    );
    const result: LoadResult = await load.result;
    const cpuMs = pids.map((pid, i) => (cpuTimeNs(pid) - cpu0[i]!) / 1e6);
    const final = await pool.stop();
    const detail: BalanceWorker[] = pids.map((pid, index) => {
      const w = final.workers.find((x) => x.pid === pid);
      return {
        index,
        accepted: w?.stats.connections ?? 0,
        wakeups: w?.stats.wakeups ?? 0,
        acceptEagain: w?.stats.listenerEmpty ?? 0,
        ...latency(result.byBody?.[`worker ${index}\n`] ?? []),
        cpuMs: round(cpuMs[index] ?? 0, 1),
      };
    });
    const accepted = detail.reduce((a, w) => a + w.accepted, 0);
    const n = Math.max(1, result.completed);
    const row: BalanceRow = {
      scenario: scenario.name,
      balance: kind.name,
      serveBalance: kind.balance,
      mode: kind.mode,
      workers,
      perWorker: detail.map((w) => w.accepted),
      wakeupsPerAccept: round(detail.reduce((a, w) => a + w.wakeups, 0) / Math.max(1, accepted)),
      acceptEagain: detail.reduce((a, w) => a + w.acceptEagain, 0),
      ...latency(result.latenciesMs),
      stdevMs: round(stdev(result.latenciesMs), 3),
      completed: result.completed,
      errors: result.errors,
      stalled: result.stalled,
      rps: round(result.completed / Math.max(result.seconds, 1e-9), 0),
      cpuUsPerRequest: round((cpuMs.reduce((a, b) => a + b, 0) * 1000) / n, 1),
      detail,
    };
    const impossible = impossibleFigures(row, new Set(['scenario', 'balance', 'serveBalance', 'mode']));
    if (impossible.length > 0) row.unreliable = impossible.join('; ');
    return row;
  } finally {
    await pool.stop(0);
    await load?.stop();
  }
}

/** Runs every kind in both scenarios and returns the report. */
export async function runBalance(options: BalanceOptions): Promise<BalanceReport> {
  const requests = options.quick ? 1000 : 20_000;
  const scenarios: BalanceScenario[] = [
    { name: 'even', description: 'every worker equal', busyMs: 0 },
    {
      name: 'slow-worker',
      description: `worker 0 busy ${SLOW_MS} ms per request (a request that costs CPU, a worker on a busy core)`,
      busyMs: SLOW_MS,
    },
  ];
  const report: BalanceReport = {
    experiment: 'balance',
    version: labVersion(),
    startedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), node: process.version, kernel: release() },
    workers: options.workers,
    concurrency: CONCURRENCY,
    requests,
    scenarios,
    balances: BALANCE_KINDS.map((k) => ({ name: k.name, description: k.description })),
    rows: [],
  };
  const runs = scenarios.flatMap((scenario) => BALANCE_KINDS.map((kind) => ({ scenario, kind })));
  await runSteps(runs, options.signal, undefined, async ({ scenario, kind }, { children, index, total }) => {
    options.onProgress?.({ kind: 'start', index, total, scenario: scenario.name, balance: kind.name });
    const row = await runOne(kind, scenario, options.workers, requests, children);
    if (options.signal?.aborted) return;
    report.rows.push(row);
    options.onProgress?.({ kind: 'done', index, total, row });
  });
  report.findings = balanceFindings(report);
  return report;
}
