/**
 * Edge-triggered: each connection is registered once with IN, OUT, RDHUP and ET and never
 * modified (nginx's way). Every edge must be drained until EAGAIN or it is lost; to keep
 * one busy fd from starving the rest, a turn is bounded and unfinished work goes on the
 * reactor's ready list, to be resumed without waiting for an edge that will not come.
 */
import { EPOLLET, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from '../../constants.js';
import { isError, isReadClosed, isReadable, isWritable, isWriteClosed } from '../../reactor/readiness.js';
import { ACCEPT_BUDGET, AcceptResult, CloseReason, ConnState, READ_BUDGET, ReadResult, WRITE_BUDGET, WriteResult } from '../contract.js';
import type { Engine, StrategyConnection, TriggerStrategy } from '../contract.js';
import { FACTS } from './catalog.js';
import { edgeListener } from './listener.js';

function writeTurn(conn: StrategyConnection): void {
  const w = conn.write(WRITE_BUDGET);
  if (w === WriteResult.Done) {
    // A lingering connection may already hold the peer's EOF: read it now, the edge is gone.
    if (conn.finish()) readTurn(conn, EPOLLIN);
  } else if (w === WriteResult.Budget) {
    conn.engine.reactor.later(conn);
  }
}

function readTurn(conn: StrategyConnection, events: number): void {
  const r = conn.read(READ_BUDGET, events);
  if (r === ReadResult.Complete) writeTurn(conn);
  else if (r === ReadResult.Budget) conn.engine.reactor.later(conn);
}

/** The edge-triggered strategy. */
export const edge: TriggerStrategy = {
  ...FACTS.et,
  listenerMask: (EPOLLIN | EPOLLET) >>> 0,
  connectionMask: (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0,
  ...edgeListener(() => edge),

  onAccepted(conn: StrategyConnection): void {
    // No edge is lost by reading first: EPOLL_CTL_ADD reports what is ready at that moment.
    if (conn.engine.readEagerly() && !conn.serveEagerly(READ_BUDGET, WRITE_BUDGET)) return;
    if (conn.engine.reactor.add(conn, edge.connectionMask) < 0) conn.close(CloseReason.Aborted);
  },

  onListener(engine: Engine): void {
    if (engine.accept(ACCEPT_BUDGET) === AcceptResult.Budget) {
      engine.counters.deferred++;
      engine.reactor.later(engine.listener);
    }
  },

  onConnection(conn: StrategyConnection, events: number): void {
    if (conn.state === ConnState.Writing) {
      // Only an EPOLLOUT edge means the kernel took bytes off the send queue; errors
      // and hang-ups surface as send errors.
      if (isWritable(events) || isWriteClosed(events)) writeTurn(conn);
      return;
    }
    // Reading or lingering: an EPOLLOUT-only edge (the initial writability) needs nothing.
    if (isReadable(events) || isReadClosed(events) || isError(events)) readTurn(conn, events);
  },

  onConnectionReady(conn: StrategyConnection): void {
    if (conn.state === ConnState.Writing) writeTurn(conn);
    else readTurn(conn, EPOLLIN);
  },
};
