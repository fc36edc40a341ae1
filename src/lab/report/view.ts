/**
 * The report as the page reads it. A LabReport arrives as JSON, perhaps hand-edited or
 * from an older etlt, so every field is checked once here; the sections then render from
 * this view and never meet a missing list or a non-object.
 */
import type { LabReport, LabResult } from '../types.js';
import { assignColors } from './colors.js';
import { formatDate, unique } from './format.js';
import { whyUnreliable } from '../plausible.js';
import { withCurrentNames } from '../../trace/counters.js';

/** The result of one strategy under one workload, if the report has it. */
export type Lookup = (strategy: string, workload: string) => LabResult | undefined;

/** A checked, indexed LabReport: what every section of the page renders from. */
export interface ReportView {
  /** The report's strategies, then any that only its results name, in first-seen order. */
  readonly strategies: readonly string[];
  /** Likewise for workloads. */
  readonly workloads: readonly string[];
  /** Strategies with a timeline: the report's strategies first, in its order. */
  readonly timelineNames: readonly string[];
  /** The raw timelines, per strategy; each is checked where it is drawn. */
  readonly timelines: Readonly<Record<string, unknown>>;
  /** One colour per strategy and timeline. */
  readonly colors: ReadonlyMap<string, string>;
  /** The result of a strategy under a workload, if the report has one. */
  readonly lookup: Lookup;
  /**
   * Why a result's figures cannot be trusted (one below zero, a share above 100%), or
   * undefined: such a result is shown greyed with the reason, never as a best value or a bar.
   */
  readonly unreliable: (r: LabResult) => string | undefined;
  /** A strategy's description, or '' when the report has none. */
  readonly describe: (strategy: string) => string;
  /** A workload's description, or ''. */
  readonly workloadDescription: (workload: string) => string;
  /** Where the run happened; placeholders when the report does not say. */
  readonly machine: LabReport['machine'];
  /** The etlt version that made the report, or '?'. */
  readonly version: string;
  /** When the run started, already formatted for the page. */
  readonly date: string;
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/**
 * Checks and indexes `report` for rendering: a missing or mistyped top-level field becomes
 * empty (or a placeholder), so a partial report still renders.
 */
export function viewOf(report: LabReport): ReportView {
  // Counters under the names an older etlt gave them (epollWait, ctlAdd...) read as today's.
  const results: LabResult[] = (Array.isArray(report.results) ? report.results.filter(isObject) : []).map((r) =>
    isObject(r.counters) ? { ...r, counters: withCurrentNames(r.counters) } : r,
  );
  const timelines: Record<string, unknown> = isObject(report.timelines) ? report.timelines : {};
  const descriptions: Record<string, string> = isObject(report.descriptions) ? report.descriptions : {};
  const workloadInfo = Array.isArray(report.workloads) ? report.workloads : [];
  const strategies = unique(
    [...(Array.isArray(report.strategies) ? report.strategies : []), ...results.map((r) => r.strategy)].map(String),
  );
  const workloads = unique([...workloadInfo.map((w) => w.name), ...results.map((r) => r.workload)].map(String));
  const timelineNames = unique([...strategies.filter((s) => Object.hasOwn(timelines, s)), ...Object.keys(timelines)]);
  // Joined with a NUL, which no real strategy or workload name contains, so keys cannot collide.
  const byKey = new Map<string, LabResult>();
  for (const r of results) byKey.set(`${String(r.strategy)}\u0000${String(r.workload)}`, r);
  const reasons = new Map(results.map((r) => [r, whyUnreliable(r)]));
  return {
    strategies,
    workloads,
    timelineNames,
    timelines,
    colors: assignColors(unique([...strategies, ...timelineNames])),
    lookup: (s, w) => byKey.get(`${s}\u0000${w}`),
    unreliable: (r) => reasons.get(r),
    describe: (s) => (Object.hasOwn(descriptions, s) ? String(descriptions[s]) : ''),
    workloadDescription: (name) => workloadInfo.find((w) => w.name === name)?.description ?? '',
    machine: isObject(report.machine) ? report.machine : { cpus: Number.NaN, node: '?', kernel: '?', pinned: false },
    version: String(report.version ?? '?'),
    date: formatDate(report.startedAt),
  };
}
