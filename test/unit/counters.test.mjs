/**
 * The counters in backend-neutral names: `serve` prints a poll or select server's waits
 * under their own syscall (not `epoll_wait=`), interest changes on those backends are no
 * syscall, a report from an older etlt is read under today's names, and the lab's counter
 * differences and figure checks hold what is possible only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatStats } from '../../dist/src/cli/serve-format.js';
import { counterDelta, impossibleFigures } from '../../dist/src/lab/plausible.js';
import {
  newReactorCounters,
  newServerCounters,
  syscallsByKind,
  withCurrentNames,
} from '../../dist/src/trace/counters.js';

function stats(backend) {
  return {
    ...newReactorCounters(),
    ...newServerCounters(),
    mode: 'lt',
    backend,
    open: 0,
    requests: 10,
    wakeups: 4,
    readyTurns: 1,
    waits: 20,
    turnWaits: 3,
    events: 30,
    interestAdds: 11,
    interestMods: 2,
    interestDels: 11,
  };
}

test('serve prints each backend in its own syscall names', () => {
  const epoll = formatStats(stats('epoll'));
  assert.match(epoll, /^etlt: epoll_wait=28 \(wake-ups 4,.*\) epoll_ctl add=11 mod=2 del=11$/m);
  assert.match(epoll, /^etlt: per request: syscalls=[\d.]+ epoll_wait=2\.80 epoll_ctl=2\.40$/m);
  for (const backend of ['poll', 'select']) {
    const text = formatStats(stats(backend));
    assert.doesNotMatch(
      text.replaceAll('libuv epoll_wait=', ''),
      /epoll_wait=/,
      `${backend}: no epoll_wait= of its own`,
    );
    assert.doesNotMatch(text, /epoll_ctl/, `${backend}: no epoll_ctl`);
    assert.match(
      text,
      new RegExp(
        `^etlt: ${backend}=23 \\(idle 3,.*libuv epoll_wait=5 .*interest add=11 mod=2 del=11 \\(in the process: no syscall\\)$`,
        'm',
      ),
    );
    assert.match(text, new RegExp(`^etlt: per request: syscalls=[\\d.]+ ${backend}=2\\.30$`, 'm'));
  }
});

test('interest changes are syscalls on epoll only', () => {
  assert.equal(syscallsByKind(stats('epoll'), 'epoll').epoll_ctl, 24);
  assert.equal(syscallsByKind(stats('poll'), 'poll').epoll_ctl, 0);
  assert.equal(syscallsByKind(stats('select'), 'select').epoll_ctl, 0);
});

test("an older report's counter names are read as today's", () => {
  assert.deepEqual(withCurrentNames({ epollWait: 5, ctlAdd: 1, ctlMod: 2, ctlDel: 3, requests: 9 }), {
    waits: 5,
    interestAdds: 1,
    interestMods: 2,
    interestDels: 3,
    requests: 9,
  });
});

test('counterDelta: snapshots of one process never give less than zero; a level keeps its value', () => {
  const { delta, fell } = counterDelta({ requests: 50, waits: 9, open: 3 }, { requests: 20, waits: 9, open: 10 });
  assert.deepEqual(delta, { requests: 30, waits: 0, open: 3 });
  assert.deepEqual(fell, []);
  const odd = counterDelta({ requests: 5 }, { requests: 20 });
  assert.deepEqual(odd.delta, { requests: 0 });
  assert.deepEqual(odd.fell, ['requests (20 then 5)']);
});

test('impossibleFigures: below zero, not a number, a share above 100%', () => {
  assert.deepEqual(impossibleFigures({ a: 1, b: { c: 0 }, stealPercent: 100 }), []);
  assert.deepEqual(impossibleFigures({ a: -18.2, b: [1, -1], stealPercent: 101, x: Number.NaN }), [
    'a is below zero (-18.2)',
    'b[1] is below zero (-1)',
    'stealPercent is above 100% (101)',
    'x is not a number',
  ]);
  assert.deepEqual(impossibleFigures({ counters: { open: -1 } }, new Set(['counters'])), []);
});
