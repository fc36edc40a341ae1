/**
 * Past FD_SETSIZE: CPython's ScalableSelectorMixIn.test_above_fd_setsize for PollSelector,
 * EpollSelector (DefaultSelector) and Poll, with as many fds as the soft RLIMIT_NOFILE
 * allows (Node raises it to the hard limit at start; CPython's test does the same by hand),
 * at least 10,000; and select() and SelectSelector refusing the same fds. Every socket is
 * closed by the test that made it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  select,
  Poll,
  PollSelector,
  EpollSelector,
  SelectSelector,
  EVENT_READ,
  EVENT_WRITE,
  FD_SETSIZE,
  POLLIN,
  POLLOUT,
} from 'etlt';
import { closeAll, manyPairs, softFdLimit } from '../lib/select.mjs';
import { noFdLeak } from '../lib/util.mjs';

/** CPython: min(hard, 2**16), less a guard for the fds already open (here: Node's own, the runner's). */
const NUM_FDS = Math.min(softFdLimit(), 2 ** 16) - 128;

/** NUM_FDS / 2 socketpairs for `body`, all closed after it. */
function withPairs(body) {
  assert.ok(NUM_FDS >= 10_000, `the fd limit allows only ${NUM_FDS} fds here: raise the hard RLIMIT_NOFILE`);
  const pairs = manyPairs(NUM_FDS / 2);
  try {
    assert.ok(pairs.at(-1)[1].fileno() >= NUM_FDS - 1, 'the last fds are far above FD_SETSIZE');
    return body(pairs);
  } finally {
    closeAll(pairs);
  }
}

describe(`above FD_SETSIZE: ${NUM_FDS} fds`, () => {
  noFdLeak();

  for (const S of [PollSelector, EpollSelector]) {
    test(`test_above_fd_setsize (${S.name}): every writer of ${NUM_FDS / 2} pairs is reported`, () => {
      const s = new S();
      try {
        withPairs((pairs) => {
          for (const [rd, wr] of pairs) {
            s.register(rd, EVENT_READ);
            s.register(wr, EVENT_WRITE);
          }
          const ready = s.select();
          assert.equal(ready.length, NUM_FDS / 2);
          const writers = new Set(pairs.map(([, wr]) => wr));
          assert.ok(ready.every(([key, events]) => events === EVENT_WRITE && writers.has(key.fileobj)));
          // One reader past FD_SETSIZE made ready is reported beside the writers.
          const [lastRd, lastWr] = pairs.at(-1);
          lastWr.send(Buffer.from('x'));
          const readable = s.select(1).filter(([, events]) => events === EVENT_READ);
          assert.deepEqual(
            readable.map(([key]) => key.fileobj),
            [lastRd],
          );
          assert.ok(lastRd.fileno() >= FD_SETSIZE);
          for (const [rd, wr] of pairs) {
            s.unregister(rd);
            s.unregister(wr);
          }
          assert.equal(s.getMap().size, 0);
        });
      } finally {
        s.close();
      }
    });
  }

  test(`Poll with ${NUM_FDS} fds: poll(0) reports every writer`, () => {
    withPairs((pairs) => {
      const p = new Poll();
      for (const [rd, wr] of pairs) {
        p.register(rd, POLLIN);
        p.register(wr, POLLOUT);
      }
      const ready = p.poll(0);
      assert.equal(ready.length, NUM_FDS / 2);
      assert.ok(ready.every(([, events]) => events === POLLOUT));
    });
  });

  test('select() and SelectSelector refuse the same fds with a RangeError naming the fd', () => {
    withPairs((pairs) => {
      const high = pairs.filter(([rd]) => rd.fileno() >= FD_SETSIZE).map(([rd]) => rd);
      assert.ok(high.length > 0);
      assert.throws(
        () => select([], [high[0]], [], 0),
        (err) =>
          err instanceof RangeError &&
          err.code === 'ERR_OUT_OF_RANGE' &&
          err.message.includes('"wlist[0]"') &&
          err.message.includes(`Received ${high[0].fileno()}`) &&
          err.message.includes('filedescriptor out of range in select()'),
      );
      const s = new SelectSelector();
      try {
        // Registering succeeds, as in Python; select() is what cannot take the fd.
        for (const [rd, wr] of pairs) {
          s.register(rd, EVENT_READ);
          s.register(wr, EVENT_WRITE);
        }
        assert.throws(
          () => s.select(0),
          (err) =>
            err instanceof RangeError &&
            /Received (\d+)/.test(err.message) &&
            Number(/Received (\d+)/.exec(err.message)[1]) >= FD_SETSIZE,
        );
      } finally {
        s.close();
      }
    });
  });
});
