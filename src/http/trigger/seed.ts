/**
 * The seed's own two event loops, for the lab: its modify pattern and its ending kept, the
 * bugs that make it hang fixed (an EOF or error closes the connection, where the seed spins
 * or dies). Not for traffic: a body that arrives after the response is reset.
 */
import { EPOLLET, EPOLLIN, EPOLLOUT } from '../../constants.js';
import { isReadable, isWritable, isWriteClosed } from '../../reactor/readiness.js';
import { CloseReason, ConnState, ReadResult, WriteResult } from '../contract.js';
import type { StrategyConnection, TriggerStrategy } from '../contract.js';
import type { Mode } from './catalog.js';
import { FACTS } from './catalog.js';
import { edgeListener, levelListener } from './listener.js';

/** The seed reads with recv(1024). */
export const SEED_CHUNK = 1024;
/** "Until it fails", bounded only to keep a flood from freezing the process. */
const UNTIL_EAGAIN = 1 << 20;

/** Registers `conn`, closing it when the kernel refuses. */
export function register(conn: StrategyConnection, mask: number): void {
  if (conn.engine.reactor.add(conn, mask) < 0) conn.close(CloseReason.Aborted);
}

function modify(conn: StrategyConnection, mask: number): void {
  if (conn.engine.reactor.modify(conn, mask) < 0) conn.close(CloseReason.Aborted);
}

/**
 * The seed's event handling in either mode: EPOLLIN until the request is complete, then
 * modify to EPOLLOUT, send, modify to nothing and shutdown(SHUT_RDWR), close on EPOLLHUP.
 */
function seed(name: Mode, edgeTriggered: boolean): TriggerStrategy {
  const flag = edgeTriggered ? EPOLLET >>> 0 : 0;
  const turns = edgeTriggered ? UNTIL_EAGAIN : 1;
  const strategy: TriggerStrategy = {
    ...FACTS[name],
    listenerMask: (EPOLLIN | flag) >>> 0,
    connectionMask: (EPOLLIN | flag) >>> 0,
    ...(edgeTriggered ? edgeListener(() => strategy) : levelListener(() => strategy)),
    onAccepted(conn) {
      register(conn, strategy.connectionMask);
    },
    onListener(engine) {
      engine.accept(turns);
    },
    onConnection(conn, events) {
      if (conn.state === ConnState.Reading && isReadable(events)) {
        if (conn.read(turns, events, SEED_CHUNK) === ReadResult.Complete) modify(conn, (EPOLLOUT | flag) >>> 0);
      } else if (conn.state === ConnState.Writing && isWritable(events)) {
        if (conn.write(turns) === WriteResult.Done) {
          modify(conn, flag);
          if ((conn.state as ConnState) !== ConnState.Closed) conn.shutdownBoth();
        }
      } else if (isWriteClosed(events)) {
        conn.close(conn.state === ConnState.Lingering ? CloseReason.Done : CloseReason.Aborted);
      }
    },
    onConnectionReady(conn) {
      conn.onEvents(EPOLLIN);
    },
  };
  return strategy;
}

/** The seed's level-triggered loop. */
export const seedLevel: TriggerStrategy = seed('seed-lt', false);
/** The seed's edge-triggered loop. */
export const seedEdge: TriggerStrategy = seed('seed-et', true);
