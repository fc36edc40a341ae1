/**
 * The timelines: what each epoll_wait returned, one column per return, one lane per fd,
 * a mark per event coloured by the readiness it reported. This is where LT and ET look
 * different at a glance: LT repeats a level on every wait (a row of marks), ET reports an
 * edge once.
 */
import { EPOLL_BITS, describeMask, isHangup, isReadable, isWritable } from '../../reactor/readiness.js';
import type { TimelineWait } from '../types.js';
import { legend } from './charts.js';
import { clamp, fmt, num, px } from './format.js';
import { html, joinHtml } from './html.js';
import type { SafeHtml } from './html.js';

/** More columns than this and a mark would be thinner than a pixel at 1280 px. */
export const MAX_TIMELINE_WAITS = 400;
/** More lanes than this and the figure would be taller than a screen. */
export const MAX_TIMELINE_LANES = 48;

/** How the timeline colours an event: readable, writable, hung up or failed, or anything else. */
type EventKind = 'in' | 'out' | 'hup' | 'other';

const EVENT_KINDS: readonly { kind: EventKind; label: string; color: string }[] = [
  { kind: 'in', label: 'EPOLLIN', color: '#2f9e44' },
  { kind: 'out', label: 'EPOLLOUT', color: '#1971c2' },
  { kind: 'hup', label: 'EPOLLRDHUP / HUP / ERR', color: '#e03131' },
  { kind: 'other', label: 'other (PRI, …)', color: '#868e96' },
];

const { IN, OUT, ERR, HUP, RDHUP, ET } = EPOLL_BITS;
/** Bits a kind other than 'other' accounts for; ET is how it was registered, not what happened. */
const CLASSIFIED = IN | OUT | ERR | HUP | RDHUP | ET;

/**
 * The kinds one mark shows, in stacking order. A mask can be several at once (readable
 * and hung up is how a FIN arrives), and a mask with none still gets a grey mark, so every
 * returned event is visible.
 */
function kindsOf(mask: number): EventKind[] {
  const m = mask >>> 0;
  const kinds: EventKind[] = [];
  if (isReadable(m)) kinds.push('in');
  if (isWritable(m)) kinds.push('out');
  if (isHangup(m)) kinds.push('hup');
  if ((m & ~CLASSIFIED) >>> 0 !== 0 || kinds.length === 0) kinds.push('other');
  return kinds;
}

/** The numbers above a timeline. */
export interface TimelineStats {
  /** epoll_wait returns recorded, including any beyond what is drawn. */
  readonly waits: number;
  /** [fd, events] pairs over all those waits. */
  readonly events: number;
  /** Distinct fd numbers (not connections: the kernel reuses numbers). */
  readonly fds: number;
  /** Milliseconds from the first to the last timed wait. */
  readonly spanMs: number;
}

/**
 * The waits of a timeline as read from JSON, keeping only valid `[fd, events]` pairs
 * (fd a non-negative integer, events a finite mask, read unsigned). A wait with no valid
 * pair is kept: it is still a column of the timeline.
 */
export function cleanWaits(waits: unknown): TimelineWait[] {
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
export function timelineStats(waits: readonly TimelineWait[]): TimelineStats {
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

/**
 * The timeline of `strategy`, `width` px wide: its first {@link MAX_TIMELINE_WAITS}
 * waits and lowest {@link MAX_TIMELINE_LANES} fds, one `<g class="mark">` per fd per wait
 * carrying `data-fd`, `data-wait` (0-based) and `data-events` (the mask's names, `|`
 * separated, from `describeMask`).
 */
export function timelineSvg(strategy: string, all: readonly TimelineWait[], width: number): SafeHtml {
  const waits = all.slice(0, MAX_TIMELINE_WAITS);
  const fdAll = [...new Set(waits.flatMap((w) => w.events.map(([fd]) => fd)))].sort((a, b) => a - b);
  const fds = fdAll.slice(0, MAX_TIMELINE_LANES);
  const lane = new Map(fds.map((fd, i) => [fd, i]));
  const left = 58;
  const right = 14;
  const plotW = width - left - right;
  const leg = legend(
    EVENT_KINDS.map((k) => ({ label: k.label, color: k.color })),
    0,
    4,
    width,
  );
  const laneH = 18;
  const plotTop = 4 + leg.height + 12;
  const plotH = Math.max(1, fds.length) * laneH;
  const plotBottom = plotTop + plotH;
  const height = plotBottom + 56;
  const n = Math.max(1, waits.length);
  const colW = plotW / n;
  const markW = clamp(colW * 0.62, 1.5, 14);
  const colorOf = new Map(EVENT_KINDS.map((k) => [k.kind, k.color]));

  const out: SafeHtml[] = [];
  out.push(
    html`<svg class="timeline" data-timeline="${strategy}" viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}" role="img" aria-label="epoll_wait returns of ${strategy}, one lane per fd" xmlns="http://www.w3.org/2000/svg">`,
  );
  out.push(html`<title>${strategy}: the first epoll_wait returns</title>`);
  out.push(leg.svg);

  out.push(html`<g class="lanes">`);
  fds.forEach((fd, i) => {
    const yy = plotTop + i * laneH;
    out.push(
      html`<rect class="lane${i % 2 === 1 && ' odd'}" x="${px(left)}" y="${px(yy)}" width="${px(plotW)}" height="${px(laneH)}"/>`,
    );
    out.push(
      html`<text class="lane-label" x="${px(left - 8)}" y="${px(yy + laneH / 2 + 4)}" text-anchor="end">fd ${fd}</text>`,
    );
  });
  out.push(html`</g>`);

  if (waits.length === 0 || fds.length === 0) {
    out.push(
      html`<text class="empty" x="${px(left + plotW / 2)}" y="${px(plotTop + 13)}" text-anchor="middle">no epoll_wait returns recorded</text>`,
    );
  }

  // Column ticks: every k-th wait, k from 1, 2, 5, 10, ... so labels sit ≥ 64 px apart.
  let k = 1;
  for (const c of [1, 2, 5, 10, 20, 25, 50, 100, 200]) {
    k = c;
    if (c * colW >= 64) break;
  }
  out.push(html`<g class="ticks">`);
  for (let i = 0; i < waits.length; i++) {
    const cx = px(left + (i + 0.5) * colW);
    const labelled = i === 0 || (i + 1) % k === 0;
    // Unlabelled lines only while columns are wide enough for them not to merge into grey.
    if (colW >= 7 || labelled) {
      out.push(
        html`<line class="${labelled ? 'col major' : 'col'}" x1="${cx}" x2="${cx}" y1="${px(plotTop)}" y2="${px(plotBottom + (labelled ? 5 : 0))}"/>`,
      );
    }
    if (labelled) {
      const t = waits[i]?.t ?? Number.NaN;
      out.push(html`<text class="tick" x="${cx}" y="${px(plotBottom + 18)}" text-anchor="middle">#${i + 1}</text>`);
      out.push(
        html`<text class="tick sub" x="${cx}" y="${px(plotBottom + 31)}" text-anchor="middle">${Number.isFinite(t) ? `${fmt(t)} ms` : '?'}</text>`,
      );
    }
  }
  out.push(html`</g>`);
  out.push(
    html`<text class="axis-label" x="${px(left + plotW / 2)}" y="${px(height - 6)}" text-anchor="middle">epoll_wait returns in order (#), with the time each returned since the server started</text>`,
  );

  // One mark per (wait, fd), its events merged: should a wait return an fd twice, two
  // marks in one cell would hide each other.
  out.push(html`<g class="marks">`);
  waits.forEach((w, i) => {
    const merged = new Map<number, number>();
    for (const [fd, ev] of w.events) merged.set(fd, ((merged.get(fd) ?? 0) | ev) >>> 0);
    for (const [fd, ev] of merged) {
      const li = lane.get(fd);
      if (li === undefined) continue;
      const kinds = kindsOf(ev);
      const x = px(left + (i + 0.5) * colW - markW / 2);
      const y0 = plotTop + li * laneH + 3;
      const segH = (laneH - 6) / kinds.length;
      const names = describeMask(ev).join('|') || '0';
      const t = Number.isFinite(w.t) ? `${fmt(w.t)} ms` : 'time unknown';
      const segments = kinds.map(
        (kd, j) =>
          html`<rect x="${x}" y="${px(y0 + j * segH)}" width="${px(markW)}" height="${px(segH)}" fill="${colorOf.get(kd) ?? '#888'}"/>`,
      );
      out.push(
        html`<g class="mark" data-fd="${fd}" data-wait="${i}" data-events="${names}"><title>wait #${i + 1} at ${t}: fd ${fd} ${names}</title>${segments}</g>`,
      );
    }
  });
  out.push(html`</g></svg>`);
  return joinHtml(out);
}
