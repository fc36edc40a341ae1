/**
 * Counters of a pool of workers: each worker's, and their sum.
 */
import type { HttpServerStats } from '../http/server.js';
import type { Balance } from './balance.js';
import type { CpuUsage, WorkerMemory } from './protocol.js';

/** One worker's counters, as it last reported them. */
export interface WorkerStats {
  /** Its slot, 0 to N-1. */
  index: number;
  pid: number;
  /** Whether the process was still running when these were taken. */
  live: boolean;
  stats: HttpServerStats;
  cpu: CpuUsage;
  /** Its memory when it last answered a stats request (none before the first). */
  memory?: WorkerMemory;
}

/** The pool's counters: per worker (those that have exited included), and the totals. */
export interface WorkerPoolStats {
  balance: Balance;
  /** Workers started to replace ones that died. */
  replaced: number;
  workers: WorkerStats[];
  total: HttpServerStats;
  cpu: CpuUsage;
}

/** Adds counters field by field; the other fields (the backend) are the first one's. */
export function sumStats(all: readonly HttpServerStats[], mode: HttpServerStats['mode']): HttpServerStats {
  const total: Record<string, unknown> = { mode };
  for (const s of all) {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === 'number') total[k] = ((total[k] as number | undefined) ?? 0) + v;
      else if (!(k in total)) total[k] = v;
    }
  }
  return total as unknown as HttpServerStats;
}

/** Adds CPU times. */
export function sumCpu(all: readonly CpuUsage[]): CpuUsage {
  return all.reduce((a, c) => ({ user: a.user + c.user, system: a.system + c.system }), { user: 0, system: 0 });
}
