/**
 * Epoll: Python's select.epoll, method by method and error by error, and the trigger
 * modes told apart on real TCP connections over 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import * as etlt from 'etlt';
import {
  Epoll,
  Socket,
  sys,
  EPOLLIN,
  EPOLLOUT,
  EPOLLPRI,
  EPOLLERR,
  EPOLLHUP,
  EPOLLRDHUP,
  EPOLLET,
  EPOLLONESHOT,
  EPOLLEXCLUSIVE,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EEXIST,
  ENOENT,
  EBADF,
  EPERM,
  EINVAL,
  ECONNRESET,
  SOL_SOCKET,
  SO_LINGER,
  SO_ERROR,
  SHUT_WR,
  SHUT_RDWR,
  MSG_OOB,
} from 'etlt';
import {
  cleanup,
  collectEvents,
  drain,
  expectEvents,
  expectNoEvents,
  fdTarget,
  isCloexec,
  lingerBytes,
  listener,
  noFdLeak,
  retryEagain,
  runNode,
  tcpPair,
  throwsArg,
  throwsSys,
} from '../lib/util.mjs';

const NAMES = { EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP };

/** A new Epoll, closed after the test. */
function epoll(t, ...args) {
  return cleanup(t, new Epoll(...args));
}

/** The events polled right now (timeout 0) for fd. */
function eventsNow(ep, fd) {
  return ep
    .poll(0)
    .filter(([f]) => f === fd)
    .map(([, ev]) => ev);
}

noFdLeak({ warmSpawn: true });

describe('constants', () => {
  test('epoll constants have Linux values and are exported from the package root', () => {
    const expected = {
      EPOLLIN: 0x1,
      EPOLLPRI: 0x2,
      EPOLLOUT: 0x4,
      EPOLLERR: 0x8,
      EPOLLHUP: 0x10,
      EPOLLRDNORM: 0x40,
      EPOLLRDBAND: 0x80,
      EPOLLWRNORM: 0x100,
      EPOLLWRBAND: 0x200,
      EPOLLMSG: 0x400,
      EPOLLRDHUP: 0x2000,
      EPOLLEXCLUSIVE: 2 ** 28,
      EPOLLWAKEUP: 2 ** 29,
      EPOLLONESHOT: 2 ** 30,
      EPOLLET: 2 ** 31,
      EPOLL_CLOEXEC: 0o2000000,
      EPOLL_CTL_ADD: 1,
      EPOLL_CTL_DEL: 2,
      EPOLL_CTL_MOD: 3,
    };
    for (const [name, value] of Object.entries(expected)) {
      assert.equal(etlt[name], value, name);
    }
  });

  test('masks are unsigned, and EPOLLIN | EPOLLET is negative in JavaScript', () => {
    assert.ok(EPOLLET > 0);
    assert.ok((EPOLLIN | EPOLLET) < 0);
    assert.equal((EPOLLIN | EPOLLET) >>> 0, 2 ** 31 + 1);
  });
});

describe('Epoll lifecycle', () => {
  test('new Epoll() creates an eventpoll fd with close-on-exec', (t) => {
    const ep = epoll(t);
    const fd = ep.fileno();
    assert.ok(Number.isInteger(fd) && fd >= 0);
    assert.equal(ep.closed, false);
    assert.equal(fdTarget(fd), 'anon_inode:[eventpoll]');
    assert.equal(isCloexec(fd), true);
  });

  test('sizehint and flags: positive hints and EPOLL_CLOEXEC are accepted', (t) => {
    for (const [hint, flags] of [
      [-1, 0],
      [1, 0],
      [1024, EPOLL_CLOEXEC],
      [-1, EPOLL_CLOEXEC],
    ]) {
      const ep = epoll(t, hint, flags);
      assert.equal(fdTarget(ep.fileno()), 'anon_inode:[eventpoll]');
      // Python applies EPOLL_CLOEXEC whatever flags say.
      assert.equal(isCloexec(ep.fileno()), true);
    }
  });

  test('constructor arguments are validated', () => {
    throwsArg(() => new Epoll(0), RangeError, 'sizehint');
    throwsArg(() => new Epoll(-2), RangeError, 'sizehint');
    throwsArg(() => new Epoll(1.5), RangeError, 'sizehint');
    throwsArg(() => new Epoll('8'), TypeError, 'sizehint');
    throwsArg(() => new Epoll(-1, 1), RangeError, 'flags');
    throwsArg(() => new Epoll(-1, -1), RangeError, 'flags');
    throwsArg(() => new Epoll(-1, null), TypeError, 'flags');
  });

  test('close() releases the fd, sets closed, and is safe twice', () => {
    const ep = new Epoll();
    const fd = ep.fileno();
    ep.close();
    assert.equal(ep.closed, true);
    assert.equal(fdTarget(fd), null);
    ep.close();
    assert.equal(ep.closed, true);
  });

  test('[Symbol.dispose]() closes', () => {
    assert.equal(typeof Symbol.dispose, 'symbol');
    const ep = new Epoll();
    const fd = ep.fileno();
    ep[Symbol.dispose]();
    assert.equal(ep.closed, true);
    assert.equal(fdTarget(fd), null);
    ep[Symbol.dispose]();
  });

  test('Epoll.fromFd adopts an epoll fd, uses it and closes it', (t) => {
    const raw = sys.epoll_create1(EPOLL_CLOEXEC);
    assert.ok(raw >= 0);
    const ep = Epoll.fromFd(raw);
    cleanup(t, ep);
    assert.equal(ep.fileno(), raw);
    assert.equal(ep.closed, false);
    const { server } = tcpPair(t);
    ep.register(server, EPOLLOUT);
    assert.deepEqual(ep.poll(1), [[server.fileno(), EPOLLOUT]]);
    ep.close();
    assert.equal(fdTarget(raw), null);
    // A constructor call after fromFd makes a new fd again, not another adoption.
    const other = epoll(t);
    assert.notEqual(other.fileno(), -1);
    assert.equal(fdTarget(other.fileno()), 'anon_inode:[eventpoll]');
  });

  test('Epoll.fromFd validates its argument', () => {
    throwsArg(() => Epoll.fromFd('3'), TypeError, 'fd');
    throwsArg(() => Epoll.fromFd(-1), RangeError, 'fd');
    throwsArg(() => Epoll.fromFd(2.5), RangeError, 'fd');
  });

  test('every use after close() fails with ERR_ETLT_CLOSED', (t) => {
    const { server } = tcpPair(t);
    const ep = new Epoll();
    ep.close();
    const calls = {
      fileno: () => ep.fileno(),
      register: () => ep.register(server, EPOLLIN),
      modify: () => ep.modify(server, EPOLLIN),
      unregister: () => ep.unregister(server),
      poll: () => ep.poll(0),
      pollInto: () => ep.pollInto(new Uint32Array(2), 1, 0),
      watch: () => ep.watch(() => {}),
      unwatch: () => ep.unwatch(),
      ref: () => ep.ref(),
      unref: () => ep.unref(),
    };
    for (const [name, call] of Object.entries(calls)) {
      assert.throws(
        call,
        (err) => {
          assert.equal(err.code, 'ERR_ETLT_CLOSED', name);
          assert.match(err.message, /closed/);
          return true;
        },
        name,
      );
    }
  });
});

describe('register, modify, unregister', () => {
  test('register takes an fd number or an object with fileno()', (t) => {
    const ep = epoll(t);
    const a = tcpPair(t);
    const b = tcpPair(t);
    ep.register(a.server.fileno(), EPOLLOUT);
    ep.register(b.server, EPOLLOUT);
    ep.register({ fileno: () => b.client.fileno() }, EPOLLOUT);
    expectEvents(ep, [
      [a.server.fileno(), EPOLLOUT],
      [b.server.fileno(), EPOLLOUT],
      [b.client.fileno(), EPOLLOUT],
    ]);
  });

  test('the default mask is EPOLLIN | EPOLLPRI | EPOLLOUT', (t) => {
    const ep = epoll(t);
    const { client, server } = tcpPair(t, { nonBlocking: true });
    ep.register(server);
    const fd = server.fileno();
    assert.deepEqual(eventsNow(ep, fd), [EPOLLOUT]);
    client.send('x');
    expectEvents(ep, [[fd, EPOLLIN | EPOLLOUT]], { names: NAMES });
    // Urgent (out-of-band) data is what EPOLLPRI reports on TCP.
    client.send('!', MSG_OOB);
    expectEvents(ep, [[fd, EPOLLIN | EPOLLPRI | EPOLLOUT]], { names: NAMES });
  });

  test('modify replaces the mask', (t) => {
    const ep = epoll(t);
    const { server } = tcpPair(t);
    const fd = server.fileno();
    ep.register(server, EPOLLIN);
    // Writable but not readable: nothing with EPOLLIN only.
    expectNoEvents(ep, fd, { ms: 20 });
    ep.modify(server, EPOLLOUT);
    assert.deepEqual(eventsNow(ep, fd), [EPOLLOUT]);
    ep.modify(fd, EPOLLIN);
    assert.deepEqual(eventsNow(ep, fd), []);
  });

  test('unregister removes the fd from the set', (t) => {
    const ep = epoll(t);
    const a = tcpPair(t);
    const b = tcpPair(t);
    ep.register(a.server, EPOLLOUT);
    ep.register(b.server, EPOLLOUT);
    ep.unregister(a.server);
    ep.unregister(b.server.fileno());
    assert.deepEqual(ep.poll(0), []);
    // And it can be registered again.
    ep.register(a.server, EPOLLOUT);
    assert.deepEqual(ep.poll(0), [[a.server.fileno(), EPOLLOUT]]);
  });

  test('registering twice: EEXIST', (t) => {
    const ep = epoll(t);
    const { server } = tcpPair(t);
    ep.register(server, EPOLLIN);
    throwsSys(() => ep.register(server, EPOLLIN), 'EEXIST', EEXIST, 'epoll_ctl');
    throwsSys(() => ep.register(server.fileno(), EPOLLOUT), 'EEXIST', EEXIST, 'epoll_ctl');
  });

  test('modify or unregister an fd that is not registered: ENOENT', (t) => {
    const ep = epoll(t);
    const { server } = tcpPair(t);
    throwsSys(() => ep.modify(server, EPOLLIN), 'ENOENT', ENOENT, 'epoll_ctl');
    throwsSys(() => ep.unregister(server), 'ENOENT', ENOENT, 'epoll_ctl');
    ep.register(server, EPOLLIN);
    ep.unregister(server);
    throwsSys(() => ep.unregister(server), 'ENOENT', ENOENT, 'epoll_ctl');
  });

  test('a closed or invalid fd: EBADF', () => {
    const ep = new Epoll();
    try {
      const s = new Socket();
      const fd = s.fileno();
      s.close();
      throwsSys(() => ep.register(fd, EPOLLIN), 'EBADF', EBADF, 'epoll_ctl');
      throwsSys(() => ep.modify(fd, EPOLLIN), 'EBADF', EBADF, 'epoll_ctl');
      throwsSys(() => ep.unregister(fd), 'EBADF', EBADF, 'epoll_ctl');
      throwsSys(() => ep.register(2 ** 30, EPOLLIN), 'EBADF', EBADF, 'epoll_ctl');
    } finally {
      ep.close();
    }
  });

  test('a regular file: EPERM', (t) => {
    const ep = epoll(t);
    const path = join(tmpdir(), `etlt-test-${process.pid}-${Date.now()}.txt`);
    const fd = openSync(path, 'w');
    t.after(() => {
      closeSync(fd);
      unlinkSync(path);
    });
    throwsSys(() => ep.register(fd, EPOLLIN), 'EPERM', EPERM, 'epoll_ctl');
  });

  test('an epoll registered into itself: EINVAL', (t) => {
    const ep = epoll(t);
    throwsSys(() => ep.register(ep, EPOLLIN), 'EINVAL', EINVAL, 'epoll_ctl');
  });

  test('wrong types are TypeErrors and wrong values RangeErrors, naming the argument', (t) => {
    const ep = epoll(t);
    const { server } = tcpPair(t);
    for (const method of ['register', 'modify', 'unregister']) {
      const call = (fd) => (method === 'unregister' ? ep.unregister(fd) : ep[method](fd, EPOLLIN));
      throwsArg(() => call('3'), TypeError, 'fd');
      throwsArg(() => call(undefined), TypeError, 'fd');
      throwsArg(() => call(null), TypeError, 'fd');
      throwsArg(() => call({ fileno: () => 'x' }), TypeError, 'fd');
      throwsArg(() => call(-1), RangeError, 'fd');
      throwsArg(() => call(1.5), RangeError, 'fd');
      throwsArg(() => call(2 ** 31), RangeError, 'fd');
    }
    // A closed socket's fileno() is -1, as Python's ValueError for a negative fd.
    const closed = new Socket();
    closed.close();
    throwsArg(() => ep.register(closed, EPOLLIN), RangeError, 'fd');
    for (const method of ['register', 'modify']) {
      throwsArg(() => ep[method](server, '1'), TypeError, 'eventmask');
      throwsArg(() => ep[method](server, 1n), TypeError, 'eventmask');
      throwsArg(() => ep[method](server, 1.5), RangeError, 'eventmask');
      throwsArg(() => ep[method](server, 2 ** 32), RangeError, 'eventmask');
      throwsArg(() => ep[method](server, -(2 ** 31) - 1), RangeError, 'eventmask');
    }
    throwsArg(() => ep.modify(server), TypeError, 'eventmask');
  });
});

describe('poll', () => {
  test('returns [] when nothing is ready, and [fd, events] pairs otherwise', (t) => {
    const ep = epoll(t);
    const { client, server } = tcpPair(t);
    ep.register(server, EPOLLIN);
    assert.deepEqual(ep.poll(0), []);
    client.send('x');
    const seen = expectEvents(ep, [[server.fileno(), EPOLLIN]]);
    for (const ev of seen) {
      assert.ok(Array.isArray(ev) && ev.length === 2);
      assert.equal(ev[0], server.fileno());
      assert.equal(ev[1], EPOLLIN);
    }
  });

  test('poll(0.05) with nothing ready waits about 50 ms and returns []', (t) => {
    const ep = epoll(t);
    const { server } = tcpPair(t);
    ep.register(server, EPOLLIN);
    const t0 = performance.now();
    const out = ep.poll(0.05);
    const elapsed = performance.now() - t0;
    assert.deepEqual(out, []);
    assert.ok(elapsed >= 49, `poll(0.05) returned after ${elapsed.toFixed(2)} ms`);
    assert.ok(elapsed < 1000, `poll(0.05) took ${elapsed.toFixed(2)} ms`);
  });

  test('fractions of a millisecond round up: poll(0.0001) waits ~1 ms, poll(0.0011) ~2 ms', (t) => {
    const ep = epoll(t);
    for (const [timeout, min] of [
      [0.0001, 0.9],
      [0.0011, 1.9],
    ]) {
      const t0 = performance.now();
      assert.deepEqual(ep.poll(timeout), []);
      const elapsed = performance.now() - t0;
      assert.ok(elapsed >= min, `poll(${timeout}) returned after ${elapsed.toFixed(3)} ms`);
      assert.ok(elapsed < 500, `poll(${timeout}) took ${elapsed.toFixed(3)} ms`);
    }
  });

  test('poll(0) does not wait', (t) => {
    const ep = epoll(t);
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) assert.deepEqual(ep.poll(0), []);
    assert.ok(performance.now() - t0 < 100);
  });

  test('a negative, null or omitted timeout waits until an event arrives', async (t) => {
    const ep = epoll(t);
    const l = listener(t, { nonBlocking: true });
    // A peer in another process answers each byte with 'x' 100 ms later, while this thread is blocked in poll.
    const child = runNode(
      `
      import net from 'node:net';
      const s = net.connect(Number(process.argv[1]), '127.0.0.1');
      s.on('data', (d) => { for (const _ of d) setTimeout(() => s.write('x'), 100); });
      s.on('end', () => s.end());
      s.on('error', () => process.exit(2));
      setTimeout(() => process.exit(3), 8000).unref();
    `,
      { args: [String(l.getsockname()[1])] },
    );
    const [server] = await retryEagain(() => l.accept(), { timeout: 5000, message: 'the child to connect' });
    cleanup(t, server);
    ep.register(server, EPOLLIN);
    for (const timeout of [-1, -0.5, null, undefined, 'omitted']) {
      server.send('g');
      const t0 = performance.now();
      const out = timeout === 'omitted' ? ep.poll() : ep.poll(timeout);
      const elapsed = performance.now() - t0;
      assert.deepEqual(out, [[server.fileno(), EPOLLIN]], `poll(${timeout})`);
      assert.ok(elapsed >= 80, `poll(${timeout}) returned after ${elapsed.toFixed(1)} ms, before the peer wrote`);
      assert.equal(server.recv(16).toString(), 'x');
    }
    server.shutdown(SHUT_WR);
    const { code } = await child;
    assert.equal(code, 0);
  });

  test('maxevents bounds the batch; -1 means the default', (t) => {
    const ep = epoll(t);
    const pairs = [tcpPair(t), tcpPair(t), tcpPair(t)];
    for (const p of pairs) ep.register(p.server, EPOLLOUT);
    assert.equal(ep.poll(0, 1).length, 1);
    assert.equal(ep.poll(0, 2).length, 2);
    const all = ep.poll(0, -1);
    assert.deepEqual(all.map(([fd]) => fd).sort(), pairs.map((p) => p.server.fileno()).sort());
    assert.equal(ep.poll(0).length, 3);
    assert.equal(ep.poll(0, 100).length, 3);
  });

  test('timeout and maxevents are validated', (t) => {
    const ep = epoll(t);
    throwsArg(() => ep.poll('1'), TypeError, 'timeout');
    throwsArg(() => ep.poll({}), TypeError, 'timeout');
    throwsArg(() => ep.poll(NaN), RangeError, 'timeout');
    throwsArg(() => ep.poll(1e10), RangeError, 'timeout');
    throwsArg(() => ep.poll(Infinity), RangeError, 'timeout');
    throwsArg(() => ep.poll(0, 0), RangeError, 'maxevents');
    throwsArg(() => ep.poll(0, -2), RangeError, 'maxevents');
    throwsArg(() => ep.poll(0, 1.5), RangeError, 'maxevents');
    throwsArg(() => ep.poll(0, '2'), TypeError, 'maxevents');
  });

  test('pollInto fills a caller-owned Uint32Array and returns the count', (t) => {
    const ep = epoll(t);
    const a = tcpPair(t);
    const b = tcpPair(t);
    ep.register(a.server, EPOLLOUT);
    ep.register(b.server, EPOLLOUT | EPOLLET);
    const out = new Uint32Array(8).fill(0xdead);
    const n = ep.pollInto(out, 4, 0);
    assert.equal(n, 2);
    const got = [
      [out[0], out[1]],
      [out[2], out[3]],
    ].sort((x, y) => x[0] - y[0]);
    assert.deepEqual(
      got,
      [
        [a.server.fileno(), EPOLLOUT],
        [b.server.fileno(), EPOLLOUT],
      ].sort((x, y) => x[0] - y[0]),
    );
    assert.equal(out[4], 0xdead, 'nothing written past the events');
  });
});

describe('trigger modes on TCP over 127.0.0.1', () => {
  test('level-triggered: a readable fd is reported at every poll until drained', (t) => {
    const ep = epoll(t);
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const fd = server.fileno();
    ep.register(server, EPOLLIN);
    client.send('hello');
    expectEvents(ep, [[fd, EPOLLIN]]);
    for (let i = 0; i < 3; i++) assert.deepEqual(eventsNow(ep, fd), [EPOLLIN], `poll #${i}`);
    assert.equal(server.recv(2).toString(), 'he');
    assert.deepEqual(eventsNow(ep, fd), [EPOLLIN], 'still readable after a partial read');
    assert.equal(server.recv(100).toString(), 'llo');
    assert.throws(() => server.recv(100), { code: 'EAGAIN' });
    expectNoEvents(ep, fd, { ms: 30 });
  });

  test('edge-triggered: one report per arrival, again after new data, even when not drained', (t) => {
    const ep = epoll(t);
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const fd = server.fileno();
    ep.register(server, EPOLLIN | EPOLLET);
    client.send('first');
    const seen = expectEvents(ep, [[fd, EPOLLIN]]);
    const more = collectEvents(ep, 50, fd);
    assert.equal(seen.filter(([f]) => f === fd).length + more.length, 1, 'exactly one report for one arrival');
    client.send('second');
    expectEvents(ep, [[fd, EPOLLIN]]);
    expectNoEvents(ep, fd, { ms: 50 });
    assert.equal(drain(server).toString(), 'firstsecond');
    expectNoEvents(ep, fd, { ms: 20 });
  });

  test('writability: LT reports EPOLLOUT at every poll, ET once', (t) => {
    const ep = epoll(t);
    const lt = tcpPair(t);
    const et = tcpPair(t);
    ep.register(lt.server, EPOLLOUT);
    ep.register(et.server, EPOLLOUT | EPOLLET);
    const first = ep.poll(0);
    assert.deepEqual(first.map(([fd]) => fd).sort(), [lt.server.fileno(), et.server.fileno()].sort());
    for (let i = 0; i < 3; i++) assert.deepEqual(ep.poll(0), [[lt.server.fileno(), EPOLLOUT]]);
  });

  test('a negative mask (EPOLLIN | EPOLLET) behaves exactly like the unsigned one: edge-triggered', (t) => {
    const ep = epoll(t);
    const signed = tcpPair(t, { nonBlocking: true });
    const unsigned = tcpPair(t, { nonBlocking: true });
    const mask = EPOLLIN | EPOLLET;
    assert.ok(mask < 0);
    ep.register(signed.server, mask);
    ep.register(unsigned.server, mask >>> 0);
    const fds = [signed.server.fileno(), unsigned.server.fileno()];
    signed.client.send('a');
    unsigned.client.send('a');
    const seen = expectEvents(
      ep,
      fds.map((fd) => [fd, EPOLLIN]),
    );
    const more = collectEvents(ep, 50);
    for (const fd of fds) {
      const count = [...seen, ...more].filter(([f]) => f === fd).length;
      assert.equal(count, 1, `fd ${fd}: one report, undrained (edge-triggered)`);
    }
    for (const [, events] of [...seen, ...more]) {
      assert.ok(events >= 0 && Number.isInteger(events), `returned mask ${events} is non-negative`);
      assert.equal(events, EPOLLIN);
    }
    // modify takes the negative form too, and re-arms like the unsigned one.
    ep.modify(signed.server, mask);
    ep.modify(unsigned.server, mask >>> 0);
    expectEvents(
      ep,
      fds.map((fd) => [fd, EPOLLIN]),
    );
    expectNoEvents(ep, undefined, { ms: 30 });
  });

  test('EPOLLONESHOT: reported once, then disarmed until modify', (t) => {
    const ep = epoll(t);
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const fd = server.fileno();
    ep.register(server, EPOLLIN | EPOLLONESHOT);
    client.send('one');
    expectEvents(ep, [[fd, EPOLLIN]]);
    expectNoEvents(ep, fd, { ms: 30 });
    client.send('two');
    expectNoEvents(ep, fd, { ms: 30 });
    ep.modify(server, EPOLLIN | EPOLLONESHOT);
    expectEvents(ep, [[fd, EPOLLIN]]);
    expectNoEvents(ep, fd, { ms: 30 });
    assert.equal(drain(server).toString(), 'onetwo');
  });

  test('EPOLLRDHUP when the peer shuts down its writing half', (t) => {
    const ep = epoll(t);
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const fd = server.fileno();
    ep.register(server, EPOLLIN | EPOLLRDHUP);
    expectNoEvents(ep, fd, { ms: 10 });
    client.shutdown(SHUT_WR);
    const seen = expectEvents(ep, [[fd, EPOLLIN | EPOLLRDHUP]], { names: NAMES });
    const last = seen.filter(([f]) => f === fd).at(-1)[1];
    assert.equal(last & EPOLLHUP, 0, 'half-closed is not a hang-up');
    assert.equal(server.recv(10).length, 0, 'EOF');
    // The other direction still works.
    server.send('still here');
    client.setBlocking(true);
    assert.equal(client.recv(100).toString(), 'still here');
  });

  test('EPOLLHUP is reported even with an empty mask (both halves shut)', (t) => {
    const ep = epoll(t);
    const { server } = tcpPair(t, { nonBlocking: true });
    const fd = server.fileno();
    ep.register(server, 0);
    expectNoEvents(ep, fd, { ms: 10 });
    server.shutdown(SHUT_RDWR);
    const seen = expectEvents(ep, [[fd, EPOLLHUP]], { names: NAMES });
    for (const [, events] of seen) assert.equal(events & ~(EPOLLHUP | EPOLLERR), 0, 'only HUP/ERR with mask 0');
  });

  test('EPOLLERR | EPOLLHUP after a peer reset, with an empty mask', (t) => {
    const ep = epoll(t);
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const fd = server.fileno();
    ep.register(server, 0);
    expectNoEvents(ep, fd, { ms: 10 });
    // SO_LINGER {on, 0}: close sends RST instead of FIN.
    client.setsockopt(SOL_SOCKET, SO_LINGER, lingerBytes(1, 0));
    client.close();
    expectEvents(ep, [[fd, EPOLLERR | EPOLLHUP]], { names: NAMES });
    assert.equal(server.getsockopt(SOL_SOCKET, SO_ERROR), ECONNRESET);
    assert.equal(server.getsockopt(SOL_SOCKET, SO_ERROR), 0, 'reading SO_ERROR clears it');
    assert.equal(server.recv(10).length, 0);
  });

  test('EPOLLEXCLUSIVE: accepted by register, refused by modify (EINVAL)', (t) => {
    const ep = epoll(t);
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const other = tcpPair(t);
    const fd = server.fileno();
    ep.register(server, EPOLLIN | EPOLLEXCLUSIVE);
    client.send('x');
    const seen = expectEvents(ep, [[fd, EPOLLIN]]);
    for (const [, events] of seen) assert.equal(events & EPOLLEXCLUSIVE, 0, 'EXCLUSIVE is an input flag only');
    throwsSys(() => ep.modify(server, EPOLLIN | EPOLLEXCLUSIVE), 'EINVAL', EINVAL, 'epoll_ctl');
    // A registration made exclusive cannot be modified at all.
    throwsSys(() => ep.modify(server, EPOLLIN), 'EINVAL', EINVAL, 'epoll_ctl');
    ep.register(other.server, EPOLLIN);
    throwsSys(() => ep.modify(other.server, EPOLLIN | EPOLLEXCLUSIVE), 'EINVAL', EINVAL, 'epoll_ctl');
    // Only IN, OUT, ERR, HUP, WAKEUP and ET may come with it.
    throwsSys(() => ep.register(other.client, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT), 'EINVAL', EINVAL, 'epoll_ctl');
    ep.unregister(server);
  });

  test('a batch lists every ready fd once, its mask limited to the interest', (t) => {
    const ep = epoll(t);
    const a = tcpPair(t, { nonBlocking: true });
    const b = tcpPair(t, { nonBlocking: true });
    ep.register(a.server, EPOLLIN);
    ep.register(b.server, EPOLLIN | EPOLLOUT);
    a.client.send('x');
    b.client.send('y');
    expectEvents(ep, [
      [a.server.fileno(), EPOLLIN],
      [b.server.fileno(), EPOLLIN | EPOLLOUT],
    ]);
    const batch = ep.poll(0);
    assert.deepEqual(
      batch.sort((x, y) => x[0] - y[0]),
      [
        [a.server.fileno(), EPOLLIN],
        [b.server.fileno(), EPOLLIN | EPOLLOUT],
      ].sort((x, y) => x[0] - y[0]),
    );
  });
});

describe('sys.epoll_* (no exceptions on the hot path)', () => {
  test('epoll_ctl and epoll_wait return -errno', (t) => {
    const epfd = sys.epoll_create1(EPOLL_CLOEXEC);
    assert.ok(epfd >= 0);
    t.after(() => sys.close(epfd));
    const { client, server } = tcpPair(t, { nonBlocking: true });
    assert.equal(sys.epoll_ctl(epfd, EPOLL_CTL_ADD, server.fileno(), EPOLLIN | EPOLLET), 0);
    assert.equal(sys.epoll_ctl(epfd, EPOLL_CTL_ADD, server.fileno(), EPOLLIN), -EEXIST);
    const out = new Uint32Array(16);
    assert.equal(sys.epoll_wait(epfd, out, 8, 0), 0);
    client.send('x');
    let n = 0;
    const deadline = performance.now() + 2000;
    while (n === 0 && performance.now() < deadline) n = sys.epoll_wait(epfd, out, 8, 50);
    assert.equal(n, 1);
    assert.deepEqual([out[0], out[1]], [server.fileno(), EPOLLIN]);
    // ET with a negative mask: nothing more until new data.
    assert.equal(sys.epoll_wait(epfd, out, 8, 0), 0);
    const closed = sys.epoll_create1(EPOLL_CLOEXEC);
    assert.equal(sys.close(closed), 0);
    assert.equal(sys.epoll_wait(closed, out, 8, 0), -EBADF);
    assert.equal(sys.epoll_ctl(closed, EPOLL_CTL_ADD, server.fileno(), EPOLLIN), -EBADF);
  });

  test('epoll_wait refuses a maxevents the array cannot hold (RangeError, no crash)', (t) => {
    const ep = epoll(t);
    const fd = ep.fileno();
    assert.throws(() => sys.epoll_wait(fd, new Uint32Array(4), 3, 0), RangeError);
    assert.throws(() => sys.epoll_wait(fd, new Uint32Array(4), 0, 0), RangeError);
    assert.throws(() => sys.epoll_wait(fd, new Uint32Array(4), -1, 0), RangeError);
    assert.throws(() => sys.epoll_wait(fd, new Uint8Array(15), 2, 0), RangeError);
    assert.throws(() => sys.epoll_wait(fd, [0, 0], 1, 0), TypeError);
    assert.equal(sys.epoll_wait(fd, new Uint32Array(4), 2, 0), 0);
    assert.equal(sys.epoll_wait(fd, new Uint8Array(16), 2, 0), 0);
  });
});
