/**
 * IdleSweep's send timeout, on fake connections and a fake clock: a connection with output
 * pending is timed out by the send timeout (not the idle one), its peer's progress (the send
 * queue shrinking) counts, and a kept-alive connection whose responses are still leaving
 * the kernel is not closed while they leave.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';

import { IdleSweep } from '../../dist/src/http/idle-sweep.js';

const IDLE = 300;
const KEEP_ALIVE = 1000;
const SEND = 2000;
let now = 0;

beforeEach(() => {
  now = 0;
  mock.timers.enable({ apis: ['setInterval'] });
  Object.defineProperty(performance, 'now', { value: () => now, configurable: true, writable: true });
});
afterEach(() => {
  mock.timers.reset();
  delete performance.now;
});

/** Advances the fake clock and the timers by `ms`, in steps of 5 ms. */
function advance(ms) {
  for (let t = 0; t < ms; t += 5) {
    now += 5;
    mock.timers.tick(5);
  }
}

/** A connection as the sweep sees it; `queue` is what SIOCOUTQ reports. */
function conn(name) {
  const c = {
    name,
    olderActive: null,
    newerActive: null,
    activeList: null,
    lastActive: 0,
    outBytes: 0,
    kernelQueued: -1,
    outputMovedAt: 0,
    queue: 0,
    looks: 0,
    closedAt: null,
    unacknowledged() {
      c.looks++;
      return c.queue;
    },
    timeOut() {
      c.closedAt = now;
      c.activeList?.remove(c);
    },
  };
  return c;
}

function sweep() {
  const timedOut = [];
  const s = new IdleSweep(
    IDLE,
    KEEP_ALIVE,
    SEND,
    0,
    () => {},
    (c) => {
      timedOut.push(c.name);
      c.timeOut();
    },
  );
  s.start();
  return { s, timedOut };
}

test('output pending: the idle timeout does not apply; a peer that takes nothing is timed out by the send timeout', () => {
  const { s, timedOut } = sweep();
  const c = conn('stalled');
  c.outBytes = 1 << 20;
  c.queue = 4 << 20;
  s.sent(c, now);
  advance(SEND - 100);
  assert.equal(c.closedAt, null, 'closed before the send timeout');
  advance(SEND / 4 + 300);
  assert.deepEqual(timedOut, ['stalled']);
  assert.ok(c.closedAt >= SEND && c.closedAt <= SEND * 1.25 + 300, `closed at ${c.closedAt} ms`);
  assert.ok(c.looks <= 10, `${c.looks} looks at the queue in ${SEND} ms`);
  assert.equal(s.size, 0);
});

test("the peer's progress alone keeps a connection alive: the queue shrinks, we never send", () => {
  const { s, timedOut } = sweep();
  const c = conn('slow');
  c.outBytes = 1 << 20;
  c.queue = 4 << 20;
  s.sent(c, now);
  // Ten send timeouts long, the peer taking 8 KiB every 50 ms, and we send nothing.
  for (let t = 0; t < 10 * SEND; t += 50) {
    c.queue -= 8192;
    advance(50);
  }
  assert.deepEqual(timedOut, []);
  assert.equal(c.closedAt, null);
  // It stops reading: timed out one send timeout (and at most a look and a sweep) later.
  const stoppedAt = now;
  advance(SEND * 1.5);
  assert.deepEqual(timedOut, ['slow']);
  assert.ok(c.closedAt - stoppedAt >= SEND - SEND / 8, `closed ${c.closedAt - stoppedAt} ms after it stopped`);
});

test('a connection behind a send that blocked at once: its idle timeout hands it to the send timeout', () => {
  const { s, timedOut } = sweep();
  const c = conn('queued');
  s.touch(c, now); // its request arrived; the response was queued and the first send blocked
  c.outBytes = 1000;
  c.queue = 4 << 20;
  advance(IDLE + 100);
  assert.equal(c.closedAt, null, 'the idle timeout closed a connection with output pending');
  advance(SEND);
  assert.deepEqual(timedOut, ['queued']);
});

test('a kept-alive connection whose responses are still leaving the kernel waits; then closes normally', () => {
  const { s, timedOut } = sweep();
  const c = conn('delivering');
  c.queue = 3 << 20;
  s.idle(c, now);
  for (let t = 0; t < 3 * KEEP_ALIVE; t += 50) {
    c.queue = Math.max(0, c.queue - 40_000);
    advance(50);
  }
  assert.equal(c.closedAt, null, 'closed while its responses were still being delivered');
  // The queue stands still: closed by the keep-alive timeout, not counted as a send timeout.
  c.queue = 1000;
  advance(3 * KEEP_ALIVE);
  assert.ok(c.closedAt !== null, 'kept for ever');
  assert.deepEqual(timedOut, []);
});

test('an ordinary kept-alive connection (nothing queued) closes at its keep-alive timeout', () => {
  const { s } = sweep();
  const c = conn('idle');
  s.idle(c, now);
  advance(KEEP_ALIVE + 300);
  assert.ok(c.closedAt !== null && c.closedAt >= KEEP_ALIVE && c.closedAt <= KEEP_ALIVE + 300);
  assert.equal(c.looks, 1, 'one look at the queue');
});
