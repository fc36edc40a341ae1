/**
 * `etlt lab balance`: the thundering herd and its cures, measured; the table, JSON and HTML
 * of src/lab/balance.ts's report.
 */
import { balanceFindings, verdict } from '../lab/balance-findings.js';
import type { BalanceReport } from '../lab/balance-types.js';
import { runBalance } from '../lab/balance.js';
import type { BalanceProgress } from '../lab/balance.js';
import { renderBalanceHtml } from '../lab/report/balance.js';
import { closeOutputs, openOutputs, write } from './lab.js';
import type { CommandSpec, ParsedOptions } from './options.js';
import { flagOption, integerOption, stringOption } from './options.js';
import type { Printer } from './printer.js';

/** `etlt lab balance`'s options. */
export const LAB_BALANCE: CommandSpec = {
  name: 'lab balance',
  summary: 'N workers under one load, for each way of sharing the accept load (docs/balance.md)',
  options: [
    { name: 'quick', help: 'a short run (1000 requests per kind and scenario instead of 20000)' },
    { name: 'workers', value: 'N', help: 'worker processes (default 4)' },
    { name: 'json', value: 'FILE|-', help: 'write the report as JSON (-: to standard output, and nothing else there)' },
    { name: 'out', value: 'FILE.html', help: 'write a self-contained HTML report: per-worker shares and latencies' },
  ],
  notes: ['Signals: SIGINT/SIGTERM stop the run and its processes; SIGUSR1 prints the progress.'],
};

interface BalanceArgs {
  quick: boolean;
  workers: number;
  json: string | undefined;
  out: string | undefined;
}

function balanceArgs(v: ParsedOptions): BalanceArgs {
  return {
    quick: flagOption(v, 'quick'),
    workers: integerOption(v, 'workers', 4, 1, 64),
    json: stringOption(v, 'json'),
    out: stringOption(v, 'out'),
  };
}

const pad = (s: string, n: number, right = true) => (right ? s.padStart(n) : s.padEnd(n));

/** One table per scenario, one row per kind. */
export function formatBalanceTables(report: BalanceReport): string {
  const out: string[] = [];
  for (const sc of report.scenarios) {
    out.push(
      '',
      `scenario ${sc.name}: ${sc.description}; ${report.workers} workers, ${report.concurrency} connections in flight`,
    );
    out.push(
      [
        pad('balance', 10, false),
        pad('accepted per worker', 24, false),
        pad('wake/acc', 8),
        pad('EAGAIN', 7),
        pad('p50 ms', 7),
        pad('p99 ms', 7),
        pad('max ms', 7),
        pad('sd ms', 6),
        pad('req/s', 6),
        pad('cpu us/req', 10),
        pad('errors', 6),
      ].join('  '),
    );
    for (const r of report.rows.filter((x) => x.scenario === sc.name)) {
      out.push(
        [
          pad(r.balance, 10, false),
          pad(r.perWorker.join(' '), 24, false),
          pad(r.wakeupsPerAccept.toFixed(2), 8),
          pad(String(r.acceptEagain), 7),
          pad(r.p50Ms.toFixed(2), 7),
          pad(r.p99Ms.toFixed(2), 7),
          pad(r.maxMs.toFixed(1), 7),
          pad(r.stdevMs.toFixed(2), 6),
          pad(String(r.rps), 6),
          pad(r.cpuUsPerRequest.toFixed(1), 10),
          pad(String(r.errors + r.stalled), 6),
        ].join('  '),
      );
    }
    const findings = (report.findings ?? balanceFindings(report)).filter((f) => f.scenario === sc.name);
    if (findings.length > 0) out.push('  checked against this run:');
    for (const f of findings) out.push(`    ${pad(f.balance, 10, false)} ${verdict(f)}: ${f.claim} (${f.evidence})`);
    if (sc.busyMs > 0) {
      out.push('  worker 0 (the slow one) against the others, p99 ms:');
      for (const r of report.rows.filter((x) => x.scenario === sc.name)) {
        const others = r.detail.slice(1).map((w) => w.p99Ms.toFixed(1));
        out.push(`    ${pad(r.balance, 10, false)} ${r.detail[0]?.p99Ms.toFixed(1) ?? '-'} vs ${others.join(' ')}`);
      }
    }
  }
  out.push(
    '',
    'wake/acc: event-loop wake-ups per accepted connection over all workers; EAGAIN: listener wake-ups that found',
    'nothing to accept (another worker was first).',
    '',
    'balance:',
  );
  for (const b of report.balances) out.push(`  ${pad(b.name, 10, false)} ${b.description}`);
  return out.join('\n');
}

/** Runs the balance experiment; resolves with the exit code. */
export async function labBalance(
  values: ParsedOptions,
  err: Printer,
  signal: AbortSignal,
  state: { progress: string },
): Promise<number> {
  const args = balanceArgs(values);
  const outputs = openOutputs(args);
  try {
    const show = (p: BalanceProgress) => {
      if (p.kind === 'start') state.progress = `[${p.index}/${p.total}] ${p.scenario} × ${p.balance}: running`;
      else {
        const r = p.row;
        state.progress = `[${p.index}/${p.total}] ${r.scenario} × ${r.balance}: done`;
        err.line(
          `[${p.index}/${p.total}] ${r.scenario} × ${r.balance}: accepted ${r.perWorker.join('/')}, ` +
            `${r.wakeupsPerAccept.toFixed(2)} wake-ups/accept, p99 ${r.p99Ms.toFixed(2)} ms`,
        );
      }
    };
    const report = await runBalance({ workers: args.workers, quick: args.quick, onProgress: show, signal });
    return await write(
      {
        tables: () => formatBalanceTables(report),
        json: () => JSON.stringify(report, null, 2),
        html: () => renderBalanceHtml(report),
      },
      args,
      outputs,
      err,
    );
  } finally {
    closeOutputs(outputs);
  }
}
