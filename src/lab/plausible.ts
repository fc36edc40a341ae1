/**
 * What keeps a lab figure true: counters taken as differences of snapshots of one process
 * (monotonic, so never below zero), and a check of every figure a result prints against
 * what is physically possible, so that a learner never sees an impossible number.
 */

/** Counters that are levels, not totals: they may fall, and a difference of them means nothing. */
const LEVELS = new Set(['open']);

/**
 * What the counters `later` gained since `earlier`, two snapshots of the same process.
 * Levels (connections open now) keep their later value; a counter that fell is reported
 * in `fell`: it cannot, unless the two snapshots were not of one process.
 */
export function counterDelta(
  later: Record<string, number>,
  earlier: Record<string, number>,
): { delta: Record<string, number>; fell: string[] } {
  const delta: Record<string, number> = {};
  const fell: string[] = [];
  for (const [k, v] of Object.entries(later)) {
    const e = earlier[k];
    if (typeof v !== 'number' || typeof e !== 'number' || LEVELS.has(k)) delta[k] = v;
    else {
      if (v < e) fell.push(`${k} (${e} then ${v})`);
      delta[k] = Math.max(0, v - e);
    }
  }
  return { delta, fell };
}

/** A figure's name that is a share, in percent: it cannot pass 100. */
const PERCENT = /percent$/i;

/**
 * Why the figures of `figures` cannot be true, if they cannot: every number below zero,
 * every percentage above 100 (nested objects and arrays are walked; `skip` names keys whose
 * values are raw counters or context, not figures). An empty list: nothing impossible.
 */
export function impossibleFigures(figures: object, skip: ReadonlySet<string> = new Set()): string[] {
  const found: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'number') {
      if (Number.isNaN(v)) found.push(`${path} is not a number`);
      else if (v < 0) found.push(`${path} is below zero (${v})`);
      else if (PERCENT.test(path) && v > 100) found.push(`${path} is above 100% (${v})`);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) if (!skip.has(k)) walk(x, path === '' ? k : `${path}.${k}`);
    }
  };
  walk(figures, '');
  return found;
}

/** Keys of a trigger-lab result that hold raw counters or context, not figures. */
export const RESULT_CONTEXT: ReadonlySet<string> = new Set([
  'counters',
  'countersAtStart',
  'baselineCounters',
  'strategy',
  'workload',
  'unreliable',
]);

/**
 * Why a result read from a report cannot be trusted, or undefined: the reason it carries,
 * else the impossible figures it holds (a report written before results were checked).
 */
export function whyUnreliable(result: object, context: ReadonlySet<string> = RESULT_CONTEXT): string | undefined {
  const carried = (result as { unreliable?: unknown }).unreliable;
  if (typeof carried === 'string' && carried !== '') return carried;
  const found = impossibleFigures(result, context);
  return found.length > 0 ? found.join('; ') : undefined;
}
