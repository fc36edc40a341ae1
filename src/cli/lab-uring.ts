/**
 * `etlt lab uring`: epoll ET and LT against io_uring (plain, SQPOLL, DEFER_TASKRUN) per
 * request; the table, JSON and HTML of src/lab/uring.ts's report.
 */
import { renderUringHtml } from '../lab/report/uring.js';
import { runUring } from '../lab/uring.js';
import { URING_SERVERS, URING_WORKLOADS } from '../lab/uring-plan.js';
import type { UringReport, UringRow } from '../lab/uring.js';
import { closeOutputs, openOutputs, write } from './lab.js';
import type { CommandSpec, ParsedOptions } from './options.js';
import { flagOption, listOption, stringOption } from './options.js';
import type { Printer } from './printer.js';

const SERVER_NAMES = URING_SERVERS.map((s) => s.name);
const WORKLOAD_NAMES = URING_WORKLOADS.map((w) => w.name);

/** `etlt lab uring`'s options. */
export const LAB_URING: CommandSpec = {
  name: 'lab uring',
  summary: 'epoll ET and LT against io_uring per request: CPU, syscalls, context switches, latency',
  options: [
    { name: 'quick', help: 'a short run: fewer requests per row, 2,000 idle connections (a few minutes)' },
    { name: 'servers', value: 'a,b', help: `${SERVER_NAMES.join(', ')} (default: all)` },
    { name: 'workloads', value: 'a,b', help: `${WORKLOAD_NAMES.join(', ')}\n(default: all)` },
    { name: 'no-strace', help: 'skip the check of the syscall counts against strace -c -f' },
    { name: 'json', value: 'FILE|-', help: 'write the report as JSON (-: to standard output, and nothing else there)' },
    { name: 'out', value: 'FILE.html', help: 'write a self-contained HTML report with charts' },
  ],
  notes: ['Signals: SIGINT/SIGTERM stop the run and its processes; SIGUSR1 prints the progress.'],
};

const pad = (s: string, n: number, right = true) => (right ? s.padStart(n) : s.padEnd(n));
const show = (v: number | null, digits = 1) => (v === null ? 'n/a' : v.toFixed(digits));

/** One table, a row per (workload, server); the strace check and the verdict below it. */
export function formatUringTable(report: UringReport): string {
  const cols: [string, number, (r: UringRow) => string][] = [
    ['workload', 13, (r) => r.workload],
    ['server', 15, (r) => r.server],
    ['req/s', 7, (r) => (r.rps === null ? 'n/a' : String(r.rps))],
    ['cpu us', 7, (r) => show(r.cpuUsPerRequest)],
    ['usr us', 7, (r) => show(r.userUsPerRequest)],
    ['sys us', 7, (r) => show(r.sysUsPerRequest)],
    ['sys/req', 7, (r) => show(r.syscallsPerRequest, 3)],
    ['enter/req', 9, (r) => show(r.entersPerRequest, 3)],
    ['cs/req', 7, (r) => show(r.contextSwitchesPerRequest, 3)],
    ['p50 ms', 7, (r) => show(r.p50Ms, 2)],
    ['p99 ms', 7, (r) => show(r.p99Ms, 2)],
    ['err', 4, (r) => (r.error === undefined ? String(r.errors) : 'ERR')],
  ];
  const out = ['', cols.map(([h, n], i) => pad(h, n, i > 1)).join('  ')];
  for (const r of report.rows) out.push(cols.map(([, n, f], i) => pad(f(r), n, i > 1)).join('  '));
  const errors = report.rows.filter((r) => r.error !== undefined);
  if (errors.length > 0) {
    out.push('', 'rows that could not run:');
    for (const r of errors) out.push(`  ${r.server}, ${r.workload}: ${r.error}`);
  }
  const s = report.strace;
  if (report.straceError !== undefined) out.push('', `strace check: ${report.straceError}`);
  if (s !== null) {
    out.push('', `strace -c -f on ${s.server}, ${s.workload} (${s.requests} requests): strace / server's counters`);
    for (const k of Object.keys(s.strace))
      out.push(`  ${k.padEnd(15)} ${String(s.strace[k]).padStart(8)} / ${s.counted[k]}`);
  }
  out.push('', 'verdict:', ...report.verdict.map((v) => `  ${v}`));
  out.push(
    '',
    'cpu: the server process, every thread (SQPOLL included), from schedstat; usr/sys: the same split by /proc/PID/stat ticks (10 ms).',
  );
  return out.join('\n');
}

/** Runs the io_uring experiment; resolves with the exit code. */
export async function labUring(
  values: ParsedOptions,
  err: Printer,
  signal: AbortSignal,
  state: { progress: string },
): Promise<number> {
  const servers = listOption(values, 'servers', SERVER_NAMES);
  const workloads = listOption(values, 'workloads', WORKLOAD_NAMES);
  const json = stringOption(values, 'json');
  const outPath = stringOption(values, 'out');
  const outputs = openOutputs({ json, out: outPath });
  try {
    const report = await runUring({
      quick: flagOption(values, 'quick'),
      ...(servers ? { servers } : {}),
      ...(workloads ? { workloads } : {}),
      strace: !flagOption(values, 'no-strace'),
      signal,
      onProgress: (p) => {
        if (p.kind === 'start') {
          state.progress = `[${p.index}/${p.total}] ${p.server}, ${p.workload}: running`;
          return;
        }
        const r = p.row;
        state.progress = `[${p.index}/${p.total}] ${r.server}, ${r.workload}: done`;
        err.line(
          r.error !== undefined
            ? `[${p.index}/${p.total}] ${r.server}, ${r.workload}: ${r.error}`
            : `[${p.index}/${p.total}] ${r.server}, ${r.workload}: ${show(r.cpuUsPerRequest)} us/req, ${show(r.syscallsPerRequest, 3)} syscalls/req, ${r.rps} req/s`,
        );
      },
    });
    return await write(
      {
        tables: () => formatUringTable(report),
        json: () => JSON.stringify(report, null, 2),
        html: () => renderUringHtml(report),
      },
      { json, out: outPath },
      outputs,
      err,
    );
  } finally {
    closeOutputs(outputs);
  }
}
