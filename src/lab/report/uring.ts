/**
 * The io_uring lab's HTML report: one self-contained page from a {@link UringReport}, in
 * the other reports' style (their CSS, the escaping `html` template, no script, nothing
 * fetched): per workload, horizontal bars of CPU per request (user and system stacked),
 * syscalls per request and p99 latency, one bar per server; the verdict; the strace check;
 * the published figures; every row in a table.
 */
import type { UringReport, UringRow } from '../uring-types.js';
import { CSS } from './css.js';
import { fmt, formatDate, num, px } from './format.js';
import { html, joinHtml, scriptJson } from './html.js';
import type { SafeHtml } from './html.js';

/** epoll in the trigger lab's ET and LT hues; io_uring in greens. */
const SERVER_COLORS: Readonly<Record<string, string>> = {
  'epoll-et': '#d9541e',
  'epoll-lt': '#1f5fa8',
  io_uring: '#2a9d5c',
  'io_uring-sqpoll': '#7fbf7b',
  'io_uring-defer': '#1b5e20',
};
const colorOf = (s: string) => SERVER_COLORS[s] ?? '#8c959f';

const WIDTH = 545;
const BAR = 18;
const GAP = 6;
const LABEL = 130;

/** One horizontal bar chart: a bar (or two stacked parts) per server. */
function bars(
  rows: readonly UringRow[],
  parts: readonly ((r: UringRow) => number)[],
  unit: string,
  digits: number,
): SafeHtml {
  const ran = rows.filter((r) => r.error === undefined);
  const total = (r: UringRow) => parts.reduce((a, f) => a + Math.max(0, num(f(r))), 0);
  const max = Math.max(1e-9, ...ran.map(total));
  const plot = WIDTH - LABEL - 70;
  const height = rows.length * (BAR + GAP) + 24;
  const items = rows.map((r, i) => {
    const y = i * (BAR + GAP);
    if (r.error !== undefined)
      return html`<text x="0" y="${px(y + 13)}" class="label">${r.server}</text><text x="${px(LABEL)}" y="${px(y + 13)}" class="value">could not run</text>`;
    let x = LABEL;
    const segs = parts.map((f, k) => {
      const w = (Math.max(0, num(f(r))) / max) * plot;
      const seg = html`<rect class="bar" data-server="${r.server}" data-part="${k}" x="${px(x)}" y="${px(y)}" width="${px(w)}" height="${px(BAR)}" fill="${colorOf(r.server)}" fill-opacity="${k === 0 ? 1 : 0.45}"></rect>`;
      x += w;
      return seg;
    });
    return html`<text x="0" y="${px(y + 13)}" class="label">${r.server}</text>${joinHtml(segs)}<text x="${px(x + 4)}" y="${px(y + 13)}" class="value">${total(r).toFixed(digits)}</text>`;
  });
  return html`<svg viewBox="0 0 ${px(WIDTH)} ${px(height)}" width="${px(WIDTH)}" height="${px(height)}" role="img" aria-label="${unit}">${joinHtml(items)}<text x="${px(LABEL)}" y="${px(height - 4)}" class="axis">${unit}</text></svg>`;
}

function cell(v: number | null, digits = 2): string {
  return v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}

function table(rows: readonly UringRow[]): SafeHtml {
  const head = html`<thead><tr><th class="left">workload</th><th class="left">server</th><th>req/s</th><th>CPU µs/req</th><th>user µs/req</th><th>sys µs/req</th><th>syscalls/req</th><th>io_uring_enter/req</th><th>ctx sw/req</th><th>p50 ms</th><th>p99 ms</th><th>errors</th></tr></thead>`;
  const body = rows.map(
    (r) =>
      html`<tr data-server="${r.server}" data-workload="${r.workload}"><td class="left">${r.workload}</td><td class="left">${r.server}</td><td>${r.rps === null ? 'n/a' : fmt(r.rps, true)}</td><td>${cell(r.cpuUsPerRequest, 1)}</td><td>${cell(r.userUsPerRequest, 1)}</td><td>${cell(r.sysUsPerRequest, 1)}</td><td>${cell(r.syscallsPerRequest, 3)}</td><td>${cell(r.entersPerRequest, 3)}</td><td>${cell(r.contextSwitchesPerRequest, 3)}</td><td>${cell(r.p50Ms, 3)}</td><td>${cell(r.p99Ms, 3)}</td><td>${r.error ?? String(r.errors)}</td></tr>`,
  );
  return html`<div class="table-wrap"><table>${head}<tbody>${joinHtml(body)}</tbody></table></div>`;
}

function straceSection(report: UringReport): SafeHtml {
  const s = report.strace;
  if (s === null || s === undefined)
    return html`<p class="note">No strace check in this run${report.straceError ? html`: ${report.straceError}` : ' (--no-strace)'}.</p>`;
  const kinds = Object.keys(s.strace);
  const body = kinds.map(
    (k) =>
      html`<tr><td class="left">${k}</td><td>${fmt(num(s.strace[k]), true)}</td><td>${fmt(num(s.counted[k]), true)}</td></tr>`,
  );
  return html`<p class="note">${s.server}, ${s.workload}, ${fmt(num(s.requests), true)} requests, under <code>strace -c -f</code> (${fmt(num(s.straceTotal), true)} syscalls in all, Node's own included: futex of its threads, reads and writes). epoll_wait here is libuv's epoll_pwait and the addon's epoll_wait together; strace also counts libuv's polls for Node's own timers and its restarts after a ptrace stop (EINTR), which the server's counters do not.</p><div class="table-wrap"><table><thead><tr><th class="left">syscall</th><th>strace</th><th>server's counters</th></tr></thead><tbody>${joinHtml(body)}</tbody></table></div>`;
}

/** The page. */
export function renderUringHtml(report: UringReport): string {
  const rows = Array.isArray(report.rows) ? report.rows : [];
  const workloads = Array.isArray(report.workloads) ? report.workloads : [];
  const date = typeof report.startedAt === 'string' ? formatDate(report.startedAt) : 'n/a';
  const m = report.machine ?? { cpus: NaN, node: 'n/a', kernel: 'n/a' };
  const sections = workloads.map((w) => {
    const rs = rows.filter((r) => r.workload === w);
    return html`<section class="workload" data-workload="${w}"><h2>${w}</h2><div class="charts"><figure><h3>Server CPU per request</h3>${bars(rs, [(r) => num(r.cpuUsPerRequest)], 'CPU µs / request (every thread)', 1)}</figure><figure><h3>User, then system (clock ticks)</h3>${bars(rs, [(r) => num(r.userUsPerRequest), (r) => num(r.sysUsPerRequest)], 'µs / request', 1)}</figure><figure><h3>Syscalls per request</h3>${bars(rs, [(r) => num(r.syscallsPerRequest)], 'syscalls / request', 3)}</figure><figure><h3>p99 latency</h3>${bars(rs, [(r) => num(r.p99Ms)], 'ms', 2)}</figure></div></section>`;
  });
  const verdict = (report.verdict ?? []).map((v) => html`<li>${v}</li>`);
  const published = (report.published ?? []).map((p) => html`<li><b>${p.source}</b>: ${p.claim}</li>`);
  return joinHtml(
    [
      html`<!doctype html><html lang="en"><head><meta charset="utf-8">`,
      html`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
      html`<meta name="viewport" content="width=device-width, initial-scale=1">`,
      html`<title>etlt lab uring: epoll against io_uring, ${date}</title>`,
      html`<style>${CSS}</style></head><body><main>`,
      html`<header><p class="kicker">etlt lab report</p><h1>epoll (ET, LT) against io_uring, per request</h1>`,
      html`<ul class="meta"><li>run <b>${date}</b></li><li><b>${fmt(num(m.cpus), true)}</b> CPUs</li><li>Node <b>${m.node}</b></li><li>Linux <b>${m.kernel}</b></li><li>${report.quick ? 'quick' : 'full'} run</li><li>etlt <b>${report.version}</b></li></ul>`,
      html`<p class="lede">Each server is a fresh <code>etlt serve</code> process; the lab's load generator runs in another. CPU is the server process's, every thread (the SQPOLL kernel thread is one), in clock ticks of 10 ms; syscalls are the server's own counts (io_uring's accepts, receives, sends and closes are operations of the ring, not syscalls: the io_uring_enter that submits them is).</p></header>`,
      html`<section class="workload"><h2>Verdict on this machine</h2><ul>${joinHtml(verdict)}</ul></section>`,
      ...sections,
      html`<section class="workload"><h2>Syscalls checked against strace</h2>${straceSection(report)}</section>`,
      html`<section class="workload"><h2>The published figures</h2><ul>${joinHtml(published)}</ul></section>`,
      html`<section class="workload"><h2>Every row</h2>${table(rows)}</section>`,
      html`<footer>Generated by <code>etlt lab uring</code> ${report.version}. A self-contained page: no scripts, no fonts, nothing fetched. The report’s JSON is embedded below.</footer>`,
      html`<script type="application/json" id="etlt-lab-report">${scriptJson(report)}</script>`,
      html`</main></body></html>\n`,
    ],
    '\n',
  ).toString();
}
