/**
 * What connections and trigger strategies see of the server: shared buffers, limits,
 * counters, the reactor, and the accept and release primitives.
 */
import type { Reactor, Pollable } from '../reactor/reactor.js';
import type { ServerCounters } from '../trace/counters.js';
import type { CloseReason, Connection } from './connection.js';
import type { TriggerStrategy } from './trigger/strategy.js';

/** What an accept turn ended with. */
export const enum AcceptResult {
  /** The listen queue is empty (EAGAIN). */
  Drained = 0,
  /** The budget ran out with connections possibly still queued. */
  Budget = 1,
  /** Accepting is paused (out of fds with no spare, or the server is closing). */
  Paused = 2,
}

/** The server core, as the strategies and connections use it. */
export interface Engine {
  readonly reactor: Reactor;
  readonly counters: ServerCounters;
  readonly strategy: TriggerStrategy;
  /** The listening socket's pollable. */
  readonly listener: Pollable;
  /** One receive buffer shared by all connections: a read's bytes are consumed before the next. */
  readonly scratch: Buffer;
  /** The response every request gets, built once. */
  readonly response: Buffer;
  readonly badRequest: Buffer;
  readonly headTooLarge: Buffer;
  readonly maxHeadBytes: number;
  /**
   * Whether to try recv right after this accept, before any epoll registration: HTTP
   * clients send at once, so the request is often there already, and then the connection
   * costs no epoll_ctl and no wake-up at all. A miss costs one recv (EAGAIN).
   */
  readEagerly(): boolean;
  /** Tells the eager-read policy whether the read found data. */
  eagerResult(hit: boolean): void;
  /** Called with each complete request's bytes (valid only during the call). */
  readonly onRequest: ((request: Buffer) => void) | undefined;
  /** A cheap monotonic clock in milliseconds. */
  now(): number;
  /** Accepts up to `max` connections, registering each with the strategy's mask. */
  accept(max: number): AcceptResult;
  /** Marks `conn` as active for the idle timeout. */
  touch(conn: Connection): void;
  /** Closes `conn`'s fd and forgets it (called by Connection.close). */
  release(conn: Connection, reason: CloseReason): void;
}
