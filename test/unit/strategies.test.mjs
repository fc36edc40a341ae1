/**
 * The trigger strategies against a fake connection and a fake engine: what each does with
 * the contract's results (which interest it sets, when it uses the ready list, how it
 * pauses its listener), without a socket. The real thing runs in test/http under both modes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from 'etlt';
import { edge } from '../../dist/src/http/trigger/edge.js';
import { level } from '../../dist/src/http/trigger/level.js';
import { edgeNoDrain, levelAlwaysOut } from '../../dist/src/http/trigger/pitfalls.js';
import { seedEdge, seedLevel } from '../../dist/src/http/trigger/seed.js';

// The contract's enums (const enums, inlined by tsc): the values connections return.
const State = { Reading: 0, Writing: 1, Lingering: 2, Closed: 3, Waiting: 4 };
const Read = { Drained: 0, Budget: 1, Complete: 2, Closed: 3, Paused: 4 };
const Write = { Done: 0, Blocked: 1, Budget: 2, Closed: 3 };
const Accept = { Drained: 0, Budget: 1, Paused: 2 };
const Next = { Closed: 0, Read: 1, Write: 2, Wait: 3 };

/** A reactor that records calls and keeps interest as the real one does. */
function fakeReactor() {
  const interest = new Map();
  const r = {
    calls: [],
    ready: [],
    add(p, mask) {
      r.calls.push(['add', mask >>> 0]);
      interest.set(p, mask >>> 0);
      return 0;
    },
    modify(p, mask) {
      r.calls.push(['modify', mask >>> 0]);
      interest.set(p, mask >>> 0);
      return 0;
    },
    setInterest(p, mask) {
      if (interest.get(p) === mask >>> 0) return 0;
      return r.modify(p, mask);
    },
    remove(p) {
      r.calls.push(['remove']);
      interest.delete(p);
      return 0;
    },
    later(p) {
      r.ready.push(p);
    },
  };
  return r;
}

function fakeEngine({ eager = false, accept = [Accept.Drained] } = {}) {
  const engine = {
    reactor: fakeReactor(),
    counters: { deferred: 0 },
    listener: { fd: 3, onEvents() {} },
    accepts: [],
    accept(max) {
      engine.accepts.push(max);
      return accept.shift() ?? Accept.Drained;
    },
    readEagerly: () => eager,
  };
  return engine;
}

/**
 * A connection whose read, write and finish results are scripted; each call is logged.
 * `finishes`: what each finish() answers (default: linger if `linger`, else close).
 */
function fakeConn(
  engine,
  { reads = [], writes = [], finishes = [], state = State.Reading, linger = false, unread = false } = {},
) {
  const conn = {
    fd: 7,
    engine,
    state,
    log: [],
    unreadInput: unread,
    noteInput() {
      conn.log.push(['noteInput']);
      conn.unreadInput = true;
    },
    onEvents(events) {
      conn.log.push(['onEvents', events]);
    },
    read(max, events) {
      conn.log.push(['read', max, events]);
      conn.unreadInput = false;
      const r = reads.shift() ?? Read.Drained;
      if (r === Read.Complete) conn.state = State.Writing;
      if (r === Read.Closed) conn.state = State.Closed;
      if (r === Read.Paused) conn.state = State.Waiting;
      return r;
    },
    write(max) {
      conn.log.push(['write', max]);
      const w = writes.shift() ?? Write.Done;
      if (w === Write.Closed) conn.state = State.Closed;
      return w;
    },
    serveEagerly() {
      conn.log.push(['eager']);
      return true;
    },
    finish() {
      conn.log.push(['finish']);
      const next = finishes.shift() ?? (linger ? Next.Read : Next.Closed);
      conn.state = {
        [Next.Closed]: State.Closed,
        [Next.Read]: linger ? State.Lingering : State.Reading,
        [Next.Write]: State.Writing,
        [Next.Wait]: State.Waiting,
      }[next];
      return next;
    },
    shutdownBoth() {
      conn.log.push(['shutdownBoth']);
      conn.state = State.Lingering;
    },
    close(reason) {
      conn.log.push(['close', reason]);
      conn.state = State.Closed;
    },
  };
  return conn;
}

const ops = (conn) => conn.log.map(([op]) => op);

describe('facts', () => {
  test('each strategy states its trigger, and the masks agree with it', () => {
    for (const s of [level, edge, seedLevel, seedEdge, edgeNoDrain, levelAlwaysOut]) {
      const et = (s.listenerMask & EPOLLET) !== 0;
      assert.equal(s.trigger, et ? 'edge' : 'level', s.name);
      assert.equal((s.connectionMask & EPOLLET) !== 0, et, `${s.name}: connection mask`);
      assert.ok(s.description.length > 20, `${s.name}: description`);
    }
  });
});

describe('level-triggered', () => {
  test('registers for EPOLLIN, reads once per event, writes at once, closes when done', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Complete] });
    level.onAccepted(conn);
    assert.deepEqual(engine.reactor.calls, [['add', EPOLLIN]]);
    level.onConnection(conn, EPOLLIN);
    assert.deepEqual(ops(conn), ['read', 'write', 'finish']);
    assert.equal(conn.log[0][1], 1, 'one recv per event');
    assert.deepEqual(engine.reactor.calls, [['add', EPOLLIN]], 'no epoll_ctl for a response that fits');
  });

  test('a blocked send arms EPOLLOUT alone, once; done disarms it for the linger', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, {
      reads: [Read.Complete],
      writes: [Write.Blocked, Write.Blocked, Write.Done],
      linger: true,
    });
    level.onAccepted(conn);
    level.onConnection(conn, EPOLLIN);
    level.onConnection(conn, EPOLLOUT);
    level.onConnection(conn, EPOLLOUT);
    assert.deepEqual(engine.reactor.calls, [
      ['add', EPOLLIN],
      ['modify', EPOLLOUT],
      ['modify', EPOLLIN],
    ]);
    assert.equal(conn.state, State.Lingering);
  });

  test('eager read: a connection served at once is never registered', () => {
    const engine = fakeEngine({ eager: true });
    const conn = fakeConn(engine);
    conn.serveEagerly = () => false;
    level.onAccepted(conn);
    assert.deepEqual(engine.reactor.calls, []);
  });

  test('a paused listener leaves the interest set; resuming restores it and accepts', () => {
    const engine = fakeEngine();
    level.pauseListener(engine);
    level.resumeListener(engine);
    assert.deepEqual(engine.reactor.calls, [
      ['modify', 0],
      ['modify', EPOLLIN],
    ]);
    assert.deepEqual(engine.accepts, [64]);
  });

  test('an exclusive listener is removed and added again, never modified (EPOLL_CTL_MOD fails with EINVAL)', () => {
    const engine = fakeEngine();
    engine.exclusiveListener = true;
    level.pauseListener(engine);
    level.resumeListener(engine);
    assert.deepEqual(engine.reactor.calls, [['remove'], ['add', (EPOLLIN | EPOLLEXCLUSIVE) >>> 0]]);
    assert.deepEqual(engine.accepts, [64]);
  });
});

describe('edge-triggered', () => {
  const MASK = (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0;

  test('registers once with IN|OUT|RDHUP|ET and never modifies', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Complete], writes: [Write.Blocked, Write.Done] });
    edge.onAccepted(conn);
    edge.onConnection(conn, EPOLLIN);
    assert.equal(conn.state, State.Writing);
    edge.onConnection(conn, EPOLLOUT);
    assert.deepEqual(engine.reactor.calls, [['add', MASK]]);
    assert.deepEqual(ops(conn), ['read', 'write', 'write', 'finish']);
  });

  test('the initial EPOLLOUT edge of a reading connection does nothing', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine);
    edge.onConnection(conn, EPOLLOUT);
    assert.deepEqual(conn.log, []);
  });

  test('a hang-up or error while reading is read, so the EOF or error is seen', () => {
    for (const ev of [EPOLLIN | EPOLLRDHUP, EPOLLHUP, EPOLLERR]) {
      const conn = fakeConn(fakeEngine());
      edge.onConnection(conn, ev);
      assert.deepEqual(ops(conn), ['read'], `events 0x${ev.toString(16)}`);
    }
  });

  test('a spent budget goes on the ready list, and the turn resumes from there', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Budget, Read.Complete], writes: [Write.Budget, Write.Done] });
    edge.onConnection(conn, EPOLLIN);
    assert.deepEqual(engine.reactor.ready, [conn]);
    edge.onConnectionReady(conn);
    assert.deepEqual(engine.reactor.ready, [conn, conn], 'the write budget ran out too');
    edge.onConnectionReady(conn);
    assert.deepEqual(ops(conn), ['read', 'read', 'write', 'write', 'finish']);
  });

  test('a lingering connection reads at once after the response: the EOF edge may be gone', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Complete, Read.Closed], linger: true });
    edge.onConnection(conn, EPOLLIN);
    assert.deepEqual(ops(conn), ['read', 'write', 'finish', 'read']);
  });

  test('the listener drains with a budget; what is left goes on the ready list', () => {
    const engine = fakeEngine({ accept: [Accept.Budget, Accept.Drained] });
    edge.onListener(engine);
    assert.deepEqual(engine.reactor.ready, [engine.listener]);
    assert.equal(engine.counters.deferred, 1);
    edge.onListener(engine);
    assert.equal(engine.reactor.ready.length, 1);
  });

  test('pausing the listener changes no interest; resuming accepts at once (the edge is gone)', () => {
    const engine = fakeEngine();
    edge.pauseListener(engine);
    assert.deepEqual(engine.reactor.calls, []);
    edge.resumeListener(engine);
    assert.deepEqual(engine.reactor.calls, []);
    assert.deepEqual(engine.accepts, [64]);
  });
});

describe('kept alive (HTTP/1.1)', () => {
  test('LT: after the response the connection goes back to EPOLLIN; buffered requests are written first', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, {
      reads: [Read.Complete],
      writes: [Write.Done, Write.Blocked, Write.Done],
      finishes: [Next.Write, Next.Read],
    });
    level.onAccepted(conn);
    level.onConnection(conn, EPOLLIN);
    assert.deepEqual(ops(conn), ['read', 'write', 'finish', 'write']);
    assert.deepEqual(
      engine.reactor.calls,
      [
        ['add', EPOLLIN],
        ['modify', EPOLLOUT],
      ],
      'blocked: EPOLLOUT alone',
    );
    level.onConnection(conn, EPOLLOUT);
    assert.deepEqual(engine.reactor.calls.at(-1), ['modify', EPOLLIN], 'drained and kept alive: EPOLLIN again');
    assert.equal(conn.state, State.Reading);
  });

  test('LT: a pending handler is watched for nothing; its answer resumes the connection', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Paused], finishes: [Next.Read] });
    level.onAccepted(conn);
    level.onConnection(conn, EPOLLIN);
    assert.deepEqual(engine.reactor.calls, [
      ['add', EPOLLIN],
      ['modify', 0],
    ]);
    conn.state = State.Writing;
    level.onConnectionReady(conn);
    assert.deepEqual(engine.reactor.calls.at(-1), ['modify', EPOLLIN]);
  });

  test('ET: kept alive after a drained read, it waits for the next edge: no recv for nothing', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Complete], finishes: [Next.Read] });
    edge.onConnection(conn, EPOLLIN);
    assert.deepEqual(ops(conn), ['read', 'write', 'finish']);
    assert.deepEqual(engine.reactor.ready, []);
  });

  test('ET: input that no edge will announce is read at once after the response', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Drained], finishes: [Next.Read] });
    // An input edge arrives while the response is blocked: remembered.
    conn.state = State.Writing;
    edge.onConnection(conn, EPOLLIN | EPOLLOUT);
    assert.deepEqual(ops(conn), ['noteInput', 'write', 'finish', 'read']);
  });

  test('ET: a pending handler stops the turn; an edge meanwhile is remembered', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Paused] });
    edge.onConnection(conn, EPOLLIN);
    assert.equal(conn.state, State.Waiting);
    edge.onConnection(conn, EPOLLIN);
    assert.deepEqual(ops(conn), ['read', 'noteInput']);
    assert.equal(conn.unreadInput, true);
  });
});

describe("the seed's loops and the pitfalls", () => {
  test('seed-lt: EPOLLIN, modify to EPOLLOUT, modify to 0 and shutdown, close on EPOLLHUP', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Complete] });
    seedLevel.onAccepted(conn);
    seedLevel.onConnection(conn, EPOLLIN);
    seedLevel.onConnection(conn, EPOLLOUT);
    seedLevel.onConnection(conn, EPOLLHUP);
    assert.deepEqual(engine.reactor.calls, [
      ['add', EPOLLIN],
      ['modify', EPOLLOUT],
      ['modify', 0],
    ]);
    assert.deepEqual(ops(conn), ['read', 'write', 'shutdownBoth', 'close']);
    assert.equal(conn.log[3][1], 0, 'a close after the response is done, not aborted');
  });

  test('seed-et: the same modify pattern with EPOLLET, reading until it fails', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Complete] });
    seedEdge.onAccepted(conn);
    seedEdge.onConnection(conn, EPOLLIN);
    seedEdge.onConnection(conn, EPOLLOUT);
    const et = EPOLLET >>> 0;
    assert.deepEqual(engine.reactor.calls, [
      ['add', (EPOLLIN | et) >>> 0],
      ['modify', (EPOLLOUT | et) >>> 0],
      ['modify', et],
    ]);
    assert.ok(conn.log[0][1] > 1000, 'reads until EAGAIN');
  });

  test('et-no-drain: one accept and one read per edge', () => {
    const engine = fakeEngine({ accept: [Accept.Budget] });
    edgeNoDrain.onListener(engine);
    assert.deepEqual(engine.accepts, [1]);
    assert.deepEqual(engine.reactor.ready, [], 'what is left waits for an edge that never comes');
  });

  test('lt-always-out: IN|OUT from accept to close', () => {
    const engine = fakeEngine();
    const conn = fakeConn(engine, { reads: [Read.Complete] });
    levelAlwaysOut.onAccepted(conn);
    levelAlwaysOut.onConnection(conn, EPOLLIN | EPOLLOUT);
    assert.deepEqual(engine.reactor.calls, [['add', EPOLLIN | EPOLLOUT]]);
  });
});
