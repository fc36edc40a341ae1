/**
 * Edge-triggered: each connection is registered once with IN, OUT, RDHUP and ET and never
 * modified (nginx's way). Every edge must be drained until EAGAIN or it is lost; to keep
 * one busy fd from starving the rest, a turn is bounded and unfinished work goes on the
 * reactor's ready list, to be resumed without waiting for an edge that will not come. An
 * input edge that comes while the connection writes or waits is remembered, and read once
 * it can be (`unreadInput`).
 */
import { EPOLLET, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from '../../constants.js';
import { isError, isReadClosed, isReadable, isWritable, isWriteClosed } from '../../reactor/readiness.js';
import {
  ACCEPT_BUDGET,
  AcceptResult,
  CloseReason,
  ConnState,
  Next,
  READ_BUDGET,
  ReadResult,
  WRITE_BUDGET,
  WriteResult,
} from '../contract.js';
import type { Engine, StrategyConnection, TriggerStrategy } from '../contract.js';
import { FACTS } from './catalog.js';
import { edgeListener } from './listener.js';

/** Reads and writes in one connection's turn at most, before the ready list takes over. */
const ROUNDS = 8;

/** Alternates reading and writing while each has work, within a bounded turn. */
function drive(conn: StrategyConnection, events: number, reading: boolean): void {
  let read = reading;
  for (let round = 0; round < ROUNDS; round++) {
    if (read) {
      const r = conn.read(READ_BUDGET, events);
      events = EPOLLIN;
      if (r === ReadResult.Budget) break;
      if (r !== ReadResult.Complete) return;
    }
    const w = conn.write(WRITE_BUDGET);
    if (w === WriteResult.Budget) break;
    if (w !== WriteResult.Done) return;
    const next = conn.finish();
    if (next === Next.Closed || next === Next.Wait) return;
    // Kept alive or lingering: read at once only what no edge will announce (a read that
    // stopped short of EAGAIN; the EOF of a lingering peer may be in already).
    read = next === Next.Read;
    if (read && !conn.unreadInput && conn.state !== ConnState.Lingering) return;
  }
  conn.engine.reactor.later(conn);
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
    const state = conn.state;
    if (state === ConnState.Writing || state === ConnState.Waiting) {
      // A peer that reset while its handler runs can never be answered: let it go now, or
      // its fd would wait for the handler (and nothing would come to read for it).
      if (state === ConnState.Waiting && isWriteClosed(events)) {
        conn.close(CloseReason.Aborted);
        return;
      }
      if (isReadable(events) || isReadClosed(events)) conn.noteInput();
      // Only an EPOLLOUT edge means the kernel took bytes off the send queue; errors
      // and hang-ups surface as send errors.
      if (state === ConnState.Writing && (isWritable(events) || isWriteClosed(events))) drive(conn, events, false);
      return;
    }
    // Reading or lingering: an EPOLLOUT-only edge (the initial writability) needs nothing.
    if (isReadable(events) || isReadClosed(events) || isError(events)) drive(conn, events, true);
  },

  onConnectionReady(conn: StrategyConnection): void {
    if (conn.state === ConnState.Writing) drive(conn, EPOLLIN, false);
    else if (conn.state === ConnState.Reading || conn.state === ConnState.Lingering) drive(conn, EPOLLIN, true);
  },
};
