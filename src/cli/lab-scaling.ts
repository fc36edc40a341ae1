/**
 * `etlt lab scaling`: epoll, poll and select against the number of idle connections (the
 * seed's three claims); the table, JSON and HTML of src/lab/scaling.ts's report.
 */
import { EtltUsageError } from '../errors.js';
import { READINESS_BACKENDS as BACKENDS } from '../http/trigger/catalog.js';
import type { Backend } from '../http/trigger/catalog.js';
import { renderScalingHtml } from '../lab/report/scaling.js';
import { runScaling } from '../lab/scaling.js';
import type { ScalingProgress, ScalingReport, ScalingRow } from '../lab/scaling.js';
import { closeOutputs, openOutputs, write } from './lab.js';
import type { CommandSpec, ParsedOptions } from './options.js';
import { flagOption, listOption, stringOption } from './options.js';
import type { Printer } from './printer.js';

/** `etlt lab scaling`'s options. */
export const LAB_SCALING: CommandSpec = {
  name: 'lab scaling',
  summary: 'epoll, poll and select as idle connections grow: CPU per wait and per request, FD_SETSIZE',
  options: [
    { name: 'quick', help: 'a short run: 10 and 1,100 idle connections, 1000 requests each (seconds)' },
    {
      name: 'idle',
      value: 'N,N',
      help: 'idle connection counts (default 10,100,300,1000,3000,10000, and 100000\nwhen ulimit -Hn allows it)',
    },
    { name: 'backends', value: 'a,b', help: `${BACKENDS.join(', ')} (default: all)` },
    { name: 'json', value: 'FILE|-', help: 'write the report as JSON (-: to standard output, and nothing else there)' },
    { name: 'out', value: 'FILE.html', help: 'write a self-contained HTML report with log-log charts' },
  ],
  notes: ['Signals: SIGINT/SIGTERM stop the run and its processes; SIGUSR1 prints the progress.'],
};

interface ScalingArgs {
  quick: boolean;
  idle: number[] | undefined;
  backends: Backend[] | undefined;
  json: string | undefined;
  out: string | undefined;
}

function idleCounts(v: ParsedOptions): number[] | undefined {
  const text = stringOption(v, 'idle');
  if (text === undefined) return undefined;
  const counts = text.split(',').map((x) => x.trim());
  const bad = counts.filter((x) => !/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 1_000_000);
  if (counts.length === 0 || bad.length > 0)
    throw new EtltUsageError(`--idle: counts are whole numbers from 1 to 1000000 (got '${bad.join("', '") || text}')`);
  return counts.map(Number);
}

function scalingArgs(v: ParsedOptions): ScalingArgs {
  return {
    quick: flagOption(v, 'quick'),
    idle: idleCounts(v),
    backends: listOption(v, 'backends', BACKENDS),
    json: stringOption(v, 'json'),
    out: stringOption(v, 'out'),
  };
}

const pad = (s: string, n: number, right = true) => (right ? s.padStart(n) : s.padEnd(n));
const show = (v: number | null, digits = 1) => (v === null ? 'n/a' : v.toFixed(digits));

/** One table, a row per (idle count, backend); errors below it. */
export function formatScalingTable(report: ScalingReport): string {
  const cols: [string, number, (r: ScalingRow) => string][] = [
    ['backend', 7, (r) => r.backend],
    ['idle', 7, (r) => String(r.idle)],
    ['req/s', 6, (r) => (r.rps === null ? 'n/a' : String(r.rps))],
    ['us/req', 7, (r) => show(r.usPerRequest)],
    ['us/wait', 8, (r) => show(r.usPerWait, 2)],
    ['waits/req', 9, (r) => show(r.waitsPerRequest, 2)],
    ['sys/req', 7, (r) => show(r.syscallsPerRequest, 2)],
    ['ev/wait', 7, (r) => show(r.eventsPerWait, 2)],
    ['B/conn', 7, (r) => (r.rssBytesPerConnection === null ? 'n/a' : String(r.rssBytesPerConnection))],
    ['shed', 5, (r) => String(r.shed)],
  ];
  const out = [
    '',
    `${report.busy} busy keep-alive clients beside N idle kept-alive connections; mode lt on every backend`,
    cols.map(([h, n], i) => pad(h, n, i > 0)).join('  '),
  ];
  for (const r of report.rows) out.push(cols.map(([, n, f], i) => pad(f(r), n, i > 0)).join('  '));
  const errors = report.rows.filter((r) => r.error !== undefined);
  if (errors.length > 0) {
    out.push('', 'rows that could not run:');
    for (const r of errors) out.push(`  ${r.backend} with ${r.idle} idle: ${r.error}`);
  }
  const unreliable = report.rows.filter((r) => r.error === undefined && r.unreliable !== undefined);
  if (unreliable.length > 0) {
    out.push('', 'rows whose figures cannot be true (not to be compared):');
    for (const r of unreliable) out.push(`  ${r.backend} with ${r.idle} idle: ${r.unreliable}`);
  }
  out.push(
    '',
    'us/wait: server CPU per wait of the backend (epoll_wait, poll or select); B/conn: RSS per idle connection.',
  );
  return out.join('\n');
}

/** Runs the scaling experiment; resolves with the exit code. */
export async function labScaling(
  values: ParsedOptions,
  err: Printer,
  signal: AbortSignal,
  state: { progress: string },
): Promise<number> {
  const args = scalingArgs(values);
  const outputs = openOutputs(args);
  try {
    const onProgress = (p: ScalingProgress) => {
      if (p.kind === 'start') {
        state.progress = `[${p.index}/${p.total}] ${p.backend} with ${p.idle} idle: running`;
        return;
      }
      const r = p.row;
      state.progress = `[${p.index}/${p.total}] ${r.backend} with ${r.idle} idle: done`;
      err.line(
        r.error !== undefined
          ? `[${p.index}/${p.total}] ${r.backend} with ${r.idle} idle: ${r.error}`
          : `[${p.index}/${p.total}] ${r.backend} with ${r.idle} idle: ${show(r.usPerWait, 2)} us/wait, ${show(r.usPerRequest)} us/req, ${r.rps} req/s`,
      );
    };
    const report = await runScaling({
      quick: args.quick,
      ...(args.idle ? { idle: args.idle } : {}),
      ...(args.backends ? { backends: args.backends } : {}),
      onProgress,
      signal,
    });
    return await write(
      {
        tables: () => formatScalingTable(report),
        json: () => JSON.stringify(report, null, 2),
        html: () => renderScalingHtml(report),
      },
      args,
      outputs,
      err,
    );
  } finally {
    closeOutputs(outputs);
  }
}
