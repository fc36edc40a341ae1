/** The one place a trigger strategy is chosen by name. */
import { edge } from './edge.js';
import { level } from './level.js';
import type { TriggerStrategy } from './strategy.js';

export type { TriggerStrategy } from './strategy.js';

/** The trigger modes `etlt serve` offers. */
export const STRATEGIES: Readonly<Record<string, TriggerStrategy>> = { et: edge, lt: level };

/** The strategy for `mode` ('et' or 'lt'); a RangeError naming the mode otherwise. */
export function strategyFor(mode: string): TriggerStrategy {
  const s = Object.hasOwn(STRATEGIES, mode) ? STRATEGIES[mode] : undefined;
  if (s === undefined) {
    const err = new RangeError(`The value of "mode" is out of range. It must be one of ${Object.keys(STRATEGIES).map((m) => `'${m}'`).join(', ')}. Received '${mode}'`);
    (err as NodeJS.ErrnoException).code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
  return s;
}
