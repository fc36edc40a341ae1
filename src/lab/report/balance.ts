/**
 * The balance lab's HTML report: one self-contained page from a {@link BalanceReport}, in
 * the trigger report's style (its CSS, its escaping `html` template, no script, nothing
 * fetched). Per scenario: each kind's share of connections per worker as a stacked bar
 * (`<rect class="share">` with `data-balance`, `data-worker`, `data-value`), each worker's
 * p99 latency (`<rect class="lat">`, the same attributes), and a table of the figures.
 */
import { balanceFindings, verdict } from '../balance-findings.js';
import type { BalanceFinding } from '../balance-findings.js';
import type { BalanceReport, BalanceRow } from '../balance-types.js';
import { whyUnreliable } from '../plausible.js';
import { CSS } from './css.js';
import { fmt, fmtShort, formatDate, num, px } from './format.js';
import { html, joinHtml, scriptJson } from './html.js';
import type { SafeHtml } from './html.js';

/** One colour per worker index (colour-blind-friendly), repeating past eight. */
const WORKER_COLORS = ['#0b5cad', '#e76f51', '#2a9d8f', '#e9c46a', '#8d6e63', '#577590', '#90be6d', '#b5838d'];
const color = (i: number) => WORKER_COLORS[i % WORKER_COLORS.length]!;
/** Text on a worker's colour: dark on the light ones. */
const ink = (i: number) => (['#e9c46a', '#90be6d'].includes(color(i)) ? '#1c2128' : '#fff');

const WIDTH = 1150;
const LABEL = 110;
const ROW_H = 30;

/** Each kind's connections by worker as one bar of 100%. */
function sharesSvg(rows: readonly BalanceRow[]): SafeHtml {
  const plot = WIDTH - LABEL - 10;
  const h = rows.length * ROW_H + 24;
  const bars = rows.map((r, i) => {
    const per = Array.isArray(r.perWorker) ? r.perWorker.map(num) : [];
    const total = per.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    let x = LABEL;
    const y = 8 + i * ROW_H;
    const segs = per.map((n, w) => {
      const share = total > 0 && Number.isFinite(n) ? n / total : 0;
      const width = share * plot;
      const seg = html`<rect class="share" data-balance="${r.balance}" data-worker="${w}" data-value="${n}" x="${px(x)}" y="${px(y)}" width="${px(width)}" height="${ROW_H - 8}" fill="${color(w)}"><title>${r.balance}: worker ${w} accepted ${fmt(n, true)} (${fmt(share * 100)}%)</title></rect>${width > 34 ? html`<text class="share-label" x="${px(x + width / 2)}" y="${px(y + ROW_H / 2)}" text-anchor="middle" style="fill:${ink(w)};font-size:10.5px">${fmt(share * 100)}%</text>` : ''}`;
      x += width;
      return seg;
    });
    return html`<text class="group-label" x="${LABEL - 8}" y="${px(y + ROW_H / 2)}" text-anchor="end">${r.balance}</text>${joinHtml(segs)}`;
  });
  return html`<svg data-chart="shares" viewBox="0 0 ${WIDTH} ${h}" role="img" aria-label="share of connections per worker">${joinHtml(bars)}<text class="tick" x="${LABEL}" y="${h - 4}">0%</text><text class="tick" x="${WIDTH - 10}" y="${h - 4}" text-anchor="end">100%</text></svg>`;
}

/** Each worker's p99 latency, grouped by kind. */
function latencySvg(rows: readonly BalanceRow[]): SafeHtml {
  const all = rows.flatMap((r) => (Array.isArray(r.detail) ? r.detail.map((w) => num(w.p99Ms)) : []));
  const top = Math.max(1e-9, ...all.filter(Number.isFinite));
  const plot = WIDTH - LABEL - 60;
  const barH = 12;
  let y = 8;
  const groups = rows.map((r) => {
    const detail = Array.isArray(r.detail) ? r.detail : [];
    const y0 = y;
    const bars = detail.map((w, i) => {
      const v = num(w.p99Ms);
      const width = Number.isFinite(v) ? (v / top) * plot : 0;
      const by = y0 + i * (barH + 2);
      return html`<rect class="lat" data-balance="${r.balance}" data-worker="${i}" data-value="${v}" x="${LABEL}" y="${px(by)}" width="${px(width)}" height="${barH}" fill="${color(i)}"><title>${r.balance}: worker ${i} p99 ${fmt(v)} ms</title></rect><text class="value" x="${px(LABEL + width + 4)}" y="${px(by + barH - 2)}">${fmtShort(v)} ms</text>`;
    });
    y += Math.max(1, detail.length) * (barH + 2) + 12;
    return html`<text class="group-label" x="${LABEL - 8}" y="${px(y0 + 12)}" text-anchor="end">${r.balance}</text>${joinHtml(bars)}`;
  });
  return html`<svg data-chart="latency" viewBox="0 0 ${WIDTH} ${px(y)}" role="img" aria-label="p99 latency per worker">${joinHtml(groups)}</svg>`;
}

const ROW_CONTEXT: ReadonlySet<string> = new Set(['scenario', 'balance', 'serveBalance', 'mode', 'unreliable']);
const COLUMNS = 11;

/** A finding as a row under the table row it concerns: the claim, the verdict, this run's numbers, and why. */
function findingRow(f: BalanceFinding): SafeHtml {
  return html`<tr class="finding" data-finding="${f.id}" data-shown="${String(f.shown)}"><td colspan="${COLUMNS}" class="left wrap"><b>${f.shown ? '✓' : '–'} ${verdict(f)}:</b> ${f.claim} <span class="evidence">This run: ${f.evidence}.</span>${f.why !== undefined && html` <span class="why">Why: ${f.why}</span>`}</td></tr>`;
}

function table(rows: readonly BalanceRow[], findings: readonly BalanceFinding[]): SafeHtml {
  const head = html`<thead><tr><th class="left">balance</th><th>accepted per worker</th><th>wake-ups / accept</th><th>accept EAGAIN</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>sd ms</th><th>req/s</th><th>CPU µs/req</th><th>errors</th></tr></thead>`;
  const body = rows.map((r) => {
    const why = whyUnreliable(r, ROW_CONTEXT);
    const notes = [
      ...(why === undefined
        ? []
        : [html`<tr class="why"><td colspan="${COLUMNS}" class="left">unreliable, not compared: ${why}</td></tr>`]),
      ...findings.filter((f) => f.balance === r.balance).map(findingRow),
    ];
    return html`<tr data-balance="${r.balance}"${why !== undefined && html` class="unreliable"`}><th class="left">${r.balance}</th><td>${(Array.isArray(r.perWorker) ? r.perWorker : []).map((n) => fmt(num(n), true)).join(' / ')}</td><td>${fmt(num(r.wakeupsPerAccept))}</td><td>${fmt(num(r.acceptEagain), true)}</td><td>${fmt(num(r.p50Ms))}</td><td>${fmt(num(r.p99Ms))}</td><td>${fmt(num(r.maxMs))}</td><td>${fmt(num(r.stdevMs))}</td><td>${fmt(num(r.rps), true)}</td><td>${fmt(num(r.cpuUsPerRequest))}</td><td>${fmt(num(r.errors) + num(r.stalled), true)}</td></tr>${joinHtml(notes)}`;
  });
  return html`<div class="table-wrap"><table>${head}<tbody>${joinHtml(body)}</tbody></table></div>`;
}

function legend(workers: number): SafeHtml {
  const items = Array.from(
    { length: Math.max(0, Math.min(64, workers)) },
    (_, i) => html`<span><span class="swatch" style="background:${color(i)}"></span>worker ${i}</span> `,
  );
  return html`<p class="note">${joinHtml(items)}</p>`;
}

/** Renders a balance report as one self-contained HTML page (malformed reports render with what they hold). */
export function renderBalanceHtml(report: BalanceReport): string {
  const rows = Array.isArray(report.rows) ? report.rows : [];
  const scenarios = Array.isArray(report.scenarios) ? report.scenarios : [];
  const date = typeof report.startedAt === 'string' ? formatDate(report.startedAt) : 'n/a';
  // Recomputed from the rows, so an older report's page checks its claims too.
  const findings = balanceFindings({ ...report, rows, scenarios });
  const sections = scenarios.map((sc) => {
    const mine = rows.filter((r) => r.scenario === sc.name);
    return joinHtml([
      html`<section class="workload" data-scenario="${sc.name}"><h2>Scenario “${sc.name}”</h2><p class="note">${sc.description}.</p>`,
      html`<figure style="margin:16px 0"><h3>Share of connections accepted, per worker</h3>${legend(num(report.workers))}${sharesSvg(mine)}</figure>`,
      html`<figure style="margin:16px 0"><h3>p99 latency of the requests each worker answered</h3>${latencySvg(mine)}</figure>`,
      html`<p class="note">Under a row: what the theory or the published figures claim about it, checked against this run’s own numbers (✓ shown in this run, – not shown in this run), and why.</p>`,
      table(
        mine,
        findings.filter((f) => f.scenario === sc.name),
      ),
      html`</section>`,
    ]);
  });
  const kinds = (Array.isArray(report.balances) ? report.balances : []).map(
    (b) => html`<dt>${b.name}</dt><dd>${b.description}</dd>`,
  );
  const m = report.machine ?? { cpus: NaN, node: 'n/a', kernel: 'n/a' };
  return joinHtml(
    [
      html`<!doctype html><html lang="en"><head><meta charset="utf-8">`,
      html`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
      html`<meta name="viewport" content="width=device-width, initial-scale=1">`,
      html`<title>etlt lab balance: sharing the accept load, ${date}</title>`,
      html`<style>${CSS}</style></head><body><main>`,
      html`<header><p class="kicker">etlt lab report</p><h1>Worker processes and the thundering herd, measured</h1>`,
      html`<ul class="meta"><li>run <b>${date}</b></li><li><b>${fmt(num(m.cpus), true)}</b> CPUs</li><li>Node <b>${m.node}</b></li><li>Linux <b>${m.kernel}</b></li><li><b>${fmt(num(report.workers), true)}</b> workers</li><li><b>${fmt(num(report.concurrency), true)}</b> connections in flight</li><li>etlt <b>${report.version}</b></li></ul>`,
      html`<p class="lede">The same connection-per-request load against N worker processes, once for each way of sharing the accept load. A wake-up that finds nothing to accept is the herd: another worker took the connection first.</p>`,
      html`<dl class="legend-list">${joinHtml(kinds)}</dl></header>`,
      ...sections,
      html`<footer>Generated by <code>etlt lab balance</code> ${report.version}. A self-contained page: no scripts, no fonts, nothing fetched. The report’s JSON is embedded below.</footer>`,
      html`<script type="application/json" id="etlt-lab-report">${scriptJson(report)}</script>`,
      html`</main></body></html>\n`,
    ],
    '\n',
  ).toString();
}
