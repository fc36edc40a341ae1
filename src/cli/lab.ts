/**
 * `etlt lab`: runs the lab, shows progress, prints the tables, writes JSON and HTML.
 * Everything it writes as a report arrives in full or the command fails; output paths are
 * opened before anything is measured.
 */
import { closeSync } from 'node:fs';
import { whyUnreliable } from '../lab/plausible.js';
import { EtltOutputError } from '../errors.js';
import { STRATEGY_CATALOG } from '../http/trigger/catalog.js';

/** The trigger lab's strategies: the readiness ones, on epoll (io_uring has `etlt lab uring`). */
const MODES = STRATEGY_CATALOG.filter((s) => s.backends.includes('epoll')).map((s) => s.name);
import type { Mode } from '../http/trigger/catalog.js';
import { renderHtml } from '../lab/report/index.js';
import { WORKLOAD_NAMES, runLab } from '../lab/runner.js';
import type { LabProgress } from '../lab/runner.js';
import type { LabReport, LabResult } from '../lab/types.js';
import type { CommandSpec, ParsedOptions } from './options.js';
import { flagOption, listOption, stringOption } from './options.js';
import { writeFully } from './output.js';
import type { Printer } from './printer.js';
import { openOutput } from './serve.js';

/** `etlt lab`'s options: its parser and its help both come from this table. */
export const LAB: CommandSpec = {
  name: 'lab',
  summary: 'measure what ET and LT cost, and show their pitfalls, on this machine',
  options: [
    { name: 'quick', help: 'a short run (about two minutes) instead of the full one' },
    { name: 'strategies', value: 'a,b', help: `${MODES.join(', ')} (default: all)` },
    { name: 'workloads', value: 'a,b', help: `${WORKLOAD_NAMES.join(', ')} (default: all)` },
    { name: 'json', value: 'FILE|-', help: 'write the report as JSON (-: to standard output, and nothing else there)' },
    { name: 'out', value: 'FILE.html', help: 'write a self-contained HTML report with charts and timelines' },
  ],
  notes: [
    'Experiments: etlt lab [trigger|balance|scaling|uring] [options]; trigger (this one) is the default;',
    "'etlt lab balance --help', 'etlt lab scaling --help' and 'etlt lab uring --help' tell the others.",
    'Signals: SIGINT/SIGTERM stop the run, its processes and its files; SIGUSR1 prints the progress.',
  ],
};

/** Options `etlt lab` takes, checked. */
export interface LabArgs {
  quick: boolean;
  json: string | undefined;
  out: string | undefined;
  strategies: Mode[] | undefined;
  workloads: string[] | undefined;
}

/** Checks `lab`'s parsed options; an EtltUsageError names the first bad one. */
export function labArgs(v: ParsedOptions): LabArgs {
  return {
    quick: flagOption(v, 'quick'),
    json: stringOption(v, 'json'),
    out: stringOption(v, 'out'),
    strategies: listOption(v, 'strategies', MODES),
    workloads: listOption(v, 'workloads', WORKLOAD_NAMES),
  };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** One table per workload, one row per strategy. */
export function formatTables(report: LabReport): string {
  const cols: [string, number, (r: LabResult) => string][] = [
    ['strategy', 14, (r) => r.strategy],
    ['req/s', 7, (r) => String(r.rps)],
    ['cpu us/req', 10, (r) => r.cpuUsPerRequest.toFixed(1)],
    ['sys/req', 7, (r) => r.syscallsPerRequest.total.toFixed(2)],
    ['wait/req', 8, (r) => r.syscallsPerRequest.epoll_wait.toFixed(2)],
    ['ctl/req', 7, (r) => r.syscallsPerRequest.epoll_ctl.toFixed(2)],
    ['acc', 5, (r) => r.syscallsPerRequest.accept4.toFixed(2)],
    ['recv', 5, (r) => r.syscallsPerRequest.recvfrom.toFixed(2)],
    ['send', 5, (r) => r.syscallsPerRequest.sendto.toFixed(2)],
    ['ev/wait', 7, (r) => r.eventsPerWait.toFixed(2)],
    ['useless/req', 11, (r) => r.uselessEventsPerRequest.toFixed(2)],
    ['stalled', 7, (r) => String(r.stalled)],
    ['errors', 6, (r) => String(r.errors)],
    ['done', 6, (r) => `${r.completed}`],
    ['p99 ms', 7, (r) => r.p99Ms.toFixed(2)],
    ['steal%', 6, (r) => (r.stealPercent ?? 0).toFixed(0)],
  ];
  const out: string[] = [];
  for (const w of report.workloads) {
    out.push('', `workload ${w.name}: ${w.description}`);
    out.push(cols.map(([h, n], i) => pad(h, n, i > 0)).join('  '));
    for (const r of report.results.filter((x) => x.workload === w.name)) {
      out.push(cols.map(([, n, f], i) => pad(f(r), n, i > 0)).join('  '));
      const why = whyUnreliable(r);
      if (why !== undefined) out.push(`  ^ unreliable, not to be compared: ${why}`);
    }
  }
  out.push(
    '',
    'steal%: CPU time the hypervisor took from this machine during the run; above ~10% CPU figures are inflated.',
  );
  out.push('', 'strategies:');
  for (const s of report.strategies) out.push(`  ${pad(s, 14)} ${report.descriptions[s] ?? ''}`);
  return out.join('\n');
}

/** Where the lab's output goes, opened before the run. */
export interface Outputs {
  /** The tables: stdout, or stderr when stdout carries the JSON. */
  tablesFd: number;
  jsonFd: number | undefined;
  outFd: number | undefined;
}

/** Opens an experiment's outputs (`--json`, `--out`) before it runs, so that a bad path fails first. */
export function openOutputs(args: { json: string | undefined; out: string | undefined }): Outputs {
  const outputs: Outputs = { tablesFd: args.json === '-' ? 2 : 1, jsonFd: undefined, outFd: undefined };
  if (args.json !== undefined) outputs.jsonFd = args.json === '-' ? 1 : openOutput(args.json, 'json');
  try {
    if (args.out !== undefined) outputs.outFd = openOutput(args.out, 'out');
  } catch (e) {
    if (outputs.jsonFd !== undefined && outputs.jsonFd > 2) closeSync(outputs.jsonFd);
    throw e;
  }
  return outputs;
}

/**
 * Runs the lab; resolves with the exit code. `signal` (SIGINT/SIGTERM) stops the run, its
 * child processes and its temporary files; `progress` is where SIGUSR1 reads the state.
 */
export async function lab(
  args: LabArgs,
  err: Printer,
  isTTY: boolean,
  signal: AbortSignal,
  state: { progress: string },
): Promise<number> {
  const outputs = openOutputs(args);
  try {
    const report = await measure(args, err, isTTY, signal, state);
    return await write(
      {
        tables: () => formatTables(report),
        json: () => JSON.stringify(report, null, 2),
        html: () => renderHtml(report),
      },
      args,
      outputs,
      err,
    );
  } finally {
    closeOutputs(outputs);
  }
}

/** Closes the files `openOutputs` opened. */
export function closeOutputs(outputs: Outputs): void {
  for (const fd of [outputs.jsonFd, outputs.outFd]) if (fd !== undefined && fd > 2) closeSync(fd);
}

/** An experiment's report in its three forms. */
export interface Rendered {
  tables: () => string;
  json: () => string;
  html: () => string;
}

function measure(
  args: LabArgs,
  err: Printer,
  isTTY: boolean,
  signal: AbortSignal,
  state: { progress: string },
): Promise<LabReport> {
  let lastLen = 0;
  const show = (p: LabProgress) => {
    if (p.kind === 'start') state.progress = `[${p.index}/${p.total}] ${p.strategy} × ${p.workload}: starting`;
    if (p.kind === 'progress') {
      const text = `[${p.index}/${p.total}] ${p.strategy} × ${p.workload}: ${p.finished}/${p.planned} requests`;
      state.progress = text;
      if (!isTTY) return;
      process.stderr.write('\r' + text.padEnd(lastLen));
      lastLen = text.length;
    } else if (p.kind === 'done') {
      const r = p.result;
      const text = `[${p.index}/${p.total}] ${r.strategy} × ${r.workload}: ${r.completed} done, ${r.stalled} stalled, ${r.cpuUsPerRequest.toFixed(1)} us/req, ${r.syscallsPerRequest.total.toFixed(2)} syscalls/req`;
      state.progress = text;
      if (isTTY) {
        process.stderr.write('\r' + text.padEnd(lastLen) + '\n');
        lastLen = 0;
      } else {
        err.line(text);
      }
    }
  };
  return runLab({
    strategies: args.strategies ?? [...MODES],
    workloads: args.workloads ?? [...WORKLOAD_NAMES],
    quick: args.quick,
    onProgress: show,
    signal,
  });
}

/** Writes every output; one that fails does not keep the others from being written. */
export async function write(
  report: Rendered,
  args: { json: string | undefined; out: string | undefined },
  outputs: Outputs,
  err: Printer,
): Promise<number> {
  const failures: string[] = [];
  const attempt = async (what: string, fd: number | undefined, text: () => string) => {
    if (fd === undefined) return;
    try {
      await writeFully(fd, text(), what);
    } catch (e) {
      failures.push(e instanceof EtltOutputError ? e.message : String(e));
    }
  };
  await attempt('the tables', outputs.tablesFd, () => report.tables() + '\n');
  await attempt(
    args.json === '-' ? 'the JSON report on standard output' : `--json ${args.json}`,
    outputs.jsonFd,
    () => report.json() + '\n',
  );
  await attempt(`--out ${args.out}`, outputs.outFd, () => report.html());
  if (args.out !== undefined && !failures.some((f) => f.startsWith('--out')))
    err.line(`etlt: report written to ${args.out}`);
  for (const f of failures) err.line(`etlt: ${f}`);
  return failures.length > 0 ? 1 : 0;
}
