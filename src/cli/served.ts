/**
 * What `etlt serve` serves, behind the one lifecycle of lifecycle.ts: one HttpServer in this
 * process, or a WorkerPool.
 */
import { resolve } from 'node:path';
import { extendWorkers } from '../cluster/extension.js';
import { WorkerPool } from '../cluster/pool.js';
import type { WorkerExit } from '../cluster/pool.js';
import type { WorkerPoolOptions } from '../cluster/options.js';
import type { HttpServerOptions } from '../http/options.js';
import { HttpServer } from '../http/server.js';
import { memoryFigures, memoryLine } from '../trace/memory.js';
import { WaitTrace } from '../trace/timeline.js';
import type { LifecycleIo } from './lifecycle.js';
import { serveUntilStopped } from './lifecycle.js';
import { attachAccessLog } from './access-log.js';
import { requestLines } from './request-lines.js';
import { asUsage } from './usage.js';
import { describeExit, formatPoolStats, formatStats, startLine } from './serve-format.js';
import { PRINT_REQUESTS } from './worker-print.js';

/** One HttpServer in this process. */
export function serveOne(
  options: HttpServerOptions,
  args: { quiet: boolean; trace: number; accessLog: string | undefined },
  io: LifecycleIo,
): Promise<number> {
  if (!args.quiet) options.onRequest = (request) => io.out.line(requestLines(request));
  const server = asUsage(() => new HttpServer(options));
  server.on('error', (e: Error) => io.err.line(`etlt: ${e.message}`));
  const endLog = args.accessLog === undefined ? undefined : attachAccessLog(server, args.accessLog, io);
  const trace = args.trace > 0 ? new WaitTrace(args.trace) : undefined;
  if (trace) server.setRecorder(trace.record);
  return serveUntilStopped(
    {
      start: () => {
        const { host, port } = server.listen();
        return Promise.resolve(startLine(host, port, server.mode, server.root, server.backend));
      },
      statsNow: () => Promise.resolve(`${formatStats(server.stats())}\n${memoryLine()}`),
      snapshotJson: () => ({ snapshot: true, stats: server.stats() }),
      stopping: (ms) => `no longer accepting; finishing responses in flight (up to ${ms} ms)`,
      again: 'exiting now',
      stop: async (ms) => {
        await server.close(ms);
        await endLog?.();
        const stats = server.stats();
        return {
          text: formatStats(stats),
          cutOff: false,
          json: {
            stats,
            cpu: process.cpuUsage(),
            timeline: trace?.waits ?? [],
            connections: server.connectionRecords(),
            memory: memoryFigures(),
          },
        };
      },
    },
    io,
  );
}

/** A pool of worker processes. */
export function servePool(options: WorkerPoolOptions, quiet: boolean, io: LifecycleIo): Promise<number> {
  const pool = asUsage(() => new WorkerPool(options));
  if (!quiet) extendWorkers(pool, PRINT_REQUESTS);
  // Exits while starting are told by start()'s error; those while stopping only when they failed.
  let serving = false;
  let stopping = false;
  pool.on('exit', (e: WorkerExit) => {
    if (serving && (!stopping || e.code !== 0)) io.err.line(describeExit(e));
  });
  pool.on('error', (e: Error) => io.err.line(`etlt: a replacement worker could not start: ${e.message}`));
  const server = options.server ?? {};
  return serveUntilStopped(
    {
      start: async () => {
        const { host, port } = await pool.start();
        serving = true;
        const root = server.root === undefined ? undefined : resolve(server.root);
        const workers = `, ${pool.workers} workers, balance ${pool.balance}`;
        return startLine(host, port, pool.mode, root, pool.backend, workers);
      },
      statsNow: async () => formatPoolStats(await pool.stats()),
      stopping: (ms) => {
        stopping = true;
        return `stopping ${pool.workers} workers; they finish responses in flight (up to ${ms} ms)`;
      },
      again: 'stopping the workers now',
      stop: async (ms) => {
        stopping = true;
        const final = await pool.stop(ms);
        return { text: formatPoolStats(final), cutOff: pool.cutOff, json: { stats: final.total, ...final } };
      },
    },
    io,
  );
}
