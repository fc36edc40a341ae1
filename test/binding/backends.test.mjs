/**
 * The reactor's poll(2) and select(2) backends over real sockets on 127.0.0.1, beside the
 * epoll one: the same calls and errors (EEXIST, ENOENT, EINVAL for EPOLLET), readiness
 * reported in epoll's bits, closed fds forgotten, fair batches, and select refusing fds
 * from FD_SETSIZE (1024) up instead of writing past its sets.
 */
import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import { describe, test } from 'node:test';

import {
  Socket,
  AF_INET,
  SOCK_STREAM,
  EPOLLIN,
  EPOLLOUT,
  EPOLLET,
  EPOLLERR,
  EPOLLHUP,
  EEXIST,
  ENOENT,
  EINVAL,
  FD_SETSIZE,
  SOL_SOCKET,
  SO_LINGER,
} from 'etlt';
import { createBackend } from '../../dist/src/reactor/backends.js';
import { lingerBytes } from '../lib/util.mjs';

/** A connected pair of TCP sockets on loopback, both closed by `close()`. */
function tcpPair() {
  const listener = new Socket(AF_INET, SOCK_STREAM);
  listener.bind(['127.0.0.1', 0]);
  listener.listen(1);
  const a = new Socket(AF_INET, SOCK_STREAM);
  a.connect(listener.getsockname());
  const [b] = listener.accept();
  listener.close();
  return { a, b, close: () => (a.close(), b.close()) };
}

/** The [fd, events] pairs of one wait. */
function waitPairs(backend, timeoutMs = 0, max = 64) {
  const out = new Uint32Array(2 * max);
  const n = backend.wait(out, max, timeoutMs);
  assert.ok(n >= 0, `wait failed: ${n}`);
  return Array.from({ length: n }, (_, i) => [out[2 * i], out[2 * i + 1]]);
}

for (const name of ['epoll', 'poll', 'select']) {
  describe(`backend ${name}`, () => {
    test('add, modify, remove: 0 or -errno as epoll_ctl gives them', () => {
      const backend = createBackend(name);
      const { a, close } = tcpPair();
      try {
        assert.equal(backend.name, name);
        assert.equal(backend.add(a.fileno(), EPOLLIN), 0);
        assert.equal(backend.add(a.fileno(), EPOLLIN), -EEXIST);
        assert.equal(backend.modify(a.fileno(), EPOLLOUT), 0);
        assert.equal(backend.remove(a.fileno()), 0);
        assert.equal(backend.remove(a.fileno()), -ENOENT);
        assert.equal(backend.modify(a.fileno(), EPOLLIN), -ENOENT);
        const et = backend.add(a.fileno(), (EPOLLIN | EPOLLET) >>> 0);
        if (name === 'epoll') assert.equal(et, 0);
        else assert.equal(et, -EINVAL, `${name} has no edge trigger`);
      } finally {
        close();
        backend.close();
        backend.close();
        assert.equal(backend.closed, true);
      }
    });

    test('reports readable and writable in epoll bits, as the interest says', () => {
      const backend = createBackend(name);
      const { a, b, close } = tcpPair();
      try {
        backend.add(a.fileno(), EPOLLIN);
        backend.add(b.fileno(), EPOLLOUT);
        assert.deepEqual(waitPairs(backend), [[b.fileno(), EPOLLOUT]]);
        b.send('x');
        const pairs = waitPairs(backend, 1000).sort((x, y) => x[0] - y[0]);
        const want = [
          [a.fileno(), EPOLLIN],
          [b.fileno(), EPOLLOUT],
        ].sort((x, y) => x[0] - y[0]);
        assert.deepEqual(pairs, want);
        backend.modify(b.fileno(), 0);
        assert.deepEqual(waitPairs(backend), [[a.fileno(), EPOLLIN]]);
      } finally {
        close();
        backend.close();
      }
    });

    test('an fd watched for nothing: its data is not reported, its reset is (ERR and HUP)', () => {
      const backend = createBackend(name);
      const { a, b, close } = tcpPair();
      const fd = a.fileno();
      try {
        assert.equal(backend.add(fd, 0), 0);
        b.send(Buffer.from('x'));
        assert.deepEqual(waitPairs(backend, 20), [], 'data nobody asked for');
        assert.deepEqual(waitPairs(backend), [], 'nor at the next wait');
        assert.equal(backend.modify(fd, EPOLLIN), 0);
        assert.deepEqual(waitPairs(backend), [[fd, EPOLLIN]], 'asked for, it is there');
        assert.equal(a.recv(16).toString(), 'x');
        // Read, and now waiting for something else (a handler): watched for nothing again.
        assert.equal(backend.modify(fd, 0), 0);
        assert.deepEqual(waitPairs(backend), []);
        // SO_LINGER {on, 0}: close sends RST instead of FIN.
        b.setsockopt(SOL_SOCKET, SO_LINGER, lingerBytes(1, 0));
        b.close();
        assert.deepEqual(waitPairs(backend, 1000), [[fd, EPOLLERR | EPOLLHUP]]);
      } finally {
        close();
        backend.close();
      }
    });

    test('a closed fd that was forgotten is never reported; a full batch leaves the rest for the next wait', () => {
      const backend = createBackend(name);
      const pairs = [tcpPair(), tcpPair(), tcpPair()];
      try {
        for (const p of pairs) {
          backend.add(p.a.fileno(), EPOLLOUT);
        }
        const gone = pairs[0].a.fileno();
        pairs[0].close();
        backend.forget(gone);
        backend.forget(gone);
        const live = pairs.slice(1).map((p) => p.a.fileno());
        assert.deepEqual(
          waitPairs(backend)
            .map(([fd]) => fd)
            .sort(),
          [...live].sort(),
        );
        // Two ready, one per wait: both are reported within two waits (no starvation).
        const first = waitPairs(backend, 0, 1);
        const second = waitPairs(backend, 0, 1);
        assert.equal(first.length, 1);
        assert.equal(second.length, 1);
        assert.deepEqual([first[0][0], second[0][0]].sort(), [...live].sort());
      } finally {
        for (const p of pairs.slice(1)) p.close();
        backend.close();
      }
    });
  });
}

test('poll reports an fd closed without forget() as failed (POLLNVAL), so its owner lets go', () => {
  const backend = createBackend('poll');
  const fd = openSync('/dev/null', 'r');
  backend.add(fd, EPOLLIN);
  closeSync(fd);
  try {
    assert.deepEqual(waitPairs(backend), [[fd, EPOLLERR | EPOLLHUP]]);
  } finally {
    backend.forget(fd);
    backend.close();
  }
});

test('select refuses fds from FD_SETSIZE up (EINVAL) and reports fdLimit; poll and epoll take them', () => {
  assert.equal(FD_SETSIZE, 1024);
  const held = [];
  try {
    // Open fds until one is past FD_SETSIZE (the test runner's limit is well above it).
    let fd = -1;
    while (fd < FD_SETSIZE) {
      fd = openSync('/dev/null', 'r');
      held.push(fd);
    }
    const select = createBackend('select');
    assert.equal(select.fdLimit, FD_SETSIZE);
    assert.equal(select.add(fd, EPOLLIN), -EINVAL);
    assert.equal(select.add(-1, EPOLLIN), -EINVAL);
    assert.equal(select.add(held[0], EPOLLIN), 0, 'a low fd is fine');
    assert.deepEqual(waitPairs(select), [[held[0], EPOLLIN]]);
    select.close();
    const poll = createBackend('poll');
    assert.equal(poll.fdLimit, Infinity);
    assert.equal(poll.add(fd, EPOLLIN), 0);
    assert.deepEqual(waitPairs(poll), [[fd, EPOLLIN]]);
    poll.close();
  } finally {
    for (const fd of held) closeSync(fd);
  }
});
