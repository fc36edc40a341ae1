/**
 * The grouped bar charts: one inline SVG per metric, bars per strategy grouped by
 * workload. Sizes are computed, not left to CSS, so bar heights are exact (the report
 * test measures them against the values) and the page needs no script to lay them out.
 */
import type { LabResult } from '../types.js';
import { UNKNOWN_COLOR } from './colors.js';
import { clamp, fmt, fmtShort, niceAxis, num, px, textWidth, tickLabel, truncate } from './format.js';
import { html, joinHtml } from './html.js';
import type { SafeHtml } from './html.js';
import type { ReportView } from './view.js';

/** One grouped bar chart of the report: a per-result number, lower is better for all. */
export interface ChartMetric {
  /** The chart's `data-chart` attribute. */
  readonly id: string;
  /** The chart's heading, and its SVG `<title>`. */
  readonly title: string;
  /** The y axis label. */
  readonly unit: string;
  /** One sentence under the title: what the number is and why it matters. */
  readonly note: string;
  /** True when the values are counts (whole numbers), so the axis never shows 0.5. */
  readonly integer: boolean;
  /** The charted number of one result; NaN when the result lacks it. */
  readonly value: (r: LabResult) => number;
}

/** The charts of the report, in page order; their ids are the `data-chart` attributes. */
export const CHART_METRICS: readonly ChartMetric[] = [
  {
    id: 'cpuUsPerRequest',
    title: 'Server CPU per request',
    unit: 'CPU µs / request',
    note: 'User + system time of the server process divided by completed requests.',
    integer: false,
    value: (r) => num(r.cpuUsPerRequest),
  },
  {
    id: 'syscallsPerRequest',
    title: 'Syscalls per request',
    unit: 'syscalls / request',
    note: 'Every syscall the server made (epoll, accept, recv, send, shutdown, close) per completed request.',
    integer: false,
    value: (r) => num(r.syscallsPerRequest?.total),
  },
  {
    id: 'epollWaitPerRequest',
    title: 'epoll_wait per request',
    unit: 'epoll_wait / request',
    note: 'How often the server asked the kernel what is ready (libuv’s wake-ups included).',
    integer: false,
    value: (r) => num(r.syscallsPerRequest?.epoll_wait),
  },
  {
    id: 'epollCtlPerRequest',
    title: 'epoll_ctl per request',
    unit: 'epoll_ctl / request',
    note: 'Changes to the kernel’s interest set (ADD, MOD, DEL): the seed’s “frequent modify” cost.',
    integer: false,
    value: (r) => num(r.syscallsPerRequest?.epoll_ctl),
  },
  {
    id: 'stalled',
    title: 'Stalled requests',
    unit: 'stalled requests',
    note: 'Requests with no complete answer within the timeout: lost wake-ups, ET’s failure mode.',
    integer: true,
    value: (r) => num(r.stalled),
  },
  {
    id: 'uselessEventsPerRequest',
    title: 'Useless events per request',
    unit: 'useless events / request',
    note: 'Events that found nothing to do: LT’s failure mode when interest is not withdrawn.',
    integer: false,
    value: (r) => num(r.uselessEventsPerRequest),
  },
];

/** One entry of an SVG legend. */
export interface LegendItem {
  /** The text after the swatch. */
  readonly label: string;
  /** Any CSS colour, as the swatch's `fill`. */
  readonly color: string;
}

/**
 * Legend rows for the top of a chart or timeline: swatch and name, wrapped to `width`
 * from `(x0, y0)`. Returns the markup and its height, which the caller needs before it
 * can place the plot below.
 */
export function legend(
  items: readonly LegendItem[],
  x0: number,
  y0: number,
  width: number,
): { svg: SafeHtml; height: number } {
  const parts: SafeHtml[] = [];
  let x = x0;
  let y = y0;
  for (const { label, color } of items) {
    const w = 12 + 6 + label.length * 6.6 + 16;
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      y += 20;
    }
    parts.push(
      html`<g class="legend-item"><rect x="${px(x)}" y="${px(y)}" width="12" height="12" rx="2" fill="${color}"/><text x="${px(x + 18)}" y="${px(y + 10)}">${label}</text></g>`,
    );
    x += w;
  }
  return { svg: html`<g class="legend">${parts}</g>`, height: items.length === 0 ? 0 : y - y0 + 16 };
}

/**
 * The chart of `metric` over the view's strategies and workloads, `width` px wide: one
 * `<rect class="bar">` per strategy and workload, carrying `data-strategy`,
 * `data-workload` and `data-value` (`NaN` for a missing value, drawn as an empty bar).
 */
export function barChart(metric: ChartMetric, view: ReportView, width: number): SafeHtml {
  const { strategies, workloads, lookup, colors, unreliable } = view;
  const S = strategies.length;
  const W = workloads.length;
  const left = 64;
  const right = 16;
  const plotW = width - left - right;
  const leg = legend(
    strategies.map((s) => ({ label: s, color: colors.get(s) ?? UNKNOWN_COLOR })),
    0,
    4,
    width,
  );

  // Bar geometry first: it decides whether value labels fit upright or must be turned.
  const groupW = plotW / Math.max(1, W);
  const barSlot = (groupW * 0.84) / Math.max(1, S);
  const barW = Math.max(1, barSlot * 0.82);
  const values = workloads.map((w) =>
    strategies.map((s) => {
      const r = lookup(s, w);
      // An unreliable result is drawn as an empty bar: its table row says why.
      return r === undefined || unreliable(r) !== undefined ? Number.NaN : metric.value(r);
    }),
  );
  const labels = values.map((row) =>
    row.map((v) => (metric.integer && Number.isFinite(v) ? fmt(v, true) : fmtShort(v))),
  );
  const rotate = labels.some((row) => row.some((l) => textWidth(l, 10.5) > barSlot - 2));
  const headroom = rotate ? 8 + Math.max(16, ...labels.flat().map((l) => textWidth(l, 10.5))) : 20;

  const plotTop = 4 + leg.height + 10 + headroom;
  const plotH = width > 800 ? 230 : 200;
  const plotBottom = plotTop + plotH;
  const height = plotBottom + 50;

  const finite = values.flat().filter((v) => Number.isFinite(v));
  const max = finite.length === 0 ? 0 : Math.max(0, ...finite);
  const { top, step } = niceAxis(max, metric.integer);
  const y = (v: number) => plotBottom - (clamp(v, 0, top) / top) * plotH;
  const midX = px(left + plotW / 2);
  const midY = px(plotTop + plotH / 2);

  const out: SafeHtml[] = [];
  out.push(
    html`<svg class="chart" data-chart="${metric.id}" viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}" role="img" aria-label="${metric.title}, by workload and strategy" xmlns="http://www.w3.org/2000/svg">`,
  );
  out.push(html`<title>${metric.title}</title>`);
  out.push(leg.svg);

  out.push(html`<g class="grid">`);
  for (let i = 0; i <= Math.round(top / step); i++) {
    const v = i * step;
    const yy = px(y(v));
    out.push(
      html`<line x1="${px(left)}" x2="${px(left + plotW)}" y1="${yy}" y2="${yy}"${i === 0 && html` class="baseline"`}/>`,
    );
    out.push(
      html`<text class="tick" x="${px(left - 8)}" y="${px(y(v) + 4)}" text-anchor="end">${tickLabel(v, step)}</text>`,
    );
  }
  out.push(html`</g>`);
  out.push(
    html`<text class="axis-label" transform="translate(16 ${midY}) rotate(-90)" text-anchor="middle">${metric.unit}</text>`,
  );
  out.push(html`<text class="axis-label" x="${midX}" y="${px(height - 6)}" text-anchor="middle">workload</text>`);

  // Without these an empty chart would look like a rendering failure.
  if (S === 0 || W === 0) {
    out.push(html`<text class="empty" x="${midX}" y="${midY}" text-anchor="middle">no results in this report</text>`);
  } else if (finite.length > 0 && max === 0) {
    out.push(
      html`<text class="empty" x="${midX}" y="${midY}" text-anchor="middle">zero for every strategy and workload</text>`,
    );
  }

  out.push(html`<g class="bars">`);
  workloads.forEach((w, wi) => {
    const gx = left + wi * groupW + groupW * 0.08;
    strategies.forEach((s, si) => {
      const v = values[wi]?.[si] ?? Number.NaN;
      const label = labels[wi]?.[si] ?? 'n/a';
      const x = gx + si * barSlot + (barSlot - barW) / 2;
      const ok = Number.isFinite(v);
      const yTop = ok ? y(v) : plotBottom;
      const h = plotBottom - yTop;
      out.push(
        html`<rect class="bar" data-strategy="${s}" data-workload="${w}" data-value="${ok ? v : 'NaN'}" x="${px(x)}" y="${px(yTop)}" width="${px(barW)}" height="${px(h)}" fill="${colors.get(s) ?? UNKNOWN_COLOR}"><title>${s} · ${w}: ${ok ? fmt(v, metric.integer) : 'n/a'} ${metric.unit}</title></rect>`,
      );
      const cx = x + barW / 2;
      const cls = ok ? 'value' : 'value na';
      if (rotate) {
        out.push(
          html`<text class="${cls}" transform="translate(${px(cx + 3.5)} ${px(yTop - 4)}) rotate(-90)">${label}</text>`,
        );
      } else {
        out.push(html`<text class="${cls}" x="${px(cx)}" y="${px(yTop - 5)}" text-anchor="middle">${label}</text>`);
      }
    });
    const maxChars = Math.max(3, Math.floor(groupW / 7.2));
    const sepX = px(left + wi * groupW);
    out.push(
      html`<text class="group-label" x="${px(left + wi * groupW + groupW / 2)}" y="${px(plotBottom + 20)}" text-anchor="middle">${truncate(w, maxChars)}<title>${w}</title></text>`,
    );
    if (wi > 0)
      out.push(
        html`<line class="group-sep" x1="${sepX}" x2="${sepX}" y1="${px(plotBottom)}" y2="${px(plotBottom + 8)}"/>`,
      );
  });
  out.push(html`</g></svg>`);
  return joinHtml(out);
}
