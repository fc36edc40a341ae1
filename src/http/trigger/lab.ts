/**
 * Strategies for the lab: the seed's own two event loops (minus the bugs that make them
 * hang), and two deliberately wrong ones that show the pitfalls live. Not for serving.
 */
import { EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from '../../constants.js';
import { CloseReason, ConnState, ReadResult, WriteResult } from '../connection.js';
import type { Connection } from '../connection.js';
import type { Engine } from '../engine.js';
import { ACCEPT_BUDGET, WRITE_BUDGET } from './strategy.js';
import type { TriggerStrategy } from './strategy.js';
import { level } from './level.js';

/** The seed reads with recv(1024). */
const SEED_CHUNK = 1024;
/** "Until it fails", bounded only to keep a flood from freezing the process. */
const UNTIL_EAGAIN = 1 << 20;
const ET = EPOLLET >>> 0;

function register(conn: Connection, mask: number): void {
  if (conn.engine.reactor.add(conn, mask) < 0) conn.close(CloseReason.Aborted);
}

function modify(conn: Connection, mask: number): void {
  if (conn.engine.reactor.modify(conn, mask) < 0) conn.close(CloseReason.Aborted);
}

/**
 * The seed's event handling in either mode: EPOLLIN until the request is complete, then
 * modify to EPOLLOUT, send, modify to nothing and shutdown(SHUT_RDWR), close on EPOLLHUP.
 * Fixed: an EOF or error closes the connection (the seed spins or dies there).
 */
function seed(name: string, edgeTriggered: boolean): TriggerStrategy {
  const flag = edgeTriggered ? ET : 0;
  const reads = edgeTriggered ? UNTIL_EAGAIN : 1;
  const writes = edgeTriggered ? UNTIL_EAGAIN : 1;
  return {
    name,
    listenerMask: (EPOLLIN | flag) >>> 0,
    connectionMask: (EPOLLIN | flag) >>> 0,
    onAccepted(conn) {
      register(conn, this.connectionMask);
    },
    onListener(engine: Engine) {
      engine.accept(edgeTriggered ? UNTIL_EAGAIN : 1);
    },
    onListenerReady(engine: Engine) {
      engine.accept(edgeTriggered ? UNTIL_EAGAIN : 1);
    },
    onConnection(conn, events) {
      if (conn.state === ConnState.Reading && (events & EPOLLIN) !== 0) {
        if (conn.read(reads, events, SEED_CHUNK) === ReadResult.Complete) modify(conn, (EPOLLOUT | flag) >>> 0);
      } else if (conn.state === ConnState.Writing && (events & EPOLLOUT) !== 0) {
        if (conn.write(writes) === WriteResult.Done) {
          modify(conn, flag);
          if ((conn.state as ConnState) !== ConnState.Closed) conn.shutdownBoth();
        }
      } else if ((events & (EPOLLHUP | EPOLLERR)) !== 0) {
        conn.close(conn.state === ConnState.Lingering ? CloseReason.Done : CloseReason.Aborted);
      }
    },
    onConnectionReady(conn) {
      conn.onEvents(EPOLLIN);
    },
  };
}

/** The seed's level-triggered loop. */
export const seedLevel: TriggerStrategy = seed('seed-lt', false);
/** The seed's edge-triggered loop. */
export const seedEdge: TriggerStrategy = seed('seed-et', true);

/**
 * Edge-triggered, but one accept and one recv(1024) per edge: whatever is left when the
 * edge has been used waits for an edge that never comes. Lost wake-ups, on purpose.
 */
export const edgeNoDrain: TriggerStrategy = {
  name: 'et-no-drain',
  listenerMask: (EPOLLIN | EPOLLET) >>> 0,
  connectionMask: (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0,
  onAccepted(conn) {
    register(conn, this.connectionMask);
  },
  onListener(engine) {
    engine.accept(1);
  },
  onListenerReady(engine) {
    engine.accept(1);
  },
  onConnection(conn, events) {
    if (conn.state === ConnState.Writing) {
      if ((events & EPOLLOUT) !== 0 && conn.write(1) === WriteResult.Done) conn.finish();
      return;
    }
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) === 0) return;
    if (conn.read(1, 0, SEED_CHUNK) === ReadResult.Complete && conn.write(1) === WriteResult.Done) conn.finish();
  },
  onConnectionReady() {},
};

/**
 * Level-triggered with EPOLLOUT armed from accept to close: every epoll_wait reports every
 * writable connection, even while it waits for its request. Wake-ups for nothing, on purpose.
 */
export const levelAlwaysOut: TriggerStrategy = {
  ...level,
  name: 'lt-always-out',
  connectionMask: EPOLLIN | EPOLLOUT,
  onAccepted(conn) {
    conn.outArmed = true;
    register(conn, EPOLLIN | EPOLLOUT);
  },
  onListener(engine) {
    engine.accept(ACCEPT_BUDGET);
  },
  onConnection(conn, events) {
    if (conn.state === ConnState.Writing) {
      if ((events & EPOLLOUT) !== 0 && conn.write(WRITE_BUDGET) === WriteResult.Done) conn.finish();
      return;
    }
    if ((events & EPOLLIN) === 0) return;
    if (conn.read(1, events) === ReadResult.Complete && conn.write(WRITE_BUDGET) === WriteResult.Done) conn.finish();
  },
};
