/**
 * One interface for the trigger modes. A strategy decides the interest masks and when the
 * connection primitives run; the connection state machine is shared.
 */
import type { Connection } from '../connection.js';
import type { Engine } from '../engine.js';

/** How a server drives its fds through epoll. */
export interface TriggerStrategy {
  /** The name users pick it by (`--mode`). */
  readonly name: string;
  /** The listener's interest mask. */
  readonly listenerMask: number;
  /** A new connection's interest mask. */
  readonly connectionMask: number;
  /**
   * A connection was just accepted: register it (or serve it at once, when the engine
   * reads eagerly and the request is already there, never registering it at all).
   */
  onAccepted(conn: Connection): void;
  /** The listening socket is ready. */
  onListener(engine: Engine, events: number): void;
  /** The listener was put on the ready list and gets another turn. */
  onListenerReady(engine: Engine): void;
  /** A connection is ready. */
  onConnection(conn: Connection, events: number): void;
  /** A connection was put on the ready list and gets another turn. */
  onConnectionReady(conn: Connection): void;
}

/** Accepts per listener turn: bounded so one flood cannot starve connections already in. */
export const ACCEPT_BUDGET = 64;
/** recv calls per connection turn in edge-triggered mode before yielding to others. */
export const READ_BUDGET = 16;
/** send calls per connection turn before yielding to others. */
export const WRITE_BUDGET = 16;
