/**
 * Two deliberately wrong strategies, for the lab, to show each mode's failure live: ET that
 * does not drain (lost wake-ups) and LT that never withdraws EPOLLOUT (wake-ups for nothing).
 */
import { EPOLLET, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from '../../constants.js';
import { isHangup, isReadable, isWritable } from '../../reactor/readiness.js';
import { ACCEPT_BUDGET, ConnState, ReadResult, WRITE_BUDGET, WriteResult } from '../contract.js';
import type { TriggerStrategy } from '../contract.js';
import { FACTS } from './catalog.js';
import { level } from './level.js';
import { edgeListener, levelListener } from './listener.js';
import { SEED_CHUNK, register } from './seed.js';

/**
 * Edge-triggered, but one accept and one recv(1024) per edge: whatever is left when the
 * edge has been used waits for an edge that never comes. Lost wake-ups, on purpose.
 */
export const edgeNoDrain: TriggerStrategy = {
  ...FACTS['et-no-drain'],
  listenerMask: (EPOLLIN | EPOLLET) >>> 0,
  connectionMask: (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0,
  ...edgeListener(() => edgeNoDrain),
  onAccepted(conn) {
    register(conn, edgeNoDrain.connectionMask);
  },
  onListener(engine) {
    engine.accept(1);
  },
  onConnection(conn, events) {
    if (conn.state === ConnState.Writing) {
      if (isWritable(events) && conn.write(1) === WriteResult.Done) conn.finish();
      return;
    }
    if (!isReadable(events) && !isHangup(events)) return;
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
  ...FACTS['lt-always-out'],
  connectionMask: EPOLLIN | EPOLLOUT,
  ...levelListener(() => levelAlwaysOut),
  onAccepted(conn) {
    register(conn, EPOLLIN | EPOLLOUT);
  },
  onListener(engine) {
    engine.accept(ACCEPT_BUDGET);
  },
  onConnection(conn, events) {
    if (conn.state === ConnState.Writing) {
      if (isWritable(events) && conn.write(WRITE_BUDGET) === WriteResult.Done) conn.finish();
      return;
    }
    if (!isReadable(events)) return;
    if (conn.read(1, events) === ReadResult.Complete && conn.write(WRITE_BUDGET) === WriteResult.Done) conn.finish();
  },
};
