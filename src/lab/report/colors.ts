/**
 * One colour per strategy, the same in every chart, table and timeline of a page.
 *
 * The lab's own strategies take theirs from the strategy catalog, so a reader learns them
 * once and they agree with the rest of etlt. Anything else in a report (a renamed or
 * third-party strategy) gets the next free colour of a fallback palette.
 */
import { factsOf } from '../../http/trigger/catalog.js';
import { html } from './html.js';
import type { SafeHtml } from './html.js';

/** Colour-blind-friendly categorical colours, none of them a catalog colour. */
const FALLBACK_COLORS = ['#2a9d8f', '#8d6e63', '#e9c46a', '#577590', '#90be6d', '#ef476f', '#264653', '#b5838d'];

/** The colour for a strategy missing from the map, which a well-formed page never needs. */
export const UNKNOWN_COLOR = '#888';

/**
 * A distinct colour for each of `strategies`. Catalog strategies keep their own colour
 * (first come, if two share one); the rest take the fallback palette in order, then
 * golden-angle hues once it runs out, so no two strategies of a page look alike.
 */
export function assignColors(strategies: readonly string[]): Map<string, string> {
  const colors = new Map<string, string>();
  const used = new Set<string>();
  for (const s of strategies) {
    const c = factsOf(s)?.color;
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

/** A small square of `color` before a strategy's name, tying the text to its bars and marks. */
export function swatch(color: string): SafeHtml {
  return html`<span class="swatch" style="background:${color}"></span>`;
}
