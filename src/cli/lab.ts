/**
 * `etlt lab`: runs the lab, shows progress, prints the tables, writes JSON and HTML.
 */
import { writeFileSync } from 'node:fs';
import { DESCRIPTIONS, WORKLOADS, runLab } from '../lab/runner.js';
import type { LabProgress } from '../lab/runner.js';
import { renderHtml } from '../lab/report/index.js';
import type { LabReport, LabResult } from '../lab/types.js';
import type { Printer } from './printer.js';

/** Options `etlt lab` takes. */
export interface LabArgs {
  quick: boolean;
  json: string | undefined;
  out: string | undefined;
  strategies: string[] | undefined;
  workloads: string[] | undefined;
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
    }
  }
  out.push('', 'steal%: CPU time the hypervisor took from this machine during the run; above ~10% CPU figures are inflated.');
  out.push('', 'strategies:');
  for (const s of report.strategies) out.push(`  ${pad(s, 14)} ${report.descriptions[s] ?? ''}`);
  return out.join('\n');
}

/** Runs the lab; returns the exit code. */
export async function lab(args: LabArgs, out: Printer, err: Printer, isTTY: boolean): Promise<number> {
  const strategies = args.strategies ?? Object.keys(DESCRIPTIONS);
  const workloads = args.workloads ?? WORKLOADS.map((w) => w.name);
  let lastLen = 0;
  const show = (p: LabProgress) => {
    if (p.kind === 'progress') {
      if (!isTTY) return;
      const text = `[${p.index}/${p.total}] ${p.strategy} × ${p.workload}: ${p.finished}/${p.planned} requests`;
      process.stderr.write('\r' + text.padEnd(lastLen));
      lastLen = text.length;
    } else if (p.kind === 'done') {
      const r = p.result;
      const text = `[${p.index}/${p.total}] ${r.strategy} × ${r.workload}: ${r.completed} done, ${r.stalled} stalled, ${r.cpuUsPerRequest.toFixed(1)} us/req, ${r.syscallsPerRequest.total.toFixed(2)} syscalls/req`;
      if (isTTY) {
        process.stderr.write('\r' + text.padEnd(lastLen) + '\n');
        lastLen = 0;
      } else {
        err.line(text);
      }
    }
  };
  const report = await runLab({ strategies, workloads, quick: args.quick, onProgress: show });
  out.line(formatTables(report));
  if (args.json !== undefined) {
    const text = JSON.stringify(report, null, 2);
    if (args.json === '-') out.line(text);
    else writeFileSync(args.json, text);
  }
  if (args.out !== undefined) {
    writeFileSync(args.out, renderHtml(report));
    err.line(`etlt: report written to ${args.out}`);
  }
  return 0;
}
