/**
 * PollFds, the one poll(2) set under both Python's `Poll` and the reactor's poll backend:
 * registration order kept across removals (holes closed up before the wait), a rotating scan
 * that reaches every ready fd when the batch is cut short, and the set as pollfd entries for
 * the combined wait. Over real socketpairs, each always writable.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EEXIST, ENOENT, POLLOUT } from '../../dist/src/constants.js';
import { PollFds } from '../../dist/src/pollfds.js';
import { pair } from '../lib/select.mjs';

const fdsOf = (out, n) => Array.from({ length: n }, (_, i) => out[2 * i]);

test('order of registration is the order of the results, removals and re-adds included', (t) => {
  const [a, b, c] = [pair(t)[0], pair(t)[0], pair(t)[0]].map((s) => s.fileno());
  const set = new PollFds();
  for (const fd of [a, b, c]) assert.equal(set.add(fd, POLLOUT), 0);
  assert.equal(set.add(b, POLLOUT), -EEXIST);
  assert.equal(set.remove(b), 0);
  assert.equal(set.remove(b), -ENOENT);
  assert.equal(set.modify(b, POLLOUT), -ENOENT);
  assert.equal(set.size, 2);
  const out = new Uint32Array(16);
  let n = set.poll(0);
  assert.equal(n, 2, 'the hole is not polled');
  assert.deepEqual(fdsOf(out, set.collect(out, 8, n, false)), [a, c]);
  set.add(b, POLLOUT);
  n = set.poll(0);
  assert.deepEqual(fdsOf(out, set.collect(out, 8, n, false)), [a, c, b], 'a re-added fd goes last');
  assert.equal(out[1] & POLLOUT, POLLOUT);
});

test('a rotating scan cut short by max reaches every ready fd in turn', (t) => {
  const fds = Array.from({ length: 4 }, () => pair(t)[0].fileno());
  const set = new PollFds();
  for (const fd of fds) set.add(fd, POLLOUT);
  const out = new Uint32Array(2);
  const seen = [];
  for (let i = 0; i < 4; i++) {
    const n = set.poll(0);
    assert.equal(set.collect(out, 1, n, true), 1);
    seen.push(out[0]);
  }
  assert.deepEqual(seen, fds, 'one each, none starved');
  // A removal before the wait: the scan resumes at the same fd after the holes close up.
  set.remove(fds[0]);
  const n = set.poll(0);
  assert.equal(set.collect(out, 1, n, true), 1);
  assert.equal(out[0], fds[1]);
});

test('fill writes the live entries only, for the combined wait of several sets', (t) => {
  const [a, b] = [pair(t)[0], pair(t)[0]].map((s) => s.fileno());
  const set = new PollFds();
  set.add(a, POLLOUT);
  set.add(b, POLLOUT);
  set.remove(a);
  const fds = new Int32Array(8);
  const masks = new Int16Array(fds.buffer);
  assert.equal(set.fill(fds, masks, 1), 2);
  assert.equal(fds[2], b);
  assert.equal(masks[6], POLLOUT);
  set.clear();
  assert.equal(set.size, 0);
  assert.equal(set.poll(0), 0);
});
