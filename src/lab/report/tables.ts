/**
 * The tables under each workload: the figures the charts summarise, exactly, with the
 * best value of each column and every failure highlighted, and the server's raw counters
 * folded away below them for whoever wants to check a figure.
 */
import type { LabResult } from '../types.js';
import { UNKNOWN_COLOR, swatch } from './colors.js';
import { fmt, num, unique } from './format.js';
import { html, joinHtml } from './html.js';
import type { SafeHtml } from './html.js';
import type { ReportView } from './view.js';

interface Column {
  head: string;
  title: string;
  value: (r: LabResult) => number;
  integer?: boolean;
  /** Which way is better, for highlighting the best value of a workload. */
  better?: 'low' | 'high';
  /** Non-zero is a failure (stalls, errors). */
  alarm?: boolean;
  /** Under the shared "syscalls per request" heading. */
  group?: boolean;
}

const sys = (k: keyof LabResult['syscallsPerRequest']) => (r: LabResult) => num(r.syscallsPerRequest?.[k]);

const COLUMNS: readonly Column[] = [
  { head: 'req/s', title: 'completed requests per second', value: (r) => num(r.rps), better: 'high' },
  {
    head: 'CPU µs/req',
    title: 'server CPU (user + system) per completed request, µs',
    value: (r) => num(r.cpuUsPerRequest),
    better: 'low',
  },
  { head: 'total', title: 'all syscalls per request', value: sys('total'), better: 'low', group: true },
  { head: 'epoll_wait', title: 'epoll_wait per request', value: sys('epoll_wait'), better: 'low', group: true },
  { head: 'epoll_ctl', title: 'epoll_ctl per request', value: sys('epoll_ctl'), better: 'low', group: true },
  { head: 'accept4', title: 'accept4 per request', value: sys('accept4'), group: true },
  { head: 'recvfrom', title: 'recvfrom per request', value: sys('recvfrom'), group: true },
  { head: 'sendto', title: 'sendto per request', value: sys('sendto'), group: true },
  { head: 'shutdown', title: 'shutdown per request', value: sys('shutdown'), group: true },
  { head: 'close', title: 'close per request', value: sys('close'), group: true },
  { head: 'ev/wait', title: 'events returned per epoll_wait', value: (r) => num(r.eventsPerWait) },
  {
    head: 'useless/req',
    title: 'events that found nothing to do, per request',
    value: (r) => num(r.uselessEventsPerRequest),
    better: 'low',
    alarm: true,
  },
  {
    head: 'stalled',
    title: 'requests with no complete answer within the timeout',
    value: (r) => num(r.stalled),
    integer: true,
    alarm: true,
  },
  {
    head: 'errors',
    title: 'connections refused, reset or otherwise failed',
    value: (r) => num(r.errors),
    integer: true,
    alarm: true,
  },
  { head: 'p50 ms', title: 'median latency of completed requests, ms', value: (r) => num(r.p50Ms), better: 'low' },
  {
    head: 'p99 ms',
    title: '99th percentile latency of completed requests, ms',
    value: (r) => num(r.p99Ms),
    better: 'low',
  },
];

/**
 * The best value of each column among `rows`, NaN where nothing should be
 * highlighted: columns with no better direction, and ties or a single strategy, where
 * "best" would say nothing.
 */
function bestValues(rows: readonly { r: LabResult | undefined }[], view: ReportView): number[] {
  return COLUMNS.map((c) => {
    if (c.better === undefined) return Number.NaN;
    const vs = rows
      .flatMap(({ r }) => (r === undefined || view.unreliable(r) !== undefined ? [] : [c.value(r)]))
      .filter((v) => Number.isFinite(v));
    if (vs.length < 2 || Math.min(...vs) === Math.max(...vs)) return Number.NaN;
    return c.better === 'low' ? Math.min(...vs) : Math.max(...vs);
  });
}

/**
 * The results of every strategy under `workload`, one row each (a strategy without a
 * result gets a row of "n/a", so rows line up across workloads): `<table data-workload>`.
 */
export function resultsTable(workload: string, view: ReportView): SafeHtml {
  const { strategies, lookup, colors } = view;
  const rows = strategies.map((s) => ({ s, r: lookup(s, workload) }));
  const best = bestValues(rows, view);
  const grouped = COLUMNS.filter((c) => c.group === true);
  const groupStart = COLUMNS.findIndex((c) => c.group === true);

  const out: SafeHtml[] = [];
  out.push(html`<div class="table-wrap"><table data-workload="${workload}">`);
  out.push(html`<thead><tr><th rowspan="2" class="left">strategy</th>`);
  COLUMNS.forEach((c, i) => {
    if (c.group === true) {
      if (i === groupStart) out.push(html`<th colspan="${grouped.length}" class="group">syscalls per request</th>`);
    } else {
      out.push(html`<th rowspan="2" title="${c.title}">${c.head}</th>`);
    }
  });
  out.push(html`<th rowspan="2" title="completed of attempted requests">done</th></tr><tr>`);
  for (const c of grouped) out.push(html`<th class="sub" title="${c.title}">${c.head}</th>`);
  out.push(html`</tr></thead><tbody>`);
  for (const { s, r } of rows) {
    const why = r === undefined ? undefined : view.unreliable(r);
    out.push(
      html`<tr${why !== undefined && html` class="unreliable" title="${why}"`}><th class="left" scope="row">${swatch(colors.get(s) ?? UNKNOWN_COLOR)}${s}</th>`,
    );
    COLUMNS.forEach((c, i) => {
      const v = r === undefined ? Number.NaN : c.value(r);
      const cls: string[] = [];
      if (c.group === true) cls.push('grp');
      if (why === undefined && Number.isFinite(v) && v === best[i]) cls.push('best');
      if (c.alarm === true && Number.isFinite(v) && v > 0) cls.push('bad');
      if (!Number.isFinite(v)) cls.push('na');
      out.push(html`<td${cls.length > 0 && html` class="${cls.join(' ')}"`}>${fmt(v, c.integer === true)}</td>`);
    });
    const done = r === undefined ? 'n/a' : `${fmt(num(r.completed), true)}/${fmt(num(r.attempted), true)}`;
    out.push(html`<td class="done">${done}</td></tr>`);
    if (why !== undefined) {
      out.push(
        html`<tr class="why"><td colspan="${COLUMNS.length + 2}" class="left">unreliable, not compared: ${why}</td></tr>`,
      );
    }
  }
  out.push(html`</tbody></table></div>`);
  return joinHtml(out);
}

/**
 * The raw server counters of every strategy under `workload`, in a closed `<details>`;
 * nothing at all when no result has counters.
 */
export function countersTable(workload: string, view: ReportView): SafeHtml {
  const { strategies, lookup } = view;
  const present = strategies.filter((s) => lookup(s, workload) !== undefined);
  const names = unique(present.flatMap((s) => Object.keys(lookup(s, workload)?.counters ?? {})));
  if (names.length === 0) return html``;
  const rows = names.map((name) => {
    const cells = present.map((s) => html`<td>${fmt(num(lookup(s, workload)?.counters?.[name]), true)}</td>`);
    return html`<tr><th class="left" scope="row"><code>${name}</code></th>${cells}</tr>`;
  });
  return html`<details><summary>Raw server counters (${workload})</summary><div class="table-wrap"><table class="counters"><thead><tr><th class="left">counter</th>${present.map((s) => html`<th>${s}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div></details>`;
}
