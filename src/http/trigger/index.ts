/** The one place a trigger strategy is chosen by name. */
import type { TriggerStrategy } from '../contract.js';
import { oneOf } from '../../validate.js';
import type { Mode } from './catalog.js';
import { MODES } from './catalog.js';
import { edge } from './edge.js';
import { level } from './level.js';
import { edgeNoDrain, levelAlwaysOut } from './pitfalls.js';
import { seedEdge, seedLevel } from './seed.js';

/** The readiness strategies (io_uring's completions have an engine of their own, http/uring/). */
type ReadinessMode = Exclude<Mode, 'completion'>;

const BY_NAME: Readonly<Record<ReadinessMode, TriggerStrategy>> = {
  'seed-lt': seedLevel,
  'seed-et': seedEdge,
  lt: level,
  et: edge,
  'et-no-drain': edgeNoDrain,
  'lt-always-out': levelAlwaysOut,
};

/** The readiness modes, by name. */
const READINESS_MODES = MODES.filter((m): m is ReadinessMode => m !== 'completion');

/** The strategy for the readiness mode `mode`; a TypeError or RangeError naming the option otherwise. */
export function strategyFor(mode: unknown): TriggerStrategy {
  return BY_NAME[oneOf(mode, 'mode', READINESS_MODES, 'option')];
}
