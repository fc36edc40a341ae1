/**
 * The report's style sheet, inline because the page loads nothing (its CSP allows inline
 * styles and nothing else). System fonts only, so the page looks the same offline; the
 * charts' text sizes here are what `textWidth` in format.ts assumes.
 */
import { raw } from './html.js';
import type { SafeHtml } from './html.js';

/**
 * The contents of the page's `<style>` element. Trusted with `raw` because it is a
 * constant written here, and must be: `<style>` content is not entity-decoded, so
 * escaping would break its quoted font names.
 */
export const CSS: SafeHtml = raw(`
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
tr.unreliable td, tr.unreliable th { color: var(--faint); }
td.wrap { white-space: normal; min-width: 16em; overflow-wrap: anywhere; }
tr.finding td { font-size: 12px; color: var(--muted); background: #fafbfc; }
tr.finding[data-shown="false"] b { color: #9a6700; }
tr.finding[data-shown="true"] b { color: #116329; }
tr.why td { color: #9a6700; white-space: normal; font-size: 12px; }
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
`);
