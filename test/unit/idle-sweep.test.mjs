/**
 * The idle sweep on an injected clock: a connection is closed at the first turn at or after
 * its timeout, never before, and a turn comes every quarter of the shortest timeout. What the
 * HTTP tests once checked with wall-clock windows (closed between 280 and 1,500 ms of a 300 ms
 * timeout), which failed on a loaded machine, is checked here exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { IdleSweep } from '../../dist/src/http/idle-sweep.js';

/** A clock a test moves by hand; `every` turns fire as time passes over them. */
function fakeClock() {
  let now = 0;
  const timers = [];
  return {
    now: () => now,
    every(ms, turn) {
      const t = { ms, turn, next: now + ms, live: true };
      timers.push(t);
      return () => (t.live = false);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.live && t.next <= end).sort((a, b) => a.next - b.next)[0];
        if (!due) break;
        now = due.next;
        due.next += due.ms;
        due.turn();
      }
      now = end;
    },
    get intervals() {
      return timers.filter((t) => t.live).map((t) => t.ms);
    },
  };
}

function conn(name, closed) {
  return {
    name,
    lastActive: 0,
    olderActive: null,
    newerActive: null,
    activeList: null,
    // Nothing queued in the kernel: the send timeout's look finds no progress to credit.
    outBytes: 0,
    kernelQueued: -1,
    unacknowledged: () => 0,
    timeOut() {
      closed.push(name);
    },
    // A held stream's peer: still there until a test says it sent its FIN.
    peerGone: false,
    looks: 0,
    closeIfPeerGone() {
      this.looks++;
      if (!this.peerGone) return false;
      closed.push(name);
      this.activeList?.remove(this);
      return true;
    },
  };
}

/** An IdleSweep on `clock` (send timeout 60 s, no credited silences), started. */
function startedSweep(clock, idleMs, keepAliveMs, onTurn = () => {}) {
  const sweep = new IdleSweep(idleMs, keepAliveMs, 60_000, 0, onTurn, () => {}, clock);
  sweep.start();
  return sweep;
}

test('a connection idle for the timeout is closed at the next turn, not before', () => {
  const clock = fakeClock();
  let turns = 0;
  const sweep = startedSweep(clock, 300, 5000, () => turns++);
  assert.deepEqual(clock.intervals, [75], 'a turn every quarter of the shorter timeout');
  const closed = [];
  const a = conn('a', closed);
  const b = conn('b', closed);
  sweep.touch(a, clock.now());
  clock.advance(100);
  sweep.touch(b, clock.now()); // b's timeout counts from 100
  clock.advance(199); // t = 299
  assert.deepEqual(closed, [], 'nothing before 300 ms of idleness');
  clock.advance(1); // t = 300: a turn falls on it
  assert.deepEqual(closed, ['a'], 'a at 300 ms');
  clock.advance(75); // t = 375: b idle 275 ms
  assert.deepEqual(closed, ['a']);
  clock.advance(75); // t = 450: b idle 350 ms, first turn past its 300 ms
  assert.deepEqual(closed, ['a', 'b']);
  assert.equal(turns, 6);
  sweep.stop();
  assert.deepEqual(clock.intervals, [], 'stop() ends the turns');
});

test('progress restarts the count; kept-alive connections have their own timeout', () => {
  const clock = fakeClock();
  const sweep = startedSweep(clock, 400, 1000);
  const closed = [];
  const busy = conn('busy', closed);
  const kept = conn('kept', closed);
  sweep.touch(busy, 0);
  sweep.idle(kept, 0);
  clock.advance(300);
  sweep.touch(busy, clock.now()); // a byte arrived
  clock.advance(300); // t = 600: busy idle 300 ms
  assert.deepEqual(closed, []);
  clock.advance(100); // t = 700: busy idle 400 ms
  assert.deepEqual(closed, ['busy']);
  clock.advance(200); // t = 900
  assert.deepEqual(closed, ['busy'], 'kept alive: 1,000 ms, not 400');
  clock.advance(100); // t = 1000
  assert.deepEqual(closed, ['busy', 'kept']);
  sweep.stop();
});

test('a connection held for its handler has no timeout', () => {
  const clock = fakeClock();
  const sweep = startedSweep(clock, 100, 100);
  const closed = [];
  const waiting = conn('waiting', closed);
  sweep.touch(waiting, 0);
  sweep.hold(waiting);
  clock.advance(10_000);
  assert.deepEqual(closed, []);
  assert.equal(sweep.size, 1);
  sweep.stop();
});

test('a held stream is looked at every idle timeout, and closed at the first look after its peer left', () => {
  const clock = fakeClock();
  const sweep = startedSweep(clock, 100, 100);
  const closed = [];
  const stream = conn('stream', closed);
  sweep.hold(stream);
  clock.advance(99);
  assert.equal(stream.looks, 0, 'not looked at before the idle timeout');
  clock.advance(1000);
  // Every idle timeout (100 ms, at a turn every 25 ms): about ten looks, and still open.
  assert.ok(stream.looks >= 9 && stream.looks <= 11, `${stream.looks} looks`);
  assert.deepEqual(closed, []);
  stream.peerGone = true;
  clock.advance(125);
  assert.deepEqual(closed, ['stream']);
  assert.equal(sweep.size, 0);
  sweep.stop();
});
