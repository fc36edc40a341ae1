// soak.html: per variant, its verdict and one line chart per figure (RSS, V8 heap, open
// fds, live connections, req/s, honest errors, the probe's latency) over time, as inline
// SVG drawn from soak.json's samples. The page loads nothing; markup goes through the
// lab report's escaping `html` template and its axis arithmetic.
import { html, joinHtml, raw, scriptJson } from '../../dist/src/lab/report/html.js';
import { fmt, niceAxis, px, tickLabel } from '../../dist/src/lab/report/format.js';
import { figuresLine } from './verdict.mjs';

const MiB = 1 << 20;

/** The charts of each variant: [data-chart id, title, unit, value of a sample, integer]. */
export const SERIES = [
  ['rss', 'Resident memory (RSS)', 'MiB', (s) => s.rssBytes / MiB, false],
  ['heap', 'V8 heap used', 'MiB', (s) => (s.heapUsed === null ? NaN : s.heapUsed / MiB), false],
  ['fds', 'Open file descriptors', 'fds', (s) => s.fds, true],
  ['connections', 'Live connections', 'connections', (s) => s.open ?? NaN, true],
  ['rps', 'Responses per second', 'req/s', (s) => s.rps ?? NaN, false],
  ['errors', 'Honest errors (cumulative)', 'failed or different', (s) => s.errors, true],
  ['probe', 'Probe latency (event-loop delay as a client sees it)', 'ms', (s) => s.probeMs ?? NaN, false],
];

const W = 560;
const H = 200;
const PAD = { l: 56, r: 12, t: 12, b: 30 };

/** One time-series chart; points with no value (NaN) break the line. */
export function lineChart(id, title, unit, points, integer, loadedS) {
  const finite = points.filter(([, v]) => Number.isFinite(v));
  const tMax = Math.max(1, ...points.map(([t]) => t));
  const y = niceAxis(Math.max(0, ...finite.map(([, v]) => v)), integer);
  // The time axis ends where the samples end; only its tick step is rounded.
  const x = { top: tMax, step: niceAxis(tMax, true).step };
  const sx = (t) => PAD.l + (t / x.top) * (W - PAD.l - PAD.r);
  const sy = (v) => H - PAD.b - (v / y.top) * (H - PAD.t - PAD.b);
  const runs = [];
  let cur = [];
  for (const [t, v] of points) {
    if (Number.isFinite(v)) cur.push(`${px(sx(t))},${px(sy(v))}`);
    else if (cur.length > 0) (runs.push(cur), (cur = []));
  }
  if (cur.length > 0) runs.push(cur);
  const yTicks = [];
  for (let v = 0; v <= y.top + 1e-9; v += y.step) yTicks.push(v);
  const xTicks = [];
  for (let t = 0; t <= x.top + 1e-9; t += x.step) xTicks.push(t);
  return html`<figure data-chart="${id}">
<figcaption>${title}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img"><title>${title} (${unit})</title>
${joinHtml(
  yTicks.map(
    (v) =>
      html`<line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${px(sy(v))}" y2="${px(sy(v))}"/><text class="tick" x="${PAD.l - 6}" y="${px(sy(v) + 4)}" text-anchor="end">${tickLabel(v, y.step)}</text>`,
  ),
  '\n',
)}
${joinHtml(
  xTicks.map(
    (t) =>
      html`<text class="tick" x="${px(sx(t))}" y="${H - PAD.b + 16}" text-anchor="middle">${tickLabel(t, x.step)}</text>`,
  ),
  '\n',
)}
<line class="loadend" x1="${px(sx(loadedS))}" x2="${px(sx(loadedS))}" y1="${PAD.t}" y2="${H - PAD.b}"/>
${joinHtml(
  runs.map((r) => html`<polyline class="series" points="${r.join(' ')}"/>`),
  '\n',
)}
<text class="unit" x="${PAD.l}" y="${H - 4}">${unit} over seconds (dashed: load stops)</text>
</svg>
</figure>`;
}

function checksTable(checks) {
  return html`<table class="checks"><thead><tr><th>check</th><th>held</th><th>measured</th></tr></thead><tbody>
${joinHtml(
  checks.map(
    (c) =>
      html`<tr class="${c.ok === null ? 'unmeasured' : c.ok ? 'ok' : 'bad'}"><td>${c.name}</td><td>${c.ok === null ? 'NOT MEASURED' : c.ok ? 'yes' : 'NO'}</td><td>${c.detail}</td></tr>`,
  ),
  '\n',
)}
</tbody></table>`;
}

function tallyTable(honest) {
  return html`<table><thead><tr><th>honest client</th><th>ok</th><th>failed</th><th>different</th><th>resent</th></tr></thead><tbody>
${joinHtml(
  Object.entries(honest.sources).map(
    ([k, s]) =>
      html`<tr><td>${k}</td><td>${fmt(s.ok, true)}</td><td>${fmt(s.failed, true)}</td><td>${fmt(s.different, true)}</td><td>${fmt(s.resent, true)}</td></tr>`,
  ),
  '\n',
)}
</tbody></table>`;
}

function hostileTable(hostile) {
  return html`<table><thead><tr><th>hostile client</th><th>attempts</th><th>what happened</th></tr></thead><tbody>
${joinHtml(
  Object.entries(hostile.kinds).map(
    ([k, s]) =>
      html`<tr><td>${k}</td><td>${fmt(s.attempts, true)}</td><td>${Object.entries(s.outcomes)
        .map(([o, n]) => `${o}: ${n}`)
        .join(', ')}</td></tr>`,
  ),
  '\n',
)}
</tbody></table>`;
}

function variantSection(v) {
  if (v.status === 'unavailable')
    return html`<section data-variant="${v.variant}" class="unavailable"><h2>${v.variant}: NOT AVAILABLE in this build</h2><p>${v.reason}</p></section>`;
  if (v.status === 'error')
    return html`<section data-variant="${v.variant}" class="failed"><h2>${v.variant}: FAILED to run</h2><p>${v.error}</p></section>`;
  const r = v.record;
  return html`<section data-variant="${v.variant}" class="${v.held ? 'held' : 'failed'}">
<h2>${v.variant}: ${v.held ? 'held' : 'DID NOT HOLD'}</h2>
<p><code>etlt ${r.args.join(' ')}</code>, ${r.loadedS} s under load: ${v.figures ? figuresLine(v.figures) : ''}</p>
${checksTable(v.checks)}
<div class="charts">
${joinHtml(
  SERIES.map(([id, title, unit, value, integer]) =>
    lineChart(
      id,
      title,
      unit,
      r.samples.map((s) => [s.t, value(s)]),
      integer,
      r.loadedS,
    ),
  ),
  '\n',
)}
</div>
${tallyTable(r.honest)}
${hostileTable(r.hostile)}
${r.emfile ? html`<p class="emfile">EMFILE phase: <code>prlimit --nofile=${r.emfile.nofile}:${r.emfile.nofile}</code>, ${r.emfile.holders} connections held, ${r.emfile.shed} shed, ${r.emfile.exhaustedCpuPct.toFixed(1)}% of a core while out of fds; afterwards ${r.emfile.recovered.ok} answered right, ${r.emfile.recovered.failed} not</p>` : ''}
</section>`;
}

const CSS = raw(`body { font: 15px/1.5 system-ui, sans-serif; color: #1c2128; margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 32px 24px; }
h1 { font-size: 28px; margin: 0 0 8px; } h2 { font-size: 20px; margin: 36px 0 8px; }
.verdict { font-size: 18px; font-weight: 600; } .verdict.bad, .bad td:nth-child(2), .unmeasured td:nth-child(2), .unavailable h2, .failed h2 { color: #b3261e; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; } td, th { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } figure { margin: 0; } figcaption { font-weight: 600; font-size: 14px; }
.grid { stroke: #eaeef2; } .tick, .unit { font-size: 11px; fill: #57606a; } .series { fill: none; stroke: #0b5cad; stroke-width: 1.5; }
.loadend { stroke: #8c959f; stroke-dasharray: 4 3; }`);

/** The whole page for the soak's result (the object soak.json holds). */
export function renderSoakHtml(result) {
  const verdictText = result.held ? 'held' : 'DID NOT HOLD';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>etlt soak: ${verdictText}</title><style>${CSS}</style></head>
<body><main>
<h1>etlt soak</h1>
<p class="verdict ${result.held ? 'ok' : 'bad'}">${verdictText}: ${result.summary}</p>
<p>${result.startedAt}, ${result.seconds} s of load in all (${result.variants.length} variants), seed ${result.seed}, ${result.machine}</p>
${joinHtml(result.variants.map(variantSection), '\n')}
<script type="application/json" id="soak-data">${scriptJson({ held: result.held, summary: result.summary })}</script>
</main></body></html>
`.toString();
}
