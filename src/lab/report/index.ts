/**
 * The lab's HTML report: one self-contained page rendered from a {@link LabReport}.
 *
 * Everything is generated at render time: inline CSS, inline SVG charts and timelines,
 * and the report's own JSON in an inert data block. The page runs no script and loads
 * nothing (a Content-Security-Policy of `default-src 'none'` says so to the browser), so
 * it can be mailed, attached to a CI run or opened from disk years later. All markup is
 * built with the `html` template of html.ts, so every piece of text from the report is
 * escaped; missing, zero and non-finite numbers render as empty bars and "n/a", never as
 * broken SVG.
 *
 * This file lays out the page; charts.ts, timeline.ts and tables.ts draw its figures.
 */
import type { LabReport } from '../types.js';
import { CHART_METRICS, barChart } from './charts.js';
import { UNKNOWN_COLOR, swatch } from './colors.js';
import { CSS } from './css.js';
import { fmt, num } from './format.js';
import { html, joinHtml, scriptJson } from './html.js';
import type { SafeHtml } from './html.js';
import { countersTable, resultsTable } from './tables.js';
import { MAX_TIMELINE_LANES, MAX_TIMELINE_WAITS, cleanWaits, timelineStats, timelineSvg } from './timeline.js';
import { viewOf } from './view.js';
import type { ReportView } from './view.js';

export { CHART_METRICS } from './charts.js';
export type { ChartMetric } from './charts.js';

/** Width of the figures' drawing area in the page's 1192 px column (borders and padding off). */
const FULL_WIDTH = 1150;
const HALF_WIDTH = 545;

function header(view: ReportView): SafeHtml[] {
  const { strategies, workloads, machine, version, date, colors, describe } = view;
  return [
    html`<header>`,
    html`<p class="kicker">etlt lab report</p>`,
    html`<h1>Edge- vs level-triggered epoll, measured</h1>`,
    html`<ul class="meta">`,
    html`<li>run <b>${date}</b></li>`,
    html`<li><b>${fmt(num(machine.cpus), true)}</b> CPUs</li>`,
    html`<li>Node <b>${machine.node}</b></li>`,
    html`<li>Linux <b>${machine.kernel}</b></li>`,
    html`<li>${machine.pinned ? html`server and load generator <b>pinned</b> to separate CPUs` : html`processes <b>not pinned</b> to CPUs`}</li>`,
    html`<li>etlt <b>${version}</b></li>`,
    html`</ul>`,
    joinHtml([
      html`<p class="lede">Each strategy below served the seed’s “Hello, world!” over loopback under each workload (HTTP/1.0, a connection per request, or HTTP/1.1 on persistent connections): `,
      html`<b>${strategies.length}</b> strategies × <b>${workloads.length}</b> workloads. `,
      html`The server counted every syscall it made, by kind, and every event epoll returned; the load generator timed each request and counted those left unanswered. `,
      html`Per-request figures divide by completed requests.</p>`,
    ]),
    html`<div class="compare">`,
    joinHtml([
      html`<div><h3>Level-triggered (LT)</h3><p>As long as an fd <em>is</em> readable or writable, every <code>epoll_wait</code> reports it again. `,
      html`Easy to get right: read part of the data now, the rest on the next wait. The cost: once a response is written the server must stop watching for writability `,
      html`(<code>epoll_ctl</code> MOD), or every wait reports “writable” for nothing; the seed blames those frequent changes to the kernel’s interest set for LT being slower.</p></div>`,
    ]),
    joinHtml([
      html`<div><h3>Edge-triggered (<code>EPOLLET</code>)</h3><p>Only the <em>change</em> is reported, once. Fewer epoll calls, but every event must be drained completely: `,
      html`<code>accept</code> until it fails, <code>recv</code> until it would block, <code>send</code> until done or it would block. `,
      html`Data left behind waits for an edge that never comes, and the request stalls.</p></div>`,
    ]),
    html`</div>`,
    html`<dl class="legend-list">`,
    ...strategies.map((s) => html`<dt>${swatch(colors.get(s) ?? UNKNOWN_COLOR)}${s}</dt><dd>${describe(s)}</dd>`),
    html`</dl>`,
    html`</header>`,
  ];
}

function chartsSection(view: ReportView): SafeHtml[] {
  // Upright value labels need about 26 px per bar: two charts a row when that fits.
  const bars = view.strategies.length * view.workloads.length;
  const wide = bars === 0 ? false : (HALF_WIDTH - 80) / Math.max(1, bars) < 26;
  const width = wide ? FULL_WIDTH : HALF_WIDTH;
  return [
    html`<section id="charts"><h2>Cost and failures at a glance</h2>`,
    html`<p class="note">One chart per metric, bars per strategy grouped by workload; lower is better in every chart. Hover a bar for its exact value.</p>`,
    html`<div class="charts${wide && ' wide'}">`,
    ...CHART_METRICS.map(
      (m) =>
        html`<figure><figcaption><h3>${m.title}</h3><p class="note">${m.note}</p></figcaption>${barChart(m, view, width)}</figure>`,
    ),
    html`</div></section>`,
  ];
}

function resultsSection(view: ReportView): SafeHtml[] {
  const out: SafeHtml[] = [
    html`<section id="results"><h2>Results by workload</h2>`,
    html`<p class="note">Bold green: the best value of the workload in that column; red: stalls, errors or useless wake-ups. Syscalls include libuv’s own <code>epoll_wait</code> on the server’s epoll fd.</p>`,
  ];
  if (view.workloads.length === 0) out.push(html`<p class="note"><em>This report has no results.</em></p>`);
  for (const w of view.workloads) {
    out.push(html`<div class="workload"><h3>${w}</h3>`);
    const d = view.workloadDescription(w);
    if (d !== '') out.push(html`<p class="note">${d}</p>`);
    out.push(resultsTable(w, view), countersTable(w, view), html`</div>`);
  }
  out.push(html`</section>`);
  return out;
}

function timelinesSection(view: ReportView): SafeHtml[] {
  const out: SafeHtml[] = [
    html`<section id="timelines"><h2>What each epoll_wait returned</h2>`,
    joinHtml([
      html`<p>The first <code>epoll_wait</code> returns of each strategy, one column per return, one lane per fd; a mark is an event for that fd, coloured by what it reported. `,
      html`Under LT an fd that stays readable or writable is reported again by every wait until the server reads it, writes it or withdraws its interest: a row of marks. `,
      html`Under ET each edge is reported once: a new mark means something new happened. The kernel reuses fd numbers, so one lane may hold several connections, one after another.</p>`,
    ]),
  ];
  if (view.timelineNames.length === 0) out.push(html`<p class="note"><em>This report has no timelines.</em></p>`);
  out.push(html`<div class="timelines">`);
  for (const s of view.timelineNames) {
    const waits = cleanWaits(view.timelines[s]);
    const st = timelineStats(waits);
    const shown = Math.min(waits.length, MAX_TIMELINE_WAITS);
    const perWait = fmt(st.waits === 0 ? Number.NaN : st.events / st.waits);
    out.push(
      html`<figure><figcaption><div class="timeline-head"><h3>${swatch(view.colors.get(s) ?? UNKNOWN_COLOR)}${s}</h3>`,
    );
    out.push(
      html`<span class="stats"><b>${st.waits}</b> waits over ${fmt(st.spanMs)} ms · <b>${st.events}</b> events on ${st.fds} fd${st.fds !== 1 && 's'} · ${perWait} events/wait</span></div>`,
    );
    const d = view.describe(s);
    if (d !== '') out.push(html`<p class="note">${d}</p>`);
    const hiddenLanes = st.fds - MAX_TIMELINE_LANES;
    if (shown < waits.length || hiddenLanes > 0) {
      out.push(
        html`<p class="note">Showing the first ${shown} waits${hiddenLanes > 0 && html` and the ${MAX_TIMELINE_LANES} lowest fds`}.</p>`,
      );
    }
    out.push(html`</figcaption>${timelineSvg(s, waits, FULL_WIDTH)}</figure>`);
  }
  out.push(html`</div></section>`);
  return out;
}

/**
 * Renders a lab report as one self-contained HTML page: a header (machine, date, what was
 * measured, ET vs LT), a results table per workload, a grouped bar chart per metric of
 * {@link CHART_METRICS} (`<svg data-chart="id">`, one `<rect class="bar">` per strategy and
 * workload carrying `data-strategy`, `data-workload` and `data-value`), and a timeline per
 * strategy of its first epoll_wait returns (`<svg data-timeline="strategy">`, one
 * `<g class="mark">` per fd per wait). The page needs no script and loads nothing; the
 * report itself is embedded as JSON in `<script type="application/json" id="etlt-lab-report">`.
 * Malformed reports render too, with whatever they hold.
 */
export function renderHtml(report: LabReport): string {
  const view = viewOf(report);
  const page = joinHtml(
    [
      html`<!doctype html><html lang="en"><head><meta charset="utf-8">`,
      html`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
      html`<meta name="viewport" content="width=device-width, initial-scale=1">`,
      html`<title>etlt lab: edge- vs level-triggered epoll, ${view.date}</title>`,
      html`<style>${CSS}</style></head><body><main>`,
      ...header(view),
      ...chartsSection(view),
      ...resultsSection(view),
      ...timelinesSection(view),
      joinHtml([
        html`<footer>Generated by <code>etlt lab</code> ${view.version}. A self-contained page: no scripts, no fonts, nothing fetched. `,
        html`The report’s JSON is embedded below as <code>&lt;script type="application/json" id="etlt-lab-report"&gt;</code>.</footer>`,
      ]),
      html`<script type="application/json" id="etlt-lab-report">${scriptJson(report)}</script>`,
      html`</main></body></html>\n`,
    ],
    '\n',
  );
  return page.toString();
}
