/**
 * Level-triggered: the listener and each connection are watched for EPOLLIN for their
 * whole life. The response is written as soon as the request is complete; EPOLLOUT is
 * armed only when a send would block, and disarmed once the backlog is gone. Anything not
 * done in a turn is simply reported again by the next epoll_wait: no ready list needed.
 */
import { EPOLLIN, EPOLLOUT } from '../../constants.js';
import { CloseReason, ConnState, ReadResult, WriteResult } from '../connection.js';
import type { Connection } from '../connection.js';
import type { Engine } from '../engine.js';
import { ACCEPT_BUDGET, WRITE_BUDGET } from './strategy.js';
import type { TriggerStrategy } from './strategy.js';

function respond(conn: Connection): void {
  const w = conn.write(WRITE_BUDGET);
  if (w === WriteResult.Closed) return;
  if (w === WriteResult.Done) {
    if (conn.finish() && conn.outArmed) disarm(conn);
    return;
  }
  if (!conn.outArmed) {
    // EPOLLOUT alone: with EPOLLIN too, a client that sends more while not reading would
    // make every poll report the unread bytes, a busy loop. Errors and hang-ups are always reported.
    conn.outArmed = true;
    if (conn.engine.reactor.modify(conn, EPOLLOUT) < 0) conn.close(CloseReason.Aborted);
  }
}

function disarm(conn: Connection): void {
  conn.outArmed = false;
  if (conn.engine.reactor.modify(conn, EPOLLIN) < 0) conn.close(CloseReason.Aborted);
}

/** The level-triggered strategy. */
export const level: TriggerStrategy = {
  name: 'lt',
  listenerMask: EPOLLIN,
  connectionMask: EPOLLIN,

  onAccepted(conn: Connection): void {
    if (conn.engine.readEagerly() && !conn.serveEagerly(1, WRITE_BUDGET)) return;
    // Served in part already: a response that did not fit waits for EPOLLOUT alone.
    conn.outArmed = conn.state === ConnState.Writing;
    if (conn.engine.reactor.add(conn, conn.outArmed ? EPOLLOUT : EPOLLIN) < 0) conn.close(CloseReason.Aborted);
  },

  onListener(engine: Engine): void {
    engine.accept(ACCEPT_BUDGET);
  },

  onListenerReady(engine: Engine): void {
    engine.accept(ACCEPT_BUDGET);
  },

  onConnection(conn: Connection, events: number): void {
    if (conn.state === ConnState.Writing) {
      // Bytes past the head wait in the kernel until the response is out; hang-ups surface
      // as send errors.
      respond(conn);
      return;
    }
    // One recv per event: whatever is left is reported again at the next poll.
    if (conn.read(1, events) === ReadResult.Complete) respond(conn);
  },

  onConnectionReady(conn: Connection): void {
    conn.onEvents(EPOLLIN);
  },
};
