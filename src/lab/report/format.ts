/**
 * Numbers and text for the report, as plain strings: table cells, bar labels, axis ticks,
 * SVG coordinates. Nothing here makes markup; the callers interpolate these into `html`.
 * Every function takes the report's numbers as they come (missing, NaN, ±Infinity) and
 * never returns "NaN" where a reader or an SVG parser would trip over it.
 */

/**
 * `v` if it is a number, else NaN. The report is JSON read back from disk, so a field
 * typed `number` may be missing or hold anything; NaN then flows into "n/a" and empty bars.
 */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number.NaN;
}

/** A coordinate for SVG: two decimals, and 0 for a non-finite value so no shape is broken. */
export function px(v: number): string {
  return String(Number.isFinite(v) ? Math.round(v * 100) / 100 : 0);
}

/** `v` limited to `[lo, hi]`. */
export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** The items without repeats, in first-seen order (the order the report lists them in). */
export function unique(items: Iterable<string>): string[] {
  return [...new Set(items)];
}

/**
 * A number for a table cell: thousands separated when large, a few significant digits
 * when small, whole when `integer`; "n/a" when not finite.
 */
export function fmt(v: number, integer = false): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (integer || a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(2);
  return v.toPrecision(2);
}

/** A number for a bar label: at most about five characters, so it fits above a thin bar. */
export function fmtShort(v: number): string {
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

/**
 * Rough width of a label in SVG pixels. The page loads no font, so nothing can be
 * measured at render time; system sans-serif digits are about 0.6 em.
 */
export function textWidth(text: string, fontPx: number): number {
  return text.length * fontPx * 0.6;
}

/** `text` cut to `maxChars` with an ellipsis; the full text goes in a `<title>` beside it. */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, Math.max(1, maxChars - 1))}…`;
}

/**
 * A "nice" axis for values up to `max`: a top value and a step of 1, 2, 2.5 or 5 × 10^k,
 * about five ticks. Counts (`integer`) never get a step below 1, so no tick reads 0.5.
 */
export function niceAxis(max: number, integer: boolean): { top: number; step: number } {
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

/** A tick's label with as many decimals as `step` needs (one more for a 2.5 step), no float noise. */
export function tickLabel(v: number, step: number): string {
  const decimals =
    step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) + 1e-9) + (String(step).includes('25') ? 1 : 0));
  const s = v.toFixed(decimals);
  return v >= 1000 ? Number(s).toLocaleString('en-US') : s;
}

/**
 * An ISO timestamp as "YYYY-MM-DD HH:MM UTC": UTC so that the page reads the same
 * wherever it is opened. Anything unparsable is shown as it is, not as "Invalid Date".
 */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (typeof iso !== 'string' || Number.isNaN(d.getTime())) return String(iso ?? 'unknown date');
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
