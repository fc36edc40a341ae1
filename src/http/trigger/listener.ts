/**
 * How a strategy pauses and resumes its listener, by trigger: the one place that knows a
 * paused level-triggered listener must leave the interest set, and that a listener shared
 * with EPOLLEXCLUSIVE can only be withdrawn and added again, never modified.
 */
import { EPOLLEXCLUSIVE } from '../../constants.js';
import type { Engine, TriggerStrategy } from '../contract.js';

type ListenerControl = Pick<TriggerStrategy, 'pauseListener' | 'resumeListener'>;

/**
 * The listener's interest: the strategy's mask, plus EPOLLEXCLUSIVE when the engine shares
 * its listener with other processes that way (one connection then wakes one of them).
 */
export function listenerInterest(engine: Pick<Engine, 'exclusiveListener'>, strategy: TriggerStrategy): number {
  return engine.exclusiveListener === true ? (strategy.listenerMask | EPOLLEXCLUSIVE) >>> 0 : strategy.listenerMask;
}

/**
 * Takes the listener out of the interest set. EPOLLEXCLUSIVE may only be given with
 * EPOLL_CTL_ADD, and EPOLL_CTL_MOD of such an fd fails with EINVAL (epoll_ctl(2)), so an
 * exclusive listener is removed (DEL) and later added again instead.
 */
function withdraw(engine: Engine): void {
  if (engine.exclusiveListener === true) engine.reactor.remove(engine.listener);
  else engine.reactor.modify(engine.listener, 0);
}

function restore(engine: Engine, strategy: TriggerStrategy): void {
  const mask = listenerInterest(engine, strategy);
  if (engine.exclusiveListener === true) engine.reactor.add(engine.listener, mask);
  else engine.reactor.modify(engine.listener, mask);
}

/**
 * Level-triggered: a paused listener is taken out of the interest set, or every poll would
 * report the queued connections again, a busy loop; resuming restores it and accepts.
 */
export function levelListener(strategy: () => TriggerStrategy): ListenerControl {
  return {
    pauseListener(engine: Engine): void {
      withdraw(engine);
    },
    resumeListener(engine: Engine): void {
      const s = strategy();
      restore(engine, s);
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
