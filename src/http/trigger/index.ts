/** The one place a trigger strategy is chosen by name. */
import { edge } from './edge.js';
import { edgeNoDrain, levelAlwaysOut, seedEdge, seedLevel } from './lab.js';
import { level } from './level.js';
import type { TriggerStrategy } from './strategy.js';

export type { TriggerStrategy } from './strategy.js';

/** The trigger modes `etlt serve` offers. */
export const STRATEGIES: Readonly<Record<string, TriggerStrategy>> = { et: edge, lt: level };

/** The lab's strategies: the seed's own loops and two deliberate pitfalls, plus the two above. */
export const LAB_STRATEGIES: Readonly<Record<string, TriggerStrategy>> = {
  'seed-lt': seedLevel,
  'seed-et': seedEdge,
  lt: level,
  et: edge,
  'et-no-drain': edgeNoDrain,
  'lt-always-out': levelAlwaysOut,
};

/** The strategy for `mode` ('et', 'lt' or a lab strategy); a RangeError naming the mode otherwise. */
export function strategyFor(mode: string): TriggerStrategy {
  const s = Object.hasOwn(LAB_STRATEGIES, mode) ? LAB_STRATEGIES[mode] : undefined;
  if (s === undefined) {
    const err = new RangeError(`The value of "mode" is out of range. It must be one of ${Object.keys(LAB_STRATEGIES).map((m) => `'${m}'`).join(', ')}. Received '${String(mode)}'`);
    (err as NodeJS.ErrnoException).code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
  return s;
}
