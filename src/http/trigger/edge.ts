/**
 * Edge-triggered: each connection is registered once with IN, OUT, RDHUP and ET and never
 * modified (nginx's way). Every edge must be drained until EAGAIN or it is lost; to keep
 * one busy fd from starving the rest, a turn is bounded and unfinished work goes on the
 * reactor's ready list, to be resumed without waiting for an edge that will not come.
 */
import { EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from '../../constants.js';
import { CloseReason, ConnState, ReadResult, WriteResult } from '../connection.js';
import type { Connection } from '../connection.js';
import { AcceptResult } from '../engine.js';
import type { Engine } from '../engine.js';
import { ACCEPT_BUDGET, READ_BUDGET, WRITE_BUDGET } from './strategy.js';
import type { TriggerStrategy } from './strategy.js';

function acceptTurn(engine: Engine): void {
  if (engine.accept(ACCEPT_BUDGET) === AcceptResult.Budget) {
    engine.counters.deferred++;
    engine.reactor.later(engine.listener);
  }
}

function writeTurn(conn: Connection): void {
  const w = conn.write(WRITE_BUDGET);
  if (w === WriteResult.Done) {
    // A lingering connection may already hold the peer's EOF: read it now, the edge is gone.
    if (conn.finish()) readTurn(conn, EPOLLIN);
  } else if (w === WriteResult.Budget) {
    conn.engine.reactor.later(conn);
  }
}

function readTurn(conn: Connection, events: number): void {
  const r = conn.read(READ_BUDGET, events);
  if (r === ReadResult.Complete) writeTurn(conn);
  else if (r === ReadResult.Budget) conn.engine.reactor.later(conn);
}

/** The edge-triggered strategy. */
export const edge: TriggerStrategy = {
  name: 'et',
  listenerMask: (EPOLLIN | EPOLLET) >>> 0,
  connectionMask: (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0,

  onAccepted(conn: Connection): void {
    // No edge is lost by reading first: EPOLL_CTL_ADD reports what is ready at that moment.
    if (conn.engine.readEagerly() && !conn.serveEagerly(READ_BUDGET, WRITE_BUDGET)) return;
    if (conn.engine.reactor.add(conn, this.connectionMask) < 0) conn.close(CloseReason.Aborted);
  },

  onListener(engine: Engine): void {
    acceptTurn(engine);
  },

  onListenerReady(engine: Engine): void {
    acceptTurn(engine);
  },

  onConnection(conn: Connection, events: number): void {
    if (conn.state === ConnState.Writing) {
      // Only an EPOLLOUT edge means the kernel took bytes off the send queue; errors
      // and hang-ups surface as send errors.
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) !== 0) writeTurn(conn);
      return;
    }
    // Reading or lingering: an EPOLLOUT-only edge (the initial writability) needs nothing.
    if (events !== EPOLLOUT) readTurn(conn, events);
  },

  onConnectionReady(conn: Connection): void {
    if (conn.state === ConnState.Writing) writeTurn(conn);
    else readTurn(conn, EPOLLIN);
  },
};
