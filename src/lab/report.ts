/**
 * The lab's HTML report: one self-contained page rendered from a {@link LabReport}.
 *
 * Everything is generated here, at render time: inline CSS, inline SVG charts and
 * timelines, and the report's own JSON in an inert data block. The page runs no script and
 * loads nothing (a Content-Security-Policy of `default-src 'none'` says so to the
 * browser), so it can be mailed, attached to a CI run or opened from disk years later.
 * Every piece of text that comes from the report is escaped; missing, zero and non-finite
 * numbers render as empty bars and "n/a", never as broken SVG.
 */
import type { LabReport, LabResult, TimelineWait } from './types.js';

// ---------------------------------------------------------------------------------------
// epoll masks
// ---------------------------------------------------------------------------------------

/**
 * Linux's epoll event bits (include/uapi/linux/eventpoll.h). Written out rather than read
 * from the addon: a report is rendered from JSON, perhaps on another machine, and the
 * masks in it are always Linux's.
 */
export const EPOLL_BITS: Readonly<Record<'IN' | 'PRI' | 'OUT' | 'ERR' | 'HUP' | 'RDHUP' | 'ET', number>> = {
  IN: 0x1,
  PRI: 0x2,
  OUT: 0x4,
  ERR: 0x8,
  HUP: 0x10,
  RDHUP: 0x2000,
  ET: 0x80000000,
};

const KNOWN_BITS = Object.values(EPOLL_BITS).reduce((a, b) => (a | b) >>> 0, 0);

/**
 * The names of the bits set in an epoll event mask, short and in a fixed order
 * (`IN`, `PRI`, `OUT`, `ERR`, `HUP`, `RDHUP`, `ET`), then any other bits as one hex number.
 * The mask is read as unsigned 32 bits, so `EPOLLIN | EPOLLET` may be passed negative.
 * A non-finite mask gives an empty list.
 */
export function decodeEvents(mask: number): string[] {
  if (!Number.isFinite(mask)) return [];
  const m = mask >>> 0;
  const names: string[] = [];
  for (const [name, bit] of Object.entries(EPOLL_BITS)) {
    if ((m & bit) !== 0) names.push(name);
  }
  const rest = (m & ~KNOWN_BITS) >>> 0;
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names;
}

/** How the timeline colours an event: readable, writable, hung up or failed, or anything else. */
type EventKind = 'in' | 'out' | 'hup' | 'other';

const EVENT_KINDS: readonly { kind: EventKind; label: string; color: string }[] = [
  { kind: 'in', label: 'EPOLLIN', color: '#2f9e44' },
  { kind: 'out', label: 'EPOLLOUT', color: '#1971c2' },
  { kind: 'hup', label: 'EPOLLRDHUP / HUP / ERR', color: '#e03131' },
  { kind: 'other', label: 'other (PRI, …)', color: '#868e96' },
];

function kindsOf(mask: number): EventKind[] {
  const m = mask >>> 0;
  const kinds: EventKind[] = [];
  if ((m & EPOLL_BITS.IN) !== 0) kinds.push('in');
  if ((m & EPOLL_BITS.OUT) !== 0) kinds.push('out');
  if ((m & (EPOLL_BITS.RDHUP | EPOLL_BITS.HUP | EPOLL_BITS.ERR)) !== 0) kinds.push('hup');
  const other = (m & ~(EPOLL_BITS.IN | EPOLL_BITS.OUT | EPOLL_BITS.RDHUP | EPOLL_BITS.HUP | EPOLL_BITS.ERR | EPOLL_BITS.ET)) >>> 0;
  if (other !== 0 || kinds.length === 0) kinds.push('other');
  return kinds;
}

// ---------------------------------------------------------------------------------------
// What is charted
// ---------------------------------------------------------------------------------------

/** One grouped bar chart of the report: a per-result number, lower is better for all. */
export interface ChartMetric {
  /** The chart's `data-chart` attribute. */
  readonly id: string;
  readonly title: string;
  /** The y axis label. */
  readonly unit: string;
  /** One sentence under the title: what the number is and why it matters. */
  readonly note: string;
  /** True when the values are counts (whole numbers), so the axis never shows 0.5. */
  readonly integer: boolean;
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

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number.NaN;
}

/** Escapes text for HTML element content and double- or single-quoted attributes (SVG too). */
function esc(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A coordinate for SVG: finite, two decimals. */
function px(v: number): string {
  return String(Number.isFinite(v) ? Math.round(v * 100) / 100 : 0);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function unique(items: Iterable<string>): string[] {
  return [...new Set(items)];
}

/** A number for a table cell: thousands separated when large, a few significant digits when small. */
function fmt(v: number, integer = false): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (integer || a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(2);
  return v.toPrecision(2);
}

/** A number for a bar label: at most about five characters. */
function fmtShort(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e5) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(2);
  return v.toPrecision(1);
}

/** Rough width of a label in SVG pixels (system sans-serif digits are about 0.6 em). */
function textWidth(text: string, fontPx: number): number {
  return text.length * fontPx * 0.6;
}

function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, Math.max(1, maxChars - 1))}…`;
}

/** A "nice" axis: a top value and a step of 1, 2, 2.5 or 5 × 10^k, about five ticks. */
function niceAxis(max: number, integer: boolean): { top: number; step: number } {
  if (!Number.isFinite(max) || max <= 0) return { top: 1, step: integer ? 1 : 0.25 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = mag;
  for (const m of [1, 2, 2.5, 5, 10]) {
    step = m * mag;
    if (step >= raw) break;
  }
  if (integer) step = Math.max(1, Math.round(step));
  return { top: Math.ceil(max / step - 1e-9) * step, step };
}

function tickLabel(v: number, step: number): string {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) + 1e-9) + (String(step).includes('25') ? 1 : 0));
  const s = v.toFixed(decimals);
  return v >= 1000 ? Number(s).toLocaleString('en-US') : s;
}

function formatDate(iso: string): string {
  const d = new Date(iso);
  if (typeof iso !== 'string' || Number.isNaN(d.getTime())) return String(iso ?? 'unknown date');
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

// ---------------------------------------------------------------------------------------
// Colours
// ---------------------------------------------------------------------------------------

/**
 * The lab's own strategies get fixed colours by family, so a reader learns them once:
 * level-triggered in blues and purple, edge-triggered in oranges and red, the seed's
 * versions lighter, the pitfalls darkest.
 */
const STRATEGY_COLORS: Readonly<Record<string, string>> = {
  'seed-lt': '#74a9d8',
  lt: '#1f5fa8',
  'lt-always-out': '#7b4fb5',
  'seed-et': '#f4a259',
  et: '#d9541e',
  'et-no-drain': '#9e1b32',
};

/** For strategies the lab does not know: a colour-blind-friendly categorical palette. */
const FALLBACK_COLORS = ['#2a9d8f', '#8d6e63', '#e9c46a', '#577590', '#90be6d', '#ef476f', '#264653', '#b5838d'];

function assignColors(strategies: readonly string[]): Map<string, string> {
  const colors = new Map<string, string>();
  const used = new Set<string>();
  for (const s of strategies) {
    const c = Object.hasOwn(STRATEGY_COLORS, s) ? STRATEGY_COLORS[s] : undefined;
    if (c !== undefined && !used.has(c)) {
      colors.set(s, c);
      used.add(c);
    }
  }
  let next = 0;
  for (const s of strategies) {
    if (colors.has(s)) continue;
    const c = FALLBACK_COLORS.find((x) => !used.has(x)) ?? `hsl(${Math.round((next++ * 137.508) % 360)} 55% 45%)`;
    colors.set(s, c);
    used.add(c);
  }
  return colors;
}

// ---------------------------------------------------------------------------------------
// Grouped bar charts
// ---------------------------------------------------------------------------------------

interface ChartInput {
  strategies: readonly string[];
  workloads: readonly string[];
  lookup: (strategy: string, workload: string) => LabResult | undefined;
  colors: Map<string, string>;
  width: number;
}

/** Legend rows: swatch + name, wrapped to `width`. Returns the markup and its height. */
function legend(items: readonly { label: string; color: string }[], x0: number, y0: number, width: number): { svg: string; height: number } {
  const parts: string[] = [];
  let x = x0;
  let y = y0;
  for (const { label, color } of items) {
    const w = 12 + 6 + label.length * 6.6 + 16;
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      y += 20;
    }
    parts.push(
      `<g class="legend-item"><rect x="${px(x)}" y="${px(y)}" width="12" height="12" rx="2" fill="${esc(color)}"/>` +
        `<text x="${px(x + 18)}" y="${px(y + 10)}">${esc(label)}</text></g>`,
    );
    x += w;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: items.length === 0 ? 0 : y - y0 + 16 };
}

function barChart(metric: ChartMetric, input: ChartInput): string {
  const { strategies, workloads, lookup, colors, width } = input;
  const S = strategies.length;
  const W = workloads.length;
  const left = 64;
  const right = 16;
  const plotW = width - left - right;
  const leg = legend(strategies.map((s) => ({ label: s, color: colors.get(s) ?? '#888' })), 0, 4, width);

  // Bar geometry first: it decides whether value labels fit upright or must be turned.
  const groupW = plotW / Math.max(1, W);
  const barSlot = (groupW * 0.84) / Math.max(1, S);
  const barW = Math.max(1, barSlot * 0.82);
  const values = workloads.map((w) => strategies.map((s) => {
    const r = lookup(s, w);
    return r === undefined ? Number.NaN : metric.value(r);
  }));
  const labels = values.map((row) => row.map((v) => (metric.integer && Number.isFinite(v) ? fmt(v, true) : fmtShort(v))));
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

  const out: string[] = [];
  out.push(
    `<svg class="chart" data-chart="${esc(metric.id)}" viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}" role="img" aria-label="${esc(`${metric.title}, by workload and strategy`)}" xmlns="http://www.w3.org/2000/svg">`,
  );
  out.push(`<title>${esc(metric.title)}</title>`);
  out.push(leg.svg);

  // Grid and y ticks.
  out.push('<g class="grid">');
  for (let i = 0; i <= Math.round(top / step); i++) {
    const v = i * step;
    const yy = y(v);
    out.push(`<line x1="${px(left)}" x2="${px(left + plotW)}" y1="${px(yy)}" y2="${px(yy)}"${i === 0 ? ' class="baseline"' : ''}/>`);
    out.push(`<text class="tick" x="${px(left - 8)}" y="${px(yy + 4)}" text-anchor="end">${esc(tickLabel(v, step))}</text>`);
  }
  out.push('</g>');
  out.push(
    `<text class="axis-label" transform="translate(16 ${px(plotTop + plotH / 2)}) rotate(-90)" text-anchor="middle">${esc(metric.unit)}</text>`,
  );
  out.push(`<text class="axis-label" x="${px(left + plotW / 2)}" y="${px(height - 6)}" text-anchor="middle">workload</text>`);

  if (S === 0 || W === 0) {
    out.push(`<text class="empty" x="${px(left + plotW / 2)}" y="${px(plotTop + plotH / 2)}" text-anchor="middle">no results in this report</text>`);
  } else if (finite.length > 0 && max === 0) {
    out.push(`<text class="empty" x="${px(left + plotW / 2)}" y="${px(plotTop + plotH / 2)}" text-anchor="middle">zero for every strategy and workload</text>`);
  }

  // Bars, grouped by workload.
  out.push('<g class="bars">');
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
        `<rect class="bar" data-strategy="${esc(s)}" data-workload="${esc(w)}" data-value="${ok ? esc(v) : 'NaN'}" x="${px(x)}" y="${px(yTop)}" width="${px(barW)}" height="${px(h)}" fill="${esc(colors.get(s) ?? '#888')}">` +
          `<title>${esc(`${s} · ${w}: ${ok ? fmt(v, metric.integer) : 'n/a'} ${metric.unit}`)}</title></rect>`,
      );
      const cx = x + barW / 2;
      const cls = ok ? 'value' : 'value na';
      if (rotate) {
        out.push(`<text class="${cls}" transform="translate(${px(cx + 3.5)} ${px(yTop - 4)}) rotate(-90)">${esc(label)}</text>`);
      } else {
        out.push(`<text class="${cls}" x="${px(cx)}" y="${px(yTop - 5)}" text-anchor="middle">${esc(label)}</text>`);
      }
    });
    const maxChars = Math.max(3, Math.floor(groupW / 7.2));
    out.push(
      `<text class="group-label" x="${px(left + wi * groupW + groupW / 2)}" y="${px(plotBottom + 20)}" text-anchor="middle">${esc(truncate(w, maxChars))}<title>${esc(w)}</title></text>`,
    );
    if (wi > 0) {
      out.push(`<line class="group-sep" x1="${px(left + wi * groupW)}" x2="${px(left + wi * groupW)}" y1="${px(plotBottom)}" y2="${px(plotBottom + 8)}"/>`);
    }
  });
  out.push('</g></svg>');
  return out.join('');
}

// ---------------------------------------------------------------------------------------
// Timelines
// ---------------------------------------------------------------------------------------

/** More columns than this and a mark would be thinner than a pixel at 1280 px. */
const MAX_TIMELINE_WAITS = 400;
/** More lanes than this and the figure would be taller than a screen. */
const MAX_TIMELINE_LANES = 48;

interface TimelineStats {
  waits: number;
  events: number;
  fds: number;
  spanMs: number;
}

function cleanWaits(waits: unknown): TimelineWait[] {
  if (!Array.isArray(waits)) return [];
  const out: TimelineWait[] = [];
  for (const w of waits as unknown[]) {
    if (typeof w !== 'object' || w === null) continue;
    const { t, events } = w as { t?: unknown; events?: unknown };
    const pairs: [number, number][] = [];
    if (Array.isArray(events)) {
      for (const p of events as unknown[]) {
        if (!Array.isArray(p)) continue;
        const fd = num(p[0]);
        const ev = num(p[1]);
        if (Number.isInteger(fd) && fd >= 0 && Number.isFinite(ev)) pairs.push([fd, ev >>> 0]);
      }
    }
    out.push({ t: num(t), events: pairs });
  }
  return out;
}

/**
 * Counts only. No "re-report" count: a timeline cannot tell LT repeating a level from a
 * new edge (a listener's next connection), nor one connection from the next to reuse its
 * fd number; the reader can, from the marks and the workload.
 */
function timelineStats(waits: readonly TimelineWait[]): TimelineStats {
  let events = 0;
  const fds = new Set<number>();
  for (const w of waits) {
    for (const [fd] of w.events) {
      events++;
      fds.add(fd);
    }
  }
  const times = waits.map((w) => w.t).filter((t) => Number.isFinite(t));
  const spanMs = times.length < 2 ? 0 : Math.max(...times) - Math.min(...times);
  return { waits: waits.length, events, fds: fds.size, spanMs };
}

function timelineSvg(strategy: string, all: readonly TimelineWait[], width: number): string {
  const waits = all.slice(0, MAX_TIMELINE_WAITS);
  const fdAll = [...new Set(waits.flatMap((w) => w.events.map(([fd]) => fd)))].sort((a, b) => a - b);
  const fds = fdAll.slice(0, MAX_TIMELINE_LANES);
  const lane = new Map(fds.map((fd, i) => [fd, i]));
  const left = 58;
  const right = 14;
  const plotW = width - left - right;
  const leg = legend(EVENT_KINDS.map((k) => ({ label: k.label, color: k.color })), 0, 4, width);
  const laneH = 18;
  const plotTop = 4 + leg.height + 12;
  const plotH = Math.max(1, fds.length) * laneH;
  const plotBottom = plotTop + plotH;
  const height = plotBottom + 56;
  const n = Math.max(1, waits.length);
  const colW = plotW / n;
  const markW = clamp(colW * 0.62, 1.5, 14);
  const colorOf = new Map(EVENT_KINDS.map((k) => [k.kind, k.color]));

  const out: string[] = [];
  out.push(
    `<svg class="timeline" data-timeline="${esc(strategy)}" viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}" role="img" aria-label="${esc(`epoll_wait returns of ${strategy}, one lane per fd`)}" xmlns="http://www.w3.org/2000/svg">`,
  );
  out.push(`<title>${esc(`${strategy}: the first epoll_wait returns`)}</title>`);
  out.push(leg.svg);

  // Lanes.
  out.push('<g class="lanes">');
  fds.forEach((fd, i) => {
    const yy = plotTop + i * laneH;
    out.push(`<rect class="lane${i % 2 === 1 ? ' odd' : ''}" x="${px(left)}" y="${px(yy)}" width="${px(plotW)}" height="${px(laneH)}"/>`);
    out.push(`<text class="lane-label" x="${px(left - 8)}" y="${px(yy + laneH / 2 + 4)}" text-anchor="end">fd ${esc(fd)}</text>`);
  });
  out.push('</g>');

  if (waits.length === 0 || fds.length === 0) {
    out.push(`<text class="empty" x="${px(left + plotW / 2)}" y="${px(plotTop + 13)}" text-anchor="middle">no epoll_wait returns recorded</text>`);
  }

  // Column ticks: every k-th wait, k from 1, 2, 5, 10, ... so labels sit ≥ 64 px apart.
  let k = 1;
  for (const c of [1, 2, 5, 10, 20, 25, 50, 100, 200]) {
    k = c;
    if (c * colW >= 64) break;
  }
  out.push('<g class="ticks">');
  for (let i = 0; i < waits.length; i++) {
    const cx = left + (i + 0.5) * colW;
    const labelled = i === 0 || (i + 1) % k === 0;
    if (colW >= 7 || labelled) {
      out.push(`<line class="${labelled ? 'col major' : 'col'}" x1="${px(cx)}" x2="${px(cx)}" y1="${px(plotTop)}" y2="${px(plotBottom + (labelled ? 5 : 0))}"/>`);
    }
    if (labelled) {
      const t = waits[i]?.t ?? Number.NaN;
      out.push(`<text class="tick" x="${px(cx)}" y="${px(plotBottom + 18)}" text-anchor="middle">#${i + 1}</text>`);
      out.push(`<text class="tick sub" x="${px(cx)}" y="${px(plotBottom + 31)}" text-anchor="middle">${Number.isFinite(t) ? `${esc(fmt(t))} ms` : '?'}</text>`);
    }
  }
  out.push('</g>');
  out.push(
    `<text class="axis-label" x="${px(left + plotW / 2)}" y="${px(height - 6)}" text-anchor="middle">epoll_wait returns in order (#), with the time each returned since the server started</text>`,
  );

  // Marks: one per (wait, fd), split into a coloured segment per kind of readiness.
  out.push('<g class="marks">');
  waits.forEach((w, i) => {
    const merged = new Map<number, number>();
    for (const [fd, ev] of w.events) merged.set(fd, ((merged.get(fd) ?? 0) | ev) >>> 0);
    for (const [fd, ev] of merged) {
      const li = lane.get(fd);
      if (li === undefined) continue;
      const kinds = kindsOf(ev);
      const x = left + (i + 0.5) * colW - markW / 2;
      const y0 = plotTop + li * laneH + 3;
      const segH = (laneH - 6) / kinds.length;
      const names = decodeEvents(ev).join('|') || '0';
      const t = Number.isFinite(w.t) ? `${fmt(w.t)} ms` : 'time unknown';
      out.push(
        `<g class="mark" data-fd="${esc(fd)}" data-wait="${i}" data-events="${esc(names)}"><title>${esc(`wait #${i + 1} at ${t}: fd ${fd} ${names}`)}</title>` +
          kinds.map((kd, j) => `<rect x="${px(x)}" y="${px(y0 + j * segH)}" width="${px(markW)}" height="${px(segH)}" fill="${colorOf.get(kd) ?? '#888'}"/>`).join('') +
          '</g>',
      );
    }
  });
  out.push('</g></svg>');
  return out.join('');
}

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

interface Column {
  head: string;
  title: string;
  value: (r: LabResult) => number;
  integer?: boolean;
  /** Which way is better, for highlighting the best value of a workload. */
  better?: 'low' | 'high';
  /** Non-zero is a failure (stalls, errors). */
  alarm?: boolean;
  group?: boolean;
}

const sys = (k: keyof LabResult['syscallsPerRequest']) => (r: LabResult) => num(r.syscallsPerRequest?.[k]);

const COLUMNS: readonly Column[] = [
  { head: 'req/s', title: 'completed requests per second', value: (r) => num(r.rps), better: 'high' },
  { head: 'CPU µs/req', title: 'server CPU (user + system) per completed request, µs', value: (r) => num(r.cpuUsPerRequest), better: 'low' },
  { head: 'total', title: 'all syscalls per request', value: sys('total'), better: 'low', group: true },
  { head: 'epoll_wait', title: 'epoll_wait per request', value: sys('epoll_wait'), better: 'low', group: true },
  { head: 'epoll_ctl', title: 'epoll_ctl per request', value: sys('epoll_ctl'), better: 'low', group: true },
  { head: 'accept4', title: 'accept4 per request', value: sys('accept4'), group: true },
  { head: 'recvfrom', title: 'recvfrom per request', value: sys('recvfrom'), group: true },
  { head: 'sendto', title: 'sendto per request', value: sys('sendto'), group: true },
  { head: 'shutdown', title: 'shutdown per request', value: sys('shutdown'), group: true },
  { head: 'close', title: 'close per request', value: sys('close'), group: true },
  { head: 'ev/wait', title: 'events returned per epoll_wait', value: (r) => num(r.eventsPerWait) },
  { head: 'useless/req', title: 'events that found nothing to do, per request', value: (r) => num(r.uselessEventsPerRequest), better: 'low', alarm: true },
  { head: 'stalled', title: 'requests with no complete answer within the timeout', value: (r) => num(r.stalled), integer: true, alarm: true },
  { head: 'errors', title: 'connections refused, reset or otherwise failed', value: (r) => num(r.errors), integer: true, alarm: true },
  { head: 'p50 ms', title: 'median latency of completed requests, ms', value: (r) => num(r.p50Ms), better: 'low' },
  { head: 'p99 ms', title: '99th percentile latency of completed requests, ms', value: (r) => num(r.p99Ms), better: 'low' },
];

function swatch(color: string): string {
  return `<span class="swatch" style="background:${esc(color)}"></span>`;
}

function resultsTable(workload: string, strategies: readonly string[], lookup: ChartInput['lookup'], colors: Map<string, string>): string {
  const rows = strategies.map((s) => ({ s, r: lookup(s, workload) }));
  const best = COLUMNS.map((c) => {
    if (c.better === undefined) return Number.NaN;
    const vs = rows.flatMap(({ r }) => (r === undefined ? [] : [c.value(r)])).filter((v) => Number.isFinite(v));
    if (vs.length < 2 || Math.min(...vs) === Math.max(...vs)) return Number.NaN;
    return c.better === 'low' ? Math.min(...vs) : Math.max(...vs);
  });
  const out: string[] = [];
  out.push(`<div class="table-wrap"><table data-workload="${esc(workload)}">`);
  const groupStart = COLUMNS.findIndex((c) => c.group === true);
  const groupLen = COLUMNS.filter((c) => c.group === true).length;
  out.push('<thead><tr><th rowspan="2" class="left">strategy</th>');
  COLUMNS.forEach((c, i) => {
    if (c.group === true) {
      if (i === groupStart) out.push(`<th colspan="${groupLen}" class="group">syscalls per request</th>`);
    } else {
      out.push(`<th rowspan="2" title="${esc(c.title)}">${esc(c.head)}</th>`);
    }
  });
  out.push('<th rowspan="2" title="completed of attempted requests">done</th></tr><tr>');
  for (const c of COLUMNS) if (c.group === true) out.push(`<th class="sub" title="${esc(c.title)}">${esc(c.head)}</th>`);
  out.push('</tr></thead><tbody>');
  for (const { s, r } of rows) {
    out.push(`<tr><th class="left" scope="row">${swatch(colors.get(s) ?? '#888')}${esc(s)}</th>`);
    COLUMNS.forEach((c, i) => {
      const v = r === undefined ? Number.NaN : c.value(r);
      const cls: string[] = [];
      if (c.group === true) cls.push('grp');
      if (Number.isFinite(v) && v === best[i]) cls.push('best');
      if (c.alarm === true && Number.isFinite(v) && v > 0) cls.push('bad');
      if (!Number.isFinite(v)) cls.push('na');
      out.push(`<td${cls.length > 0 ? ` class="${cls.join(' ')}"` : ''}>${esc(fmt(v, c.integer === true))}</td>`);
    });
    const done = r === undefined ? 'n/a' : `${fmt(num(r.completed), true)}/${fmt(num(r.attempted), true)}`;
    out.push(`<td class="done">${esc(done)}</td></tr>`);
  }
  out.push('</tbody></table></div>');
  return out.join('');
}

function countersTable(workload: string, strategies: readonly string[], lookup: ChartInput['lookup']): string {
  const present = strategies.filter((s) => lookup(s, workload) !== undefined);
  const names = unique(present.flatMap((s) => Object.keys(lookup(s, workload)?.counters ?? {})));
  if (names.length === 0) return '';
  const out: string[] = [];
  out.push(`<details><summary>Raw server counters (${esc(workload)})</summary><div class="table-wrap"><table class="counters"><thead><tr><th class="left">counter</th>`);
  for (const s of present) out.push(`<th>${esc(s)}</th>`);
  out.push('</tr></thead><tbody>');
  for (const name of names) {
    out.push(`<tr><th class="left" scope="row"><code>${esc(name)}</code></th>`);
    for (const s of present) {
      const v = lookup(s, workload)?.counters?.[name];
      out.push(`<td>${esc(fmt(num(v), true))}</td>`);
    }
    out.push('</tr>');
  }
  out.push('</tbody></table></div></details>');
  return out.join('');
}

// ---------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------

const CSS = `
:root { --fg: #1c2128; --muted: #57606a; --faint: #8c959f; --line: #d0d7de; --soft: #f6f8fa; --accent: #0b5cad; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #fff; color: var(--fg); font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1248px; margin: 0 auto; padding: 48px 28px 72px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 24px; margin-bottom: 8px; }
.kicker { margin: 0; color: var(--muted); font-size: 14px; letter-spacing: .04em; text-transform: uppercase; font-weight: 600; }
h1 { font-size: 34px; line-height: 1.2; margin: 6px 0 14px; letter-spacing: -.01em; }
h2 { font-size: 24px; margin: 48px 0 8px; letter-spacing: -.005em; }
h3 { font-size: 18px; margin: 0 0 2px; }
p { margin: 0 0 14px; max-width: 76ch; }
.lede { font-size: 18px; color: #30363d; }
.meta { display: flex; flex-wrap: wrap; gap: 8px 10px; margin: 0 0 18px; padding: 0; list-style: none; font-size: 14px; }
.meta li { background: var(--soft); border: 1px solid var(--line); border-radius: 999px; padding: 2px 12px; color: var(--muted); }
.meta b { color: var(--fg); font-weight: 600; }
.compare { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin: 20px 0 8px; }
.compare div { border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; background: var(--soft); font-size: 15px; }
.compare h3 { font-size: 16px; margin-bottom: 6px; }
.compare p { margin: 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; background: var(--soft); padding: 0 4px; border-radius: 4px; }
.legend-list { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 12px 0 0; font-size: 15px; }
.legend-list dt { font-weight: 600; white-space: nowrap; }
.legend-list dd { margin: 0; color: var(--muted); }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 8px; vertical-align: 0; }
.note { color: var(--muted); font-size: 14px; margin: 0 0 12px; }
.table-wrap { overflow-x: auto; margin: 8px 0 10px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 5px; text-align: right; border-bottom: 1px solid #eaeef2; white-space: nowrap; }
thead th { font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); vertical-align: bottom; font-size: 11.5px; }
th:first-child { padding-left: 8px; }
thead th.group { text-align: center; border-bottom: 1px solid var(--line); color: var(--fg); }
thead th.sub, td.grp { background: #fafbfc; }
.left { text-align: left; }
tbody th { font-weight: 600; }
tbody tr:hover td, tbody tr:hover th { background: #f1f6fd; }
td.best { font-weight: 700; color: #116329; }
td.bad { color: #b42318; font-weight: 700; }
td.na { color: var(--faint); }
td.done { color: var(--muted); }
details { margin: 0 0 8px; font-size: 14px; }
summary { cursor: pointer; color: var(--accent); }
table.counters { width: auto; }
.workload { margin-top: 28px; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 24px; }
.charts.wide { grid-template-columns: minmax(0, 1fr); }
figure { margin: 0; border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px 10px; background: #fff; }
figure h3 { font-size: 17px; }
figcaption { margin-bottom: 6px; }
svg { display: block; width: 100%; height: auto; max-width: 100%; font-family: inherit; overflow: visible; }
svg text { fill: var(--fg); font-size: 12px; }
svg .tick { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
svg .tick.sub { fill: var(--faint); font-size: 10px; }
svg .axis-label { fill: var(--muted); font-size: 12px; }
svg .group-label { font-size: 13px; font-weight: 600; }
svg .value { font-size: 10.5px; fill: #30363d; font-variant-numeric: tabular-nums; }
svg .value.na, svg .empty { fill: var(--faint); }
svg .empty { font-size: 13px; font-style: italic; }
svg .grid line { stroke: #eaeef2; stroke-width: 1; }
svg .grid line.baseline { stroke: #8c959f; }
svg .group-sep { stroke: var(--line); }
svg .lane { fill: #fbfcfd; }
svg .lane.odd { fill: #f2f4f7; }
svg .lane-label { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
svg .col { stroke: #e6e9ed; stroke-width: 1; }
svg .col.major { stroke: #c9d1d9; }
svg .legend text { font-size: 12px; fill: #30363d; }
.timelines { display: grid; gap: 24px; }
.timeline-head { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.stats { color: var(--muted); font-size: 14px; font-variant-numeric: tabular-nums; }
.stats b { color: var(--fg); }
footer { margin-top: 56px; padding-top: 16px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
@media (max-width: 1000px) { .charts { grid-template-columns: minmax(0, 1fr); } .compare { grid-template-columns: 1fr; } main { padding: 32px 16px 48px; } }
@media print { main { padding: 0; } figure { break-inside: avoid; } }
`;

/** Width of the figures' drawing area in the page's 1192 px column (borders and padding off). */
const FULL_WIDTH = 1150;
const HALF_WIDTH = 545;

/**
 * Renders a lab report as one self-contained HTML page: a header (machine, date, what was
 * measured, ET vs LT), a results table per workload, a grouped bar chart per metric of
 * {@link CHART_METRICS} (`<svg data-chart="id">`, one `<rect class="bar">` per strategy and
 * workload carrying `data-strategy`, `data-workload` and `data-value`), and a timeline per
 * strategy of its first epoll_wait returns (`<svg data-timeline="strategy">`, one
 * `<g class="mark">` per fd per wait). The page needs no script and loads nothing.
 */
export function renderHtml(report: LabReport): string {
  const results: LabResult[] = Array.isArray(report.results) ? report.results.filter((r) => typeof r === 'object' && r !== null) : [];
  const timelines: Record<string, unknown> = typeof report.timelines === 'object' && report.timelines !== null ? report.timelines : {};
  const descriptions: Record<string, string> = typeof report.descriptions === 'object' && report.descriptions !== null ? report.descriptions : {};
  const workloadInfo = Array.isArray(report.workloads) ? report.workloads : [];
  const strategies = unique([...(Array.isArray(report.strategies) ? report.strategies : []), ...results.map((r) => r.strategy)].map(String));
  const workloads = unique([...workloadInfo.map((w) => w.name), ...results.map((r) => r.workload)].map(String));
  const timelineNames = unique([...strategies.filter((s) => Object.hasOwn(timelines, s)), ...Object.keys(timelines)]);
  const colors = assignColors(unique([...strategies, ...timelineNames]));
  const byKey = new Map<string, LabResult>();
  for (const r of results) byKey.set(`${String(r.strategy)}\u0000${String(r.workload)}`, r);
  const lookup = (s: string, w: string) => byKey.get(`${s}\u0000${w}`);
  const describe = (s: string) => (Object.hasOwn(descriptions, s) ? String(descriptions[s]) : '');
  const workloadDescription = (name: string) => workloadInfo.find((w) => w.name === name)?.description ?? '';

  // Upright value labels need about 26 px per bar: two charts a row when that fits.
  const bars = strategies.length * workloads.length;
  const wide = bars === 0 ? false : (HALF_WIDTH - 80) / Math.max(1, bars) < 26;
  const chartWidth = wide ? FULL_WIDTH : HALF_WIDTH;
  const input: ChartInput = { strategies, workloads, lookup, colors, width: chartWidth };

  const machine = typeof report.machine === 'object' && report.machine !== null ? report.machine : { cpus: Number.NaN, node: '?', kernel: '?', pinned: false };
  const version = String(report.version ?? '?');
  const date = formatDate(report.startedAt);

  const out: string[] = [];
  out.push('<!doctype html><html lang="en"><head><meta charset="utf-8">');
  out.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>${esc(`etlt lab: edge- vs level-triggered epoll, ${date}`)}</title>`);
  out.push(`<style>${CSS}</style></head><body><main>`);

  // Header.
  out.push('<header>');
  out.push(`<p class="kicker">etlt lab report</p>`);
  out.push('<h1>Edge- vs level-triggered epoll, measured</h1>');
  out.push('<ul class="meta">');
  out.push(`<li>run <b>${esc(date)}</b></li>`);
  out.push(`<li><b>${esc(fmt(num(machine.cpus), true))}</b> CPUs</li>`);
  out.push(`<li>Node <b>${esc(machine.node)}</b></li>`);
  out.push(`<li>Linux <b>${esc(machine.kernel)}</b></li>`);
  out.push(`<li>${machine.pinned ? 'server and load generator <b>pinned</b> to separate CPUs' : 'processes <b>not pinned</b> to CPUs'}</li>`);
  out.push(`<li>etlt <b>${esc(version)}</b></li>`);
  out.push('</ul>');
  out.push(
    `<p class="lede">Each strategy below served the seed’s HTTP/1.0 “Hello, world!” over loopback under each workload: ` +
      `<b>${esc(strategies.length)}</b> strategies × <b>${esc(workloads.length)}</b> workloads. ` +
      'The server counted every syscall it made, by kind, and every event epoll returned; the load generator timed each request and counted those left unanswered. ' +
      'Per-request figures divide by completed requests.</p>',
  );
  out.push('<div class="compare">');
  out.push(
    '<div><h3>Level-triggered (LT)</h3><p>As long as an fd <em>is</em> readable or writable, every <code>epoll_wait</code> reports it again. ' +
      'Easy to get right: read part of the data now, the rest on the next wait. The cost: once a response is written the server must stop watching for writability ' +
      '(<code>epoll_ctl</code> MOD), or every wait reports “writable” for nothing; the seed blames those frequent changes to the kernel’s interest set for LT being slower.</p></div>',
  );
  out.push(
    '<div><h3>Edge-triggered (<code>EPOLLET</code>)</h3><p>Only the <em>change</em> is reported, once. Fewer epoll calls, but every event must be drained completely: ' +
      '<code>accept</code> until it fails, <code>recv</code> until it would block, <code>send</code> until done or it would block. ' +
      'Data left behind waits for an edge that never comes, and the request stalls.</p></div>',
  );
  out.push('</div>');
  out.push('<dl class="legend-list">');
  for (const s of strategies) out.push(`<dt>${swatch(colors.get(s) ?? '#888')}${esc(s)}</dt><dd>${esc(describe(s))}</dd>`);
  out.push('</dl>');
  out.push('</header>');

  // Charts.
  out.push('<section id="charts"><h2>Cost and failures at a glance</h2>');
  out.push('<p class="note">One chart per metric, bars per strategy grouped by workload; lower is better in every chart. Hover a bar for its exact value.</p>');
  out.push(`<div class="charts${wide ? ' wide' : ''}">`);
  for (const m of CHART_METRICS) {
    out.push(`<figure><figcaption><h3>${esc(m.title)}</h3><p class="note">${esc(m.note)}</p></figcaption>${barChart(m, input)}</figure>`);
  }
  out.push('</div></section>');

  // Tables.
  out.push('<section id="results"><h2>Results by workload</h2>');
  out.push('<p class="note">Bold green: the best value of the workload in that column; red: stalls, errors or useless wake-ups. Syscalls include libuv’s own <code>epoll_wait</code> on the server’s epoll fd.</p>');
  if (workloads.length === 0) out.push('<p class="note"><em>This report has no results.</em></p>');
  for (const w of workloads) {
    out.push(`<div class="workload"><h3>${esc(w)}</h3>`);
    const d = workloadDescription(w);
    if (d !== '') out.push(`<p class="note">${esc(d)}</p>`);
    out.push(resultsTable(w, strategies, lookup, colors));
    out.push(countersTable(w, strategies, lookup));
    out.push('</div>');
  }
  out.push('</section>');

  // Timelines.
  out.push('<section id="timelines"><h2>What each epoll_wait returned</h2>');
  out.push(
    '<p>The first <code>epoll_wait</code> returns of each strategy, one column per return, one lane per fd; a mark is an event for that fd, coloured by what it reported. ' +
      'Under LT an fd that stays readable or writable is reported again by every wait until the server reads it, writes it or withdraws its interest: a row of marks. ' +
      'Under ET each edge is reported once: a new mark means something new happened. The kernel reuses fd numbers, so one lane may hold several connections, one after another.</p>',
  );
  if (timelineNames.length === 0) out.push('<p class="note"><em>This report has no timelines.</em></p>');
  out.push('<div class="timelines">');
  for (const s of timelineNames) {
    const waits = cleanWaits(timelines[s]);
    const st = timelineStats(waits);
    const shown = Math.min(waits.length, MAX_TIMELINE_WAITS);
    out.push(`<figure><figcaption><div class="timeline-head"><h3>${swatch(colors.get(s) ?? '#888')}${esc(s)}</h3>`);
    out.push(
      `<span class="stats"><b>${esc(st.waits)}</b> waits over ${esc(fmt(st.spanMs))} ms · <b>${esc(st.events)}</b> events on ${esc(st.fds)} fd${st.fds === 1 ? '' : 's'} · ` +
        `${esc(fmt(st.waits === 0 ? Number.NaN : st.events / st.waits))} events/wait</span></div>`,
    );
    const d = describe(s);
    if (d !== '') out.push(`<p class="note">${esc(d)}</p>`);
    const hiddenLanes = st.fds - MAX_TIMELINE_LANES;
    if (shown < waits.length || hiddenLanes > 0) {
      out.push(`<p class="note">Showing the first ${esc(shown)} waits${hiddenLanes > 0 ? ` and the ${MAX_TIMELINE_LANES} lowest fds` : ''}.</p>`);
    }
    out.push(`</figcaption>${timelineSvg(s, waits, FULL_WIDTH)}</figure>`);
  }
  out.push('</div></section>');

  out.push(
    `<footer>Generated by <code>etlt lab</code> ${esc(version)}. A self-contained page: no scripts, no fonts, nothing fetched. ` +
      'The report’s JSON is embedded below as <code>&lt;script type="application/json" id="etlt-lab-report"&gt;</code>.</footer>',
  );
  // JSON in an inert data block: "<" escaped so no "</script>" can end it early.
  out.push(`<script type="application/json" id="etlt-lab-report">${JSON.stringify(report).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}</script>`);
  out.push('</main></body></html>\n');
  return out.join('\n');
}
