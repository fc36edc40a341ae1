/**
 * `etlt serve --workers N`: the supervising parent's side of the command. The pool itself
 * (src/cluster/) starts, replaces and stops the workers; this prints what it does, and
 * turns signals into its calls.
 */
import { writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { BALANCES } from '../cluster/balance.js';
import type { Balance } from '../cluster/balance.js';
import { WorkerPool } from '../cluster/pool.js';
import type { WorkerExit } from '../cluster/pool.js';
import type { WorkerServerOptions } from '../cluster/protocol.js';
import type { WorkerPoolStats } from '../cluster/stats.js';
import { EtltUsageError } from '../errors.js';
import type { HttpServerStats } from '../http/server.js';
import type { Backend, Mode } from '../http/trigger/catalog.js';
import type { OptionSpec, ParsedOptions } from './options.js';
import { choiceOption, integerOption } from './options.js';
import type { Printer } from './printer.js';
import { stopRequested } from './stop-signals.js';

/** The options `serve` takes for worker processes (in its table). */
export const WORKER_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'workers',
    value: 'N|auto',
    help: 'worker processes, each with its own event loop and epoll set, under this\none (default 1: this process serves; auto: one per CPU)',
  },
  {
    name: 'balance',
    value: 'KIND',
    help:
      'how workers share the port: reuseport (default; a listener each, SO_REUSEPORT),\n' +
      'exclusive (one inherited listener, EPOLLEXCLUSIVE) or shared (one inherited\n' +
      'listener, every worker woken: the thundering herd); see docs/balance.md',
  },
];

/** The most workers `--workers` takes. */
const MAX_WORKERS = 256;

/** Checks `--workers` and `--balance`. */
export function workerArgs(v: ParsedOptions): { workers: number; balance: Balance } {
  const workers =
    v['workers'] === 'auto'
      ? Math.min(MAX_WORKERS, availableParallelism())
      : integerOption(v, 'workers', 1, 1, MAX_WORKERS);
  const balance = choiceOption(v, 'balance', 'reuseport', BALANCES);
  if (workers > 1 && v['trace'] !== undefined)
    throw new EtltUsageError('--trace records one event loop: it needs --workers 1');
  return { workers, balance };
}

/** What the parent needs of `serve`'s arguments. */
export interface WorkerServeArgs {
  mode: Mode;
  workers: number;
  balance: Balance;
  quiet: boolean;
  closeTimeoutMs: number;
  stopOnStdinEof: boolean;
  /** An inherited listener the workers share (--fd, systemd socket activation). */
  fd: number | undefined;
}

/** What `serve` lends the parent: its printers and files, and its formats. */
export interface WorkerServeIo {
  out: Printer;
  err: Printer;
  statsFd: number;
  usr1: { handler: () => void };
  formatStats: (s: HttpServerStats) => string;
  startLine: (
    host: string,
    port: number,
    mode: Mode,
    root: string | undefined,
    backend: Backend,
    workers: string,
  ) => string;
}

/** Each worker's counters on a line, then the totals in `serve`'s own format. */
export function formatPoolStats(s: WorkerPoolStats, formatStats: (s: HttpServerStats) => string): string {
  const lines = s.workers.map((w) => {
    const t = w.stats;
    const cpuMs = ((w.cpu.user + w.cpu.system) / 1000).toFixed(0);
    const line =
      `etlt: worker ${w.index} pid=${w.pid}${w.live ? '' : ' (exited)'}: connections=${t.connections} requests=${t.requests} ` +
      `wake-ups=${t.wakeups} listener-events=${t.listenerEvents} empty-accepts=${t.listenerEmpty} cpu-ms=${cpuMs}`;
    const m = w.live ? w.memory : undefined;
    return m === undefined
      ? line
      : `${line}\netlt: worker ${w.index} memory rss=${m.rss} heap-used=${m.heapUsed} heap-total=${m.heapTotal} external=${m.external}`;
  });
  lines.push(`etlt: ${s.workers.length} workers' counters (balance ${s.balance}, replaced ${s.replaced}), in total:`);
  return [...lines, formatStats(s.total)].join('\n');
}

function describeExit(e: WorkerExit): string {
  const then = e.restartInMs === undefined ? '' : `; replacing it in ${e.restartInMs} ms`;
  return `etlt: worker ${e.index} (pid ${e.pid}) ${e.cause}${then}`;
}

/** Runs the pool until SIGINT/SIGTERM (or the end of stdin); resolves with the exit code. */
export async function serveWorkers(
  args: WorkerServeArgs,
  server: WorkerServerOptions,
  io: WorkerServeIo,
): Promise<number> {
  const { out, err } = io;
  const pool = new WorkerPool({
    workers: args.workers,
    balance: args.balance,
    server,
    printRequests: !args.quiet,
    closeTimeoutMs: args.closeTimeoutMs,
    ...(args.fd === undefined ? {} : { fd: args.fd }),
  });
  let stopping = false;
  pool.on('exit', (e: WorkerExit) => {
    if (!stopping || e.code !== 0) err.line(describeExit(e));
  });
  pool.on('error', (e: Error) => err.line(`etlt: ${e.message}`));
  // Signal handlers go in before the start line: whoever reads that line may signal at once.
  const signals = stopRequested(args.stopOnStdinEof);
  const { host, port } = await pool.start();
  io.usr1.handler = () => {
    void pool.stats().then((s) => err.line(formatPoolStats(s, io.formatStats)));
  };
  out.line(
    io.startLine(
      host,
      port,
      args.mode,
      server.root === undefined ? undefined : resolve(server.root),
      server.backend ?? 'epoll',
      `, ${args.workers} workers, balance ${args.balance}`,
    ),
  );
  const first = await signals;
  stopping = true;
  const again = (signal: string) => {
    err.line(`etlt: ${signal} again: stopping the workers now`);
    void pool.stop(0);
  };
  process.on('SIGINT', again);
  process.on('SIGTERM', again);
  err.line(
    `etlt: ${first}: stopping ${args.workers} workers; they finish responses in flight (up to ${args.closeTimeoutMs} ms)`,
  );
  const final = await pool.stop(args.closeTimeoutMs);
  io.usr1.handler = () => {};
  if (args.stopOnStdinEof) process.stdin.destroy();
  err.line(formatPoolStats(final, io.formatStats));
  if (io.statsFd >= 0) writeSync(io.statsFd, JSON.stringify({ stats: final.total, ...final }));
  return pool.cutOff ? 130 : 0;
}
