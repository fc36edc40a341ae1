/**
 * FdSets, the one select(2) set under both Python's `select()` and the reactor's select
 * backend: its return codes, the ready bits read back per fd and as a batch, a rotating scan
 * over several words of the set, the extra fd never reported, and the set as pollfd entries
 * for the combined wait. Over real socketpairs, each always writable.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  EBADF,
  EEXIST,
  EINVAL,
  ENOENT,
  F_DUPFD_CLOEXEC,
  FD_SETSIZE,
  POLLIN,
  POLLOUT,
  POLLPRI,
} from '../../dist/src/constants.js';
import { FdSets } from '../../dist/src/fdsets.js';
import { sys } from '../../dist/src/sys.js';
import { closedFd, pair } from '../lib/select.mjs';

const pairsOf = (out, n) => Array.from({ length: n }, (_, i) => [out[2 * i], out[2 * i + 1]]);

/** A writable socket's fd duplicated onto a number at or above `from` (closed after the test). */
function dupAbove(t, from) {
  const fd = sys.fcntl(pair(t)[0].fileno(), F_DUPFD_CLOEXEC, from);
  assert.ok(fd >= from && fd < FD_SETSIZE, `a free fd from ${from} below FD_SETSIZE, got ${fd}`);
  t.after(() => sys.close(fd));
  return fd;
}

test('add, modify and remove answer 0 or -errno; FD_SETSIZE and up is EINVAL', (t) => {
  const a = pair(t)[0].fileno();
  const set = new FdSets();
  assert.equal(set.add(a, POLLIN), 0);
  assert.equal(set.add(a, POLLOUT), -EEXIST);
  assert.equal(set.maskOf(a), POLLIN);
  assert.equal(set.modify(a, POLLIN | POLLOUT | 0x2000), 0);
  assert.equal(set.maskOf(a), POLLIN | POLLOUT, 'bits select has no set for are dropped');
  assert.equal(set.size, 1);
  assert.equal(set.remove(a), 0);
  assert.equal(set.remove(a), -ENOENT);
  assert.equal(set.modify(a, POLLIN), -ENOENT);
  assert.equal(set.maskOf(a), -ENOENT);
  for (const fd of [-1, FD_SETSIZE, FD_SETSIZE + 64]) {
    assert.equal(set.add(fd, POLLIN), -EINVAL, `add(${fd})`);
    assert.equal(set.modify(fd, POLLIN), -EINVAL, `modify(${fd})`);
    assert.equal(set.remove(fd), -ENOENT, `remove(${fd})`);
  }
  assert.equal(set.size, 0);
});

test('the ready bits per fd and as a batch; an fd with an empty mask is never reported', (t) => {
  const [a, peer] = pair(t);
  const b = pair(t)[0].fileno();
  const idle = pair(t)[0].fileno();
  peer.send(Buffer.from('x'));
  const set = new FdSets();
  set.add(a.fileno(), POLLIN | POLLOUT | POLLPRI);
  set.add(b, POLLIN);
  set.add(idle, 0);
  assert.equal(set.select(0), 2, 'a readable and writable, b not readable');
  assert.equal(set.revents(a.fileno()), POLLIN | POLLOUT);
  assert.equal(set.revents(b), 0);
  assert.equal(set.revents(idle), 0);
  const out = new Uint32Array(16);
  assert.deepEqual(pairsOf(out, set.collect(out, 8)), [[a.fileno(), POLLIN | POLLOUT]]);
});

test('a rotating scan over several words, cut short by max, reaches every ready fd in turn', (t) => {
  const fds = [dupAbove(t, 40), dupAbove(t, 100), dupAbove(t, 300)];
  fds.unshift(pair(t)[0].fileno());
  fds.sort((x, y) => x - y);
  const set = new FdSets();
  for (const fd of fds) set.add(fd, POLLOUT);
  const out = new Uint32Array(2);
  const seen = [];
  for (let i = 0; i < fds.length + 1; i++) {
    assert.equal(set.select(0), fds.length);
    assert.equal(set.collect(out, 1), 1);
    seen.push(out[0]);
  }
  assert.deepEqual(seen, [...fds, fds[0]], 'one each in order, none starved, then round again');
  const all = new Uint32Array(16);
  assert.equal(set.select(0), fds.length);
  assert.deepEqual(
    pairsOf(all, set.collect(all, 8)).map(([fd]) => fd),
    [...fds.slice(1), fds[0]],
    'a whole batch starts where the cut one stopped',
  );
  // Removing the highest brings nfds down; the others are still scanned.
  set.remove(fds.at(-1));
  assert.equal(set.select(0), fds.length - 1);
  assert.deepEqual(
    pairsOf(all, set.collect(all, 8))
      .map(([fd]) => fd)
      .sort((x, y) => x - y),
    fds.slice(0, -1),
  );
});

test('the extra fd is waited on, never reported; from FD_SETSIZE up it is EINVAL', (t) => {
  const [a, peer] = pair(t);
  peer.send(Buffer.from('x'));
  const b = pair(t)[0].fileno();
  const set = new FdSets();
  set.add(b, POLLIN);
  assert.equal(set.select(1_000_000, a.fileno()), 1, 'the readable extra fd ends the wait');
  assert.equal(set.revents(a.fileno()), 0);
  const out = new Uint32Array(16);
  assert.equal(set.collect(out, 8), 0);
  assert.equal(set.select(0, FD_SETSIZE), -EINVAL);
  const empty = new FdSets();
  assert.equal(empty.select(0, a.fileno()), 1, 'an empty set waits on the extra fd alone');
  assert.equal(empty.collect(out, 8), 0);
});

test('a closed fd is EBADF; fill writes the fds with a mask, for the combined wait', (t) => {
  const [a, b] = [pair(t)[0], pair(t)[0]].map((s) => s.fileno());
  const set = new FdSets();
  set.add(a, 0);
  set.add(b, POLLIN | POLLPRI);
  const fds = new Int32Array(8);
  const masks = new Int16Array(fds.buffer);
  assert.equal(set.fill(fds, masks, 1), 2, 'a (empty mask) left out');
  assert.equal(fds[2], b);
  assert.equal(masks[6], POLLIN | POLLPRI);
  const gone = closedFd();
  set.add(gone, POLLIN);
  assert.equal(set.select(0), -EBADF);
  set.clear();
  assert.equal(set.size, 0);
  assert.equal(set.select(0), 0);
});
