/**
 * ActivityList: the server's idle ordering (an intrusive list), checked on its own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ActivityList } from '../../dist/src/http/idle-sweep.js';

const item = (name) => ({ name, olderActive: null, newerActive: null, activeList: null });
const names = (list) => list.toArray().map((x) => x.name);

test('touch appends or moves to the newest end; remove unlinks; oldest and size follow', () => {
  const list = new ActivityList();
  const [a, b, c] = ['a', 'b', 'c'].map(item);
  for (const x of [a, b, c]) list.touch(x);
  assert.deepEqual(names(list), ['a', 'b', 'c']);
  assert.equal(list.oldest, a);
  list.touch(a);
  assert.deepEqual(names(list), ['b', 'c', 'a']);
  list.touch(a); // already the newest
  assert.deepEqual(names(list), ['b', 'c', 'a']);
  list.remove(c);
  assert.deepEqual(names(list), ['b', 'a']);
  assert.equal(list.size, 2);
  list.remove(c); // not a member any more: nothing happens
  assert.equal(list.size, 2);
  list.remove(b);
  list.remove(a);
  assert.equal(list.oldest, null);
  assert.equal(list.size, 0);
  assert.deepEqual(names(list), []);
});

test('a member touched in another list moves there; removing it from the wrong list does nothing', () => {
  const busy = new ActivityList();
  const silent = new ActivityList();
  const [a, b, s] = ['a', 'b', 's'].map(item);
  busy.touch(a);
  silent.touch(s);
  busy.touch(b);
  busy.remove(s);
  assert.deepEqual(names(silent), ['s']);
  busy.touch(s);
  assert.deepEqual(names(busy), ['a', 'b', 's']);
  assert.deepEqual(names(silent), []);
  assert.equal(silent.size, 0);
  assert.equal(s.activeList, busy);
});
