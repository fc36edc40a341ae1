/**
 * The scaling lab's HTML report: one self-contained page from a {@link ScalingReport}, in
 * the trigger report's style (its CSS, its escaping `html` template, no script, nothing
 * fetched). Log-log charts of CPU per wait and per request against the idle connection
 * count, one line per backend (`<path class="series" data-backend>`, a `<circle
 * class="point" data-backend data-idle data-value>` per row that ran), this machine's
 * figures beside Kerrisk's TLPI table 63-9, and the rows as a table with their errors.
 */
import { READINESS_BACKENDS } from '../../http/trigger/catalog.js';
import { whyUnreliable } from '../plausible.js';
import type { PublishedTable, ScalingReport, ScalingRow } from '../scaling-types.js';
import { CSS } from './css.js';
import { fmt, formatDate, num, px } from './format.js';
import { html, joinHtml, scriptJson } from './html.js';
import type { SafeHtml } from './html.js';

/** epoll in the ET orange-red family's dark end, poll blue, select purple (as the trigger lab's LT hues). */
const BACKEND_COLORS: Readonly<Record<string, string>> = { epoll: '#d9541e', poll: '#1f5fa8', select: '#7b4fb5' };
const colorOf = (b: string) => BACKEND_COLORS[b] ?? '#8c959f';

const WIDTH = 545;
const HEIGHT = 340;
const LEFT = 64;
const RIGHT = 16;
const TOP = 16;
const BOTTOM = 44;

/** A decade's label: 10, 100, 1k, 10k, 0.1. */
function decadeLabel(d: number): string {
  if (d >= 6) return `${10 ** (d - 6)}M`;
  if (d >= 3) return `${10 ** (d - 3)}k`;
  return d >= 0 ? String(10 ** d) : (10 ** d).toFixed(-d);
}

/** Decades from 10^lo to 10^hi covering [min, max] of the positive finite values. */
function decades(values: readonly number[]): [number, number] {
  const ok = values.filter((v) => Number.isFinite(v) && v > 0);
  if (ok.length === 0) return [0, 1];
  const lo = Math.floor(Math.log10(Math.min(...ok)));
  const hi = Math.ceil(Math.log10(Math.max(...ok)));
  return [lo, hi > lo ? hi : lo + 1];
}

/** A log-log chart of `value(row)` against idle connections, one series per backend. */
function logLogSvg(
  id: string,
  rows: readonly ScalingRow[],
  backends: readonly string[],
  value: (r: ScalingRow) => number,
  unit: string,
): SafeHtml {
  const ran = rows.filter(
    (r) => r.error === undefined && !unreliable(r) && Number.isFinite(value(r)) && value(r) > 0 && r.idle > 0,
  );
  const [xlo, xhi] = decades(rows.map((r) => num(r.idle)));
  const [ylo, yhi] = decades(ran.map(value));
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (v: number) => LEFT + ((Math.log10(v) - xlo) / (xhi - xlo)) * plotW;
  const y = (v: number) => TOP + plotH - ((Math.log10(v) - ylo) / (yhi - ylo)) * plotH;
  const grid: SafeHtml[] = [];
  for (let d = xlo; d <= xhi; d++) {
    const gx = x(10 ** d);
    grid.push(
      html`<line class="grid" x1="${px(gx)}" y1="${TOP}" x2="${px(gx)}" y2="${TOP + plotH}" stroke="#d0d7de"/><text class="tick" x="${px(gx)}" y="${TOP + plotH + 16}" text-anchor="middle">${decadeLabel(d)}</text>`,
    );
  }
  for (let d = ylo; d <= yhi; d++) {
    const gy = y(10 ** d);
    grid.push(
      html`<line class="grid" x1="${LEFT}" y1="${px(gy)}" x2="${LEFT + plotW}" y2="${px(gy)}" stroke="#d0d7de"/><text class="tick" x="${LEFT - 6}" y="${px(gy + 4)}" text-anchor="end">${decadeLabel(d)}</text>`,
    );
  }
  const series = backends.map((b) => {
    const pts = ran.filter((r) => r.backend === b).sort((p, q) => p.idle - q.idle);
    const d = pts.map((r, i) => `${i === 0 ? 'M' : 'L'}${px(x(r.idle))},${px(y(value(r)))}`).join(' ');
    const dots = pts.map(
      (r) =>
        html`<circle class="point" data-backend="${b}" data-idle="${r.idle}" data-value="${value(r)}" cx="${px(x(r.idle))}" cy="${px(y(value(r)))}" r="4" fill="${colorOf(b)}"><title>${b}, ${fmt(r.idle, true)} idle: ${fmt(value(r))} ${unit}</title></circle>`,
    );
    const line =
      pts.length > 1
        ? html`<path class="series" data-backend="${b}" d="${d}" fill="none" stroke="${colorOf(b)}" stroke-width="2"/>`
        : '';
    return html`${line}${joinHtml(dots)}`;
  });
  const refused = rows
    .filter((r) => r.error !== undefined && r.idle > 0)
    .map(
      (r) =>
        html`<text class="refused" data-backend="${r.backend}" data-idle="${r.idle}" x="${px(x(r.idle))}" y="${TOP + 12}" text-anchor="middle" fill="${colorOf(r.backend)}">✕<title>${r.backend}, ${fmt(r.idle, true)} idle: ${r.error ?? ''}</title></text>`,
    );
  return html`<svg data-chart="${id}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${unit} against idle connections, log-log">${joinHtml(grid)}${joinHtml(series)}${joinHtml(refused)}<text class="axis" x="${LEFT + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle">idle connections (log)</text><text class="axis" transform="translate(14 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle">${unit} (log)</text></svg>`;
}

function legend(backends: readonly string[]): SafeHtml {
  return html`<p class="note">${joinHtml(backends.map((b) => html`<span><span class="swatch" style="background:${colorOf(b)}"></span>${b}</span> `))} ✕: the backend could not run (see the table)</p>`;
}

/** Keys of a row that are context, not figures. */
const ROW_CONTEXT: ReadonlySet<string> = new Set(['backend', 'mode', 'error', 'unreliable']);
const unreliable = (r: ScalingRow) => whyUnreliable(r, ROW_CONTEXT) !== undefined;

const cell = (v: number | null | undefined, integer = false) =>
  v === null || v === undefined ? 'n/a' : fmt(num(v), integer);

function table(rows: readonly ScalingRow[]): SafeHtml {
  const head = html`<thead><tr><th class="left">backend</th><th>idle</th><th>req/s</th><th>CPU µs/req</th><th>CPU µs/wait</th><th>waits/req</th><th>syscalls/req</th><th>events/wait</th><th>RSS B/conn</th><th>shed</th><th class="left">error</th></tr></thead>`;
  const body = rows.map((r) => {
    const why = whyUnreliable(r, ROW_CONTEXT);
    const note = r.error ?? (why === undefined ? '' : `unreliable, not compared: ${why}`);
    return html`<tr data-backend="${r.backend}" data-idle="${r.idle}"${why !== undefined && html` class="unreliable"`}><th class="left">${r.backend}</th><td>${cell(r.idle, true)}</td><td>${cell(r.rps, true)}</td><td>${cell(r.usPerRequest)}</td><td>${cell(r.usPerWait)}</td><td>${cell(r.waitsPerRequest)}</td><td>${cell(r.syscallsPerRequest)}</td><td>${cell(r.eventsPerWait)}</td><td>${cell(r.rssBytesPerConnection, true)}</td><td>${cell(r.shed, true)}</td><td class="left wrap">${note}</td></tr>`;
  });
  return html`<div class="table-wrap"><table>${head}<tbody>${joinHtml(body)}</tbody></table></div>`;
}

/**
 * TLPI's figure for `backend` at `fds`: its own row, or read off the straight line between
 * its two neighbouring rows on a log-log scale (marked as such); undefined outside its range.
 */
export function publishedAt(
  pub: PublishedTable['rows'],
  backend: 'poll' | 'select' | 'epoll',
  fds: number,
): { value: number; interpolated: boolean } | undefined {
  const rows = [...pub].sort((a, b) => a.fds - b.fds);
  const exact = rows.find((p) => p.fds === fds);
  if (exact !== undefined) return { value: num(exact[backend]), interpolated: false };
  const hi = rows.findIndex((p) => p.fds > fds);
  if (hi <= 0) return undefined;
  const a = rows[hi - 1]!;
  const b = rows[hi]!;
  const t = (Math.log(fds) - Math.log(a.fds)) / (Math.log(b.fds) - Math.log(a.fds));
  return {
    value: Math.exp(Math.log(num(a[backend])) + t * (Math.log(num(b[backend])) - Math.log(num(a[backend])))),
    interpolated: true,
  };
}

/**
 * TLPI's seconds per 100,000 operations beside this machine's CPU per wait, scaled to the
 * same count: a row per fd count of the run (TLPI read between its rows where it has none)
 * and per count of TLPI's table.
 */
function publishedTable(report: ScalingReport, rows: readonly ScalingRow[]): SafeHtml {
  const pub = report.published;
  const ops = num(pub?.operations);
  const published: PublishedTable['rows'] = Array.isArray(pub?.rows) ? pub.rows : [];
  const mine = (b: string, fds: number) => {
    const r = rows.find((x) => x.backend === b && x.idle === fds);
    if (r === undefined) return 'not run';
    if (r.error !== undefined) return 'refused';
    if (unreliable(r)) return 'unreliable';
    return r.usPerWait === null ? 'n/a' : fmt((num(r.usPerWait) * ops) / 1e6);
  };
  const theirs = (b: 'poll' | 'select' | 'epoll', fds: number) => {
    const p = publishedAt(published, b, fds);
    if (p === undefined) return html`<td class="na">outside the table</td>`;
    return p.interpolated
      ? html`<td title="read between TLPI's rows on a log-log scale">≈${fmt(p.value)}</td>`
      : html`<td>${fmt(p.value)}</td>`;
  };
  const ran = rows.filter((r) => r.idle > 0).map((r) => num(r.idle));
  const counts = [...new Set([...ran, ...published.map((p) => num(p.fds))])].sort((a, b) => a - b);
  const body = counts.map(
    (n) =>
      html`<tr data-fds="${n}"${ran.includes(n) && html` class="ran"`}><th class="left">${fmt(n, true)}</th>${theirs('poll', n)}${theirs('select', n)}${theirs('epoll', n)}<td>${mine('poll', n)}</td><td>${mine('select', n)}</td><td>${mine('epoll', n)}</td></tr>`,
  );
  return html`<div class="table-wrap"><table><thead><tr><th class="left">fds</th><th>TLPI poll s</th><th>TLPI select s</th><th>TLPI epoll s</th><th>here poll s</th><th>here select s</th><th>here epoll s</th></tr></thead><tbody>${joinHtml(body)}</tbody></table></div>`;
}

/** Renders a scaling report as one self-contained HTML page (malformed reports render with what they hold). */
export function renderScalingHtml(report: ScalingReport): string {
  const rows = Array.isArray(report.rows) ? report.rows : [];
  const backends = Array.isArray(report.backends) ? report.backends : [...READINESS_BACKENDS];
  const date = typeof report.startedAt === 'string' ? formatDate(report.startedAt) : 'n/a';
  const m = report.machine ?? { cpus: NaN, node: 'n/a', kernel: 'n/a' };
  return joinHtml(
    [
      html`<!doctype html><html lang="en"><head><meta charset="utf-8">`,
      html`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
      html`<meta name="viewport" content="width=device-width, initial-scale=1">`,
      html`<title>etlt lab scaling: epoll, poll and select against idle connections, ${date}</title>`,
      html`<style>${CSS}</style></head><body><main>`,
      html`<header><p class="kicker">etlt lab report</p><h1>epoll, poll and select as the connections grow</h1>`,
      html`<ul class="meta"><li>run <b>${date}</b></li><li><b>${fmt(num(m.cpus), true)}</b> CPUs</li><li>Node <b>${m.node}</b></li><li>Linux <b>${m.kernel}</b></li><li><b>${fmt(num(report.busy), true)}</b> busy clients</li><li>FD_SETSIZE <b>${fmt(num(report.fdSetSize), true)}</b></li><li>ulimit -Hn <b>${fmt(num(report.fileLimit), true)}</b></li><li>etlt <b>${report.version}</b></li></ul>`,
      html`<p class="lede">One server process, level-triggered on each backend, holds N idle kept-alive connections while ${fmt(num(report.busy), true)} busy clients load it. poll(2) and select(2) hand the kernel every fd on every wait and scan them all after it: their cost per wait grows with N. epoll keeps the set in the kernel and returns only the ready fds.</p></header>`,
      html`<section class="workload"><h2>CPU against idle connections</h2>${legend(backends)}<div class="charts">`,
      html`<figure><h3>Server CPU per wait</h3>${logLogSvg('usPerWait', rows, backends, (r) => num(r.usPerWait), 'CPU µs / wait')}</figure>`,
      html`<figure><h3>Server CPU per busy request</h3>${logLogSvg('usPerRequest', rows, backends, (r) => num(r.usPerRequest), 'CPU µs / request')}</figure>`,
      html`</div></section>`,
      html`<section class="workload"><h2>Every row</h2>${table(rows)}</section>`,
      html`<section class="workload"><h2>Beside Kerrisk’s TLPI, table 63-9</h2><p class="note">Seconds of CPU for ${fmt(num(report.published?.operations), true)} operations with N fds, one of them ready. Here: this machine’s CPU per wait with N idle connections, times ${fmt(num(report.published?.operations), true)} (the whole server’s time per wait: the request’s work is in it too). A row per count of this run and of TLPI’s table; ≈ marks TLPI’s figure read between its two nearest rows (log-log), since the run’s counts need not be TLPI’s.</p>${publishedTable(report, rows)}</section>`,
      html`<footer>Generated by <code>etlt lab scaling</code> ${report.version}. A self-contained page: no scripts, no fonts, nothing fetched. The report’s JSON is embedded below.</footer>`,
      html`<script type="application/json" id="etlt-lab-report">${scriptJson(report)}</script>`,
      html`</main></body></html>\n`,
    ],
    '\n',
  ).toString();
}
