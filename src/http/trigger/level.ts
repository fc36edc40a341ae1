/**
 * Level-triggered: the listener and each connection are watched for EPOLLIN while they
 * wait for input, for the connection's whole life when its responses fit in the socket.
 * EPOLLOUT replaces EPOLLIN only while a send would block, and EPOLLIN comes back once the
 * backlog is gone; while a handler's answer is pending the connection is watched for
 * nothing. Anything not done in a turn is simply reported again by the next epoll_wait: no
 * ready list needed.
 */
import { EPOLLIN, EPOLLOUT } from '../../constants.js';
import { ACCEPT_BUDGET, CloseReason, ConnState, Next, ReadResult, WRITE_BUDGET, WriteResult } from '../contract.js';
import type { Engine, StrategyConnection, TriggerStrategy } from '../contract.js';
import { isWriteClosed } from '../../reactor/readiness.js';
import { FACTS } from './catalog.js';
import { levelListener } from './listener.js';

/** Rounds of write and answer-what-is-buffered per event: the rest on the next poll. */
const ROUNDS = 4;

function setInterest(conn: StrategyConnection, mask: number): void {
  if (conn.engine.reactor.setInterest(conn, mask) < 0) conn.close(CloseReason.Aborted);
}

function respond(conn: StrategyConnection): void {
  for (let round = 0; round < ROUNDS; round++) {
    const w = conn.write(WRITE_BUDGET);
    if (w === WriteResult.Closed) return;
    if (w !== WriteResult.Done) break;
    const next = conn.finish();
    if (next === Next.Write) continue;
    if (next === Next.Read) setInterest(conn, EPOLLIN);
    else if (next === Next.Wait) setInterest(conn, 0);
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
    const mask = conn.state === ConnState.Writing ? EPOLLOUT : conn.state === ConnState.Waiting ? 0 : EPOLLIN;
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
    if (conn.state === ConnState.Waiting) {
      // Watched for nothing, but epoll reports errors and hang-ups whatever the mask, at
      // every poll: a peer that reset while its handler runs would spin the loop until the
      // answer came. Nothing can reach that peer any more.
      if (isWriteClosed(events)) conn.close(CloseReason.Aborted);
      return;
    }
    // One recv per event: whatever is left is reported again at the next poll.
    const r = conn.read(1, events);
    if (r === ReadResult.Complete) respond(conn);
    else if (r === ReadResult.Paused) setInterest(conn, 0);
  },

  onConnectionReady(conn: StrategyConnection): void {
    // A handler's answer came (the connection resumed itself): carry on from its state.
    if (conn.state === ConnState.Writing) respond(conn);
    else if (conn.state === ConnState.Reading || conn.state === ConnState.Lingering) setInterest(conn, EPOLLIN);
  },
};
