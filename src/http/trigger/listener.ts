/**
 * How a strategy pauses and resumes its listener, by trigger: the one place that knows a
 * paused level-triggered listener must leave the interest set.
 */
import type { Engine, TriggerStrategy } from '../contract.js';

type ListenerControl = Pick<TriggerStrategy, 'pauseListener' | 'resumeListener'>;

/**
 * Level-triggered: a paused listener is taken out of the interest set, or every poll would
 * report the queued connections again, a busy loop; resuming restores it and accepts.
 */
export function levelListener(strategy: () => TriggerStrategy): ListenerControl {
  return {
    pauseListener(engine: Engine): void {
      engine.reactor.modify(engine.listener, 0);
    },
    resumeListener(engine: Engine): void {
      const s = strategy();
      engine.reactor.modify(engine.listener, s.listenerMask);
      s.onListener(engine);
    },
  };
}

/**
 * Edge-triggered: nothing to withdraw while paused, but the edge that brought the queued
 * connections is gone, so resuming accepts at once instead of waiting for a new one.
 */
export function edgeListener(strategy: () => TriggerStrategy): ListenerControl {
  return {
    pauseListener(): void {},
    resumeListener(engine: Engine): void {
      strategy().onListener(engine);
    },
  };
}
