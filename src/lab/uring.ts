/**
 * `etlt lab uring`: epoll (ET and LT) against io_uring (plain, SQPOLL, DEFER_TASKRUN) on
 * this machine, per request: server CPU (user and system apart, every thread of the
 * process, the SQPOLL kernel thread included: it is one of them), syscalls (from the
 * server's own counters, io_uring_enter among them; one run checked against `strace -c -f`),
 * context switches (every thread's), and the load generator's p50/p99 latency. Each
 * (server, workload) is a fresh `etlt serve` in a child process and the lab's load
 * generator in another, as the other experiments do.
 *
 * This file drives the experiment and judges it; what it compares is `uring-plan.ts`, how a
 * row is measured `uring-measure.ts`, the strace check `uring-strace.ts`.
 */
import { availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { labVersion, runSteps } from './steps.js';
import { errorRow, measure, row } from './uring-measure.js';
import { PUBLISHED, URING_SERVERS, URING_WORKLOADS, makeFiles } from './uring-plan.js';
import type { Files } from './uring-plan.js';
import { straceCheck } from './uring-strace.js';
import type { UringReport, UringRow } from './uring-types.js';

export type { UringReport, UringRow, StraceCheck } from './uring-types.js';

export interface UringOptions {
  quick: boolean;
  servers?: readonly string[];
  workloads?: readonly string[];
  /** Check one run's syscall counts against strace -c -f (default: when strace is there). */
  strace?: boolean;
  onProgress?: (p: UringProgress) => void;
  signal?: AbortSignal;
}

export type UringProgress =
  | { kind: 'start'; index: number; total: number; server: string; workload: string }
  | { kind: 'done'; index: number; total: number; row: UringRow };

/** For each workload: who used the least CPU per request, against epoll ET, and the syscalls. */
export function verdictLines(rows: readonly UringRow[]): string[] {
  const out: string[] = [];
  const cpu = (r: UringRow) => r.cpuUsPerRequest ?? NaN;
  for (const workload of [...new Set(rows.map((r) => r.workload))]) {
    // A row with failed requests, or too few to judge, says nothing about CPU per request.
    const ran = rows.filter(
      (r) =>
        r.workload === workload &&
        r.error === undefined &&
        r.errors === 0 &&
        r.requests >= 10 &&
        Number.isFinite(cpu(r)),
    );
    if (ran.length < rows.filter((r) => r.workload === workload).length)
      out.push(
        `${workload}: rows left out of the verdict (errors, or fewer than 10 requests): ${rows
          .filter((r) => r.workload === workload && !ran.includes(r))
          .map((r) => r.server)
          .join(', ')}`,
      );
    const et = ran.find((r) => r.server === 'epoll-et');
    if (ran.length === 0 || et === undefined || !(cpu(et) > 0)) continue;
    const best = ran.reduce((a, b) => (cpu(b) < cpu(a) ? b : a));
    const uring = ran.filter((r) => r.server.startsWith('io_uring'));
    const bestUring = uring.length > 0 ? uring.reduce((a, b) => (cpu(b) < cpu(a) ? b : a)) : undefined;
    const ratio = bestUring === undefined ? NaN : cpu(bestUring) / cpu(et);
    const who = best.server.startsWith('io_uring') ? 'io_uring wins' : 'epoll holds';
    out.push(
      `${workload}: ${who} (least CPU: ${best.server}, ${cpu(best).toFixed(1)} us/request); ` +
        (bestUring === undefined
          ? 'no io_uring row'
          : `best io_uring ${bestUring.server} at ${ratio.toFixed(2)}x epoll ET's CPU (${cpu(bestUring).toFixed(1)} vs ${cpu(et).toFixed(1)} us), ` +
            `syscalls ${bestUring.syscallsPerRequest} vs ${et.syscallsPerRequest} per request`),
    );
  }
  return out;
}

/** Runs the experiment and returns its report. */
export async function runUring(options: UringOptions): Promise<UringReport> {
  const servers = URING_SERVERS.filter((s) => options.servers?.includes(s.name) ?? true);
  const workloads = URING_WORKLOADS.filter((w) => options.workloads?.includes(w.name) ?? true);
  const report: UringReport = {
    experiment: 'uring',
    version: labVersion(),
    startedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), node: process.version, kernel: release() },
    quick: options.quick,
    servers: servers.map((s) => s.name),
    workloads: workloads.map((w) => w.name),
    rows: [],
    strace: null,
    verdict: [],
    published: PUBLISHED,
  };
  const signal = options.signal;
  const runs = workloads.flatMap((w) => servers.map((server) => ({ w, server })));
  // The strace check is the run's last step: it needs the run's children and files.
  const strace = options.strace !== false && servers.some((s) => s.name === 'io_uring');
  const steps: ((typeof runs)[number] | 'strace')[] = strace ? [...runs, 'strace'] : runs;
  const total = runs.length;
  let files: Files | undefined;
  await runSteps(steps, signal, 'etlt-uring-', async (step, { children, dir, index }) => {
    files ??= makeFiles(dir);
    if (step === 'strace') {
      try {
        report.strace = await straceCheck(children, options.quick, dir, files);
      } catch (e) {
        if (signal?.aborted) throw e;
        report.straceError = e instanceof Error ? e.message : String(e);
      }
      return;
    }
    const { w, server } = step;
    options.onProgress?.({ kind: 'start', index, total, server: server.name, workload: w.name });
    let r: UringRow;
    try {
      const m = await measure(children, server, w, options.quick, join(dir, `${server.name}-${w.name}.json`), files);
      r = row(server.name, w, m);
    } catch (e) {
      if (signal?.aborted) throw e;
      r = errorRow(server.name, w.name, e instanceof Error ? e.message : String(e));
    }
    report.rows.push(r);
    options.onProgress?.({ kind: 'done', index, total, row: r });
  });
  report.verdict = verdictLines(report.rows);
  return report;
}
