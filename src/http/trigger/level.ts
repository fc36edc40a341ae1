/**
 * Level-triggered: the listener and each connection are watched for EPOLLIN for their
 * whole life. The response is written as soon as the request is complete; EPOLLOUT is
 * armed only when a send would block, and disarmed once the backlog is gone. Anything not
 * done in a turn is simply reported again by the next epoll_wait: no ready list needed.
 */
import { EPOLLIN, EPOLLOUT } from '../../constants.js';
import { ACCEPT_BUDGET, CloseReason, ConnState, ReadResult, WRITE_BUDGET, WriteResult } from '../contract.js';
import type { Engine, StrategyConnection, TriggerStrategy } from '../contract.js';
import { FACTS } from './catalog.js';
import { levelListener } from './listener.js';

function setInterest(conn: StrategyConnection, mask: number): void {
  if (conn.engine.reactor.setInterest(conn, mask) < 0) conn.close(CloseReason.Aborted);
}

function respond(conn: StrategyConnection): void {
  const w = conn.write(WRITE_BUDGET);
  if (w === WriteResult.Closed) return;
  if (w === WriteResult.Done) {
    if (conn.finish()) setInterest(conn, EPOLLIN);
    return;
  }
  // EPOLLOUT alone: with EPOLLIN too, a client that sends more while not reading would make
  // every poll report the unread bytes, a busy loop. Errors and hang-ups are always reported.
  setInterest(conn, EPOLLOUT);
}

/** The level-triggered strategy. */
export const level: TriggerStrategy = {
  ...FACTS.lt,
  listenerMask: EPOLLIN,
  connectionMask: EPOLLIN,
  ...levelListener(() => level),

  onAccepted(conn: StrategyConnection): void {
    if (conn.engine.readEagerly() && !conn.serveEagerly(1, WRITE_BUDGET)) return;
    // Served in part already: a response that did not fit waits for EPOLLOUT alone.
    const mask = conn.state === ConnState.Writing ? EPOLLOUT : EPOLLIN;
    if (conn.engine.reactor.add(conn, mask) < 0) conn.close(CloseReason.Aborted);
  },

  onListener(engine: Engine): void {
    engine.accept(ACCEPT_BUDGET);
  },

  onConnection(conn: StrategyConnection, events: number): void {
    if (conn.state === ConnState.Writing) {
      // Bytes past the head wait in the kernel until the response is out; hang-ups surface
      // as send errors.
      respond(conn);
      return;
    }
    // One recv per event: whatever is left is reported again at the next poll.
    if (conn.read(1, events) === ReadResult.Complete) respond(conn);
  },

  onConnectionReady(conn: StrategyConnection): void {
    conn.onEvents(EPOLLIN);
  },
};
