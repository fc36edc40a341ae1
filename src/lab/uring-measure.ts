/**
 * One row of `etlt lab uring`: a fresh server and a load against it, measured from /proc
 * (CPU of every thread, context switches) and from the server's own counters (syscalls),
 * and the figures per request made of them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { syscallsByKind } from '../trace/counters.js';
import type { AllCounters } from '../trace/counters.js';
import { waitExit } from './children.js';
import type { ChildSet } from './children.js';
import type { LoadResult } from './loadgen.js';
import { loadConfig, serverArgv } from './uring-plan.js';
import type { Files, UringWorkload } from './uring-plan.js';
import type { UringRow } from './uring-types.js';

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : 0);
const TICK_US = 1e6 / 100;

/** utime and stime of a process (every thread, live or exited), in clock ticks. */
function cpuTicks(pid: number): { user: number; sys: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]), sys: Number(f[12]) };
  } catch {
    return { user: 0, sys: 0 };
  }
}

/**
 * CPU time of the process's live threads in ns (/proc/PID/task/TID/schedstat, exact where
 * the ticks of /proc/PID/stat are 10 ms apart): the total the verdict compares.
 */
function threadsCpuNs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // A thread that ended meanwhile.
      }
    }
  } catch {
    return 0;
  }
  return ns;
}

/** Context switches summed over the process's threads (each thread's status counts its own). */
function contextSwitches(pid: number): number {
  let n = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
        n += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
      } catch {
        // A thread that ended meanwhile.
      }
    }
  } catch {
    return 0;
  }
  return n;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Measured {
  load: LoadResult;
  counters: Record<string, number>;
  user: number;
  sys: number;
  cpuNs: number;
  switches: number;
}

export async function measure(
  children: ChildSet,
  server: { name: string; argv: readonly string[] },
  w: UringWorkload,
  quick: boolean,
  statsFile: string,
  files: Files,
): Promise<Measured> {
  const idle = w.load(quick).idleConnections ?? 0;
  const fds = idle + 600;
  const { child, port } = await children.startServer(serverArgv(server, statsFile, files, w), fds);
  const pid = child.pid!;
  let load: ReturnType<ChildSet['startLoad']> | undefined;
  try {
    let cpu0 = cpuTicks(pid);
    let ns0 = threadsCpuNs(pid);
    let sw0 = contextSwitches(pid);
    load = children.startLoad(
      loadConfig(port, w, quick),
      {
        progress: () => {},
        // The idle connections are open: the busy load starts now, and so do the figures.
        busy: () => {
          cpu0 = cpuTicks(pid);
          ns0 = threadsCpuNs(pid);
          sw0 = contextSwitches(pid);
        },
      },
      fds,
    );
    const result = await load.result;
    const cpu1 = cpuTicks(pid);
    const cpuNs = threadsCpuNs(pid) - ns0;
    const switches = contextSwitches(pid) - sw0;
    child.kill('SIGTERM');
    await waitExit(child, 10_000);
    const saved = JSON.parse(readFileSync(statsFile, 'utf8')) as { stats: Record<string, number> };
    return {
      load: result,
      counters: saved.stats,
      user: Math.max(0, cpu1.user - cpu0.user),
      sys: Math.max(0, cpu1.sys - cpu0.sys),
      cpuNs: Math.max(0, cpuNs),
      switches: Math.max(0, switches),
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await waitExit(child, 2000);
    await load?.stop();
  }
}

export function row(server: string, w: UringWorkload, m: Measured): UringRow {
  const n = Math.max(1, m.load.completed);
  const kinds = syscallsByKind(m.counters as unknown as AllCounters);
  // Counted over the server's life: the idle connections' own requests are in it too.
  const served = Math.max(n, m.counters['requests'] ?? 0);
  const syscalls = Object.values(kinds).reduce((a, b) => a + b, 0);
  const sorted = [...m.load.latenciesMs].sort((a, b) => a - b);
  return {
    server,
    workload: w.name,
    requests: m.load.completed,
    errors: m.load.errors + m.load.stalled,
    rps: round(m.load.completed / Math.max(m.load.seconds, 1e-9), 0),
    cpuUsPerRequest: round(m.cpuNs / 1000 / n, 2),
    userUsPerRequest: round((m.user * TICK_US) / n, 1),
    sysUsPerRequest: round((m.sys * TICK_US) / n, 1),
    syscallsPerRequest: round(syscalls / served, 3),
    entersPerRequest: round((kinds['io_uring_enter'] ?? 0) / served, 3),
    contextSwitchesPerRequest: round(m.switches / n, 3),
    p50Ms: sorted.length > 0 ? round(percentile(sorted, 50), 3) : null,
    p99Ms: sorted.length > 0 ? round(percentile(sorted, 99), 3) : null,
  };
}

export function errorRow(server: string, workload: string, error: string): UringRow {
  return {
    server,
    workload,
    requests: 0,
    errors: 0,
    rps: null,
    cpuUsPerRequest: null,
    userUsPerRequest: null,
    sysUsPerRequest: null,
    syscallsPerRequest: null,
    entersPerRequest: null,
    contextSwitchesPerRequest: null,
    p50Ms: null,
    p99Ms: null,
    error,
  };
}
