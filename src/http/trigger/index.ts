/** The one place a trigger strategy is chosen by name. */
import type { TriggerStrategy } from '../contract.js';
import type { Mode } from './catalog.js';
import { edge } from './edge.js';
import { level } from './level.js';
import { edgeNoDrain, levelAlwaysOut } from './pitfalls.js';
import { seedEdge, seedLevel } from './seed.js';

/** The readiness strategies (io_uring's completions have an engine of their own, http/uring/). */
export type ReadinessMode = Exclude<Mode, 'completion'>;

const BY_NAME: Readonly<Record<ReadinessMode, TriggerStrategy>> = {
  'seed-lt': seedLevel,
  'seed-et': seedEdge,
  lt: level,
  et: edge,
  'et-no-drain': edgeNoDrain,
  'lt-always-out': levelAlwaysOut,
};

/** The strategy for `mode` (checked by the option table, and against the backend, before it gets here). */
export function strategyFor(mode: ReadinessMode): TriggerStrategy {
  return BY_NAME[mode];
}
