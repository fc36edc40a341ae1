/**
 * `os`: Python's fd functions. The eventfd and timerfd cases port CPython's
 * Lib/test/test_os.py (EventfdTests) and Lib/test/test_os/test_timerfd (TimerfdTests), each
 * named after its case; times are shortened where the case's arithmetic allows, and every
 * timing check is a lower bound the kernel guarantees (a timer never fires early).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { os, select, Poll, DefaultSelector, EVENT_READ, POLLIN, EAGAIN, EBADF, EINVAL } from 'etlt';
import * as osSubpath from 'etlt/os';
import { isCloexec, isNonBlocking, noFdLeak, throwsArg, throwsSys } from '../lib/util.mjs';

const pack = (v) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const readCount = (fd) => Number(os.read(fd, 8).readBigUInt64LE(0));
const closing = (t, ...fds) => t.after(() => fds.forEach((fd) => os.close(fd)));
const near = (a, b, places = 2) => assert.ok(Math.abs(a - b) < 10 ** -places, `${a} is not ${b} to ${places} places`);

describe('os: the module and its subpath', () => {
  test('etlt/os is the os namespace of the root export', () => {
    assert.equal(osSubpath.eventfd, os.eventfd);
    assert.equal(osSubpath.timerfd_settime_ns, os.timerfd_settime_ns);
  });
});

describe('os.eventfd (CPython EventfdTests)', () => {
  noFdLeak();

  test('test_eventfd_initval', (t) => {
    const fd = os.eventfd(42);
    closing(t, fd);
    assert.ok(fd >= 0);
    assert.ok(isCloexec(fd), 'EFD_CLOEXEC is the default flag');
    assert.deepEqual(os.read(fd, 8), pack(42));
    os.write(fd, pack(23));
    assert.deepEqual(os.read(fd, 8), pack(23));
    os.write(fd, pack(40));
    os.write(fd, pack(2));
    assert.deepEqual(os.read(fd, 8), pack(42));
    os.eventfd_write(fd, 20);
    os.eventfd_write(fd, 3);
    assert.equal(os.eventfd_read(fd), 23);
  });

  test('test_eventfd_semaphore', (t) => {
    const fd = os.eventfd(2, os.EFD_CLOEXEC | os.EFD_SEMAPHORE | os.EFD_NONBLOCK);
    closing(t, fd);
    assert.equal(os.eventfd_read(fd), 1);
    assert.equal(os.eventfd_read(fd), 1);
    throwsSys(() => os.eventfd_read(fd), 'EAGAIN', EAGAIN, 'read');
    throwsSys(() => os.read(fd, 8), 'EAGAIN', EAGAIN, 'read');
    os.eventfd_write(fd, 1);
    assert.equal(os.eventfd_read(fd), 1);
    throwsSys(() => os.eventfd_read(fd), 'EAGAIN', EAGAIN, 'read');
  });

  test('test_eventfd_select', (t) => {
    const fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK);
    closing(t, fd);
    assert.deepEqual(select([fd], [fd], [fd], 0), [[], [fd], []]);
    os.eventfd_write(fd, 23);
    assert.deepEqual(select([fd], [fd], [fd], 0), [[fd], [fd], []]);
    assert.equal(os.eventfd_read(fd), 23);
    os.eventfd_write(fd, 2n ** 64n - 2n);
    assert.deepEqual(select([fd], [fd], [fd], 0), [[fd], [], []]);
    assert.equal(os.eventfd_read(fd, { bigint: true }), 2n ** 64n - 2n);
  });

  test('arguments: initval and value ranges, the fd, unknown options', (t) => {
    throwsArg(() => os.eventfd(-1), RangeError, 'initval');
    throwsArg(() => os.eventfd(2 ** 32), RangeError, 'initval');
    throwsArg(() => os.eventfd('1'), TypeError, 'initval');
    const fd = os.eventfd(0, os.EFD_NONBLOCK);
    closing(t, fd);
    throwsArg(() => os.eventfd_write(fd, -1), RangeError, 'value');
    throwsArg(() => os.eventfd_write(fd, 2n ** 64n - 1n), RangeError, 'value');
    throwsArg(() => os.eventfd_write(fd, '1'), TypeError, 'value');
    assert.throws(() => os.eventfd_read(fd, { bigInt: true }), { code: 'ERR_ETLT_UNKNOWN_OPTION' });
    throwsSys(() => os.eventfd_read(-1), 'EBADF', EBADF, 'read');
  });
});

describe('os.timerfd (CPython TimerfdTests)', () => {
  noFdLeak();
  const timerfd = (t, ...args) => {
    const fd = os.timerfd_create(...args);
    closing(t, fd);
    assert.ok(fd >= 0);
    assert.ok(isCloexec(fd), 'non-inheritable, as Python makes it');
    return fd;
  };

  test('test_timerfd_initval', (t) => {
    const fd = timerfd(t, os.CLOCK_REALTIME);
    let [next, interval] = os.timerfd_settime(fd, { initial: 0.25, interval: 0.125 });
    near(interval, 0);
    near(next, 0);
    [next, interval] = os.timerfd_settime(fd, { initial: 0.25, interval: 0.125 });
    near(interval, 0.125);
    near(next, 0.25);
    [next, interval] = os.timerfd_gettime(fd);
    near(interval, 0.125);
    near(next, 0.25);
  });

  test('test_timerfd_non_blocking', async (t) => {
    const fd = timerfd(t, os.CLOCK_REALTIME, { flags: os.TFD_NONBLOCK });
    assert.ok(isNonBlocking(fd));
    os.timerfd_settime(fd, { initial: 0.1, interval: 0 });
    throwsSys(() => readCount(fd), 'EAGAIN', EAGAIN, 'read');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(readCount(fd), 1);
  });

  test('test_timerfd_negative', (t) => {
    const fd = timerfd(t, os.CLOCK_REALTIME);
    const flagsList = [0, os.TFD_TIMER_ABSTIME, os.TFD_TIMER_ABSTIME | os.TFD_TIMER_CANCEL_ON_SET];
    const cases = [
      [-1, 0],
      [1, -1],
      [-1, -1],
      [-0.1, 0],
      [1, -0.1],
      [-0.1, -0.1],
    ];
    for (const [initial, interval] of cases) {
      for (const flags of flagsList) {
        throwsSys(() => os.timerfd_settime(fd, { flags, initial, interval }), 'EINVAL', EINVAL, 'timerfd_settime');
        const ns = (s) => BigInt(Math.trunc(1e9 * s));
        throwsSys(
          () => os.timerfd_settime_ns(fd, { flags, initial: ns(initial), interval: ns(interval) }),
          'EINVAL',
          EINVAL,
          'timerfd_settime',
        );
      }
    }
  });

  test('test_timerfd_interval (0.3 s, then every 0.1 s)', (t) => {
    const fd = timerfd(t, os.CLOCK_REALTIME);
    os.timerfd_settime(fd, { initial: 0.3, interval: 0.1 });
    const [next, interval] = os.timerfd_gettime(fd);
    near(interval, 0.1);
    near(next, 0.3);
    const start = performance.now();
    for (let i = 0; i < 3; i++) assert.equal(readCount(fd), 1);
    assert.ok(performance.now() - start > 500 - 10);
    // Python's time.sleep: block the thread (no CPU spent) while the timer counts.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 350);
    assert.equal(readCount(fd), 3);
  });

  test('test_timerfd_TFD_TIMER_ABSTIME (0.3 s ahead)', (t) => {
    const fd = timerfd(t, os.CLOCK_REALTIME);
    const now = Date.now() / 1000;
    os.timerfd_settime(fd, { flags: os.TFD_TIMER_ABSTIME, initial: now + 0.3, interval: 0 });
    const [next, interval] = os.timerfd_gettime(fd);
    near(interval, 0);
    near(next, 0.3, 1);
    const start = performance.now();
    assert.equal(readCount(fd), 1);
    assert.ok(performance.now() - start > 300 - 20);
  });

  test('test_timerfd_select', (t) => {
    const fd = timerfd(t, os.CLOCK_REALTIME, { flags: os.TFD_NONBLOCK });
    assert.deepEqual(select([fd], [fd], [fd], 0), [[], [], []]);
    os.timerfd_settime(fd, { initial: 0.1, interval: 0.05 });
    const start = performance.now();
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(select([fd], [fd], [fd], 0.15 + 5), [[fd], [], []]);
      assert.equal(readCount(fd), 1);
    }
    assert.ok(performance.now() - start > 200 - 10);
  });

  for (const nanoseconds of [false, true]) {
    test(`test_timerfd${nanoseconds ? '_ns' : ''}_poll (a DefaultSelector)`, (t) => {
      const fd = timerfd(t, os.CLOCK_REALTIME, { flags: os.TFD_NONBLOCK });
      const selector = new DefaultSelector();
      t.after(() => selector.close());
      selector.register(fd, EVENT_READ);
      if (nanoseconds) os.timerfd_settime_ns(fd, { initial: 100_000_000n, interval: 50_000_000n });
      else os.timerfd_settime(fd, { initial: 0.1, interval: 0.05 });
      for (let i = 0; i < 3; i++) {
        const ready = selector.select(5);
        assert.equal(ready.length, 1);
        assert.equal(ready[0][1], EVENT_READ);
        assert.equal(ready[0][0].fileobj, fd);
        assert.equal(readCount(fd), 1);
      }
      selector.unregister(fd);
    });
  }

  test('test_timerfd_ns_initval', (t) => {
    const fd = timerfd(t, os.CLOCK_REALTIME);
    let [next, interval] = os.timerfd_settime_ns(fd, { initial: 0, interval: 1_000_000 });
    assert.equal(interval, 0n);
    assert.equal(next, 0n);
    [next, interval] = os.timerfd_settime_ns(fd, { initial: 0, interval: 1_000_000 });
    assert.equal(interval, 1_000_000n);
    assert.equal(next, 0n);
    [next, interval] = os.timerfd_gettime_ns(fd);
    assert.equal(interval, 1_000_000n);
    assert.equal(next, 0n);
  });

  test('test_timerfd_ns_TFD_TIMER_ABSTIME: an absolute time beyond 2**53 ns, exactly', (t) => {
    const fd = timerfd(t, os.CLOCK_REALTIME);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    assert.ok(nowNs > 2n ** 53n);
    os.timerfd_settime_ns(fd, { flags: os.TFD_TIMER_ABSTIME, initial: nowNs + 200_000_000n, interval: 0n });
    const [next, interval] = os.timerfd_gettime_ns(fd);
    assert.equal(interval, 0n);
    assert.ok(next > 150_000_000n && next <= 200_000_000n + 2_000_000n, `next ${next}`);
    assert.equal(readCount(fd), 1);
  });

  test('arguments: options are keyword-only and checked by name', (t) => {
    const fd = timerfd(t, os.CLOCK_MONOTONIC);
    throwsArg(() => os.timerfd_settime(fd, { initial: 'soon' }), TypeError, 'initial');
    throwsArg(() => os.timerfd_settime(fd, { interval: NaN }), RangeError, 'interval');
    throwsArg(() => os.timerfd_settime(fd, { initial: Infinity }), RangeError, 'initial');
    throwsArg(() => os.timerfd_settime(fd, { initial: 1e300 }), RangeError, 'initial');
    throwsArg(() => os.timerfd_settime_ns(fd, { interval: 2n ** 100n }), RangeError, 'interval');
    throwsArg(() => os.timerfd_settime_ns(fd, { initial: 1.5 }), RangeError, 'initial');
    throwsArg(() => os.timerfd_create('CLOCK_MONOTONIC'), TypeError, 'clockid');
    assert.throws(() => os.timerfd_settime(fd, { inital: 1 }), { code: 'ERR_ETLT_UNKNOWN_OPTION' });
    throwsSys(() => os.timerfd_create(-12345), 'EINVAL', EINVAL, 'timerfd_create');
    throwsSys(() => os.timerfd_gettime(-1), 'EBADF', EBADF, 'timerfd_gettime');
  });
});

describe('os: pipe, read, write, close, blocking', () => {
  noFdLeak();

  test('pipe(): non-inheritable, blocking, a byte stream', (t) => {
    const [r, w] = os.pipe();
    closing(t, r, w);
    assert.ok(isCloexec(r) && isCloexec(w));
    assert.equal(os.get_blocking(r), true);
    assert.equal(os.write(w, 'hello'), 5);
    assert.equal(os.read(r, 100).toString(), 'hello');
    os.set_blocking(r, false);
    assert.equal(os.get_blocking(r), false);
    throwsSys(() => os.read(r, 1), 'EAGAIN', EAGAIN, 'read');
    os.set_blocking(r, true);
    assert.ok(!isNonBlocking(r));
  });

  test('pipe2(O_NONBLOCK): both ends non-blocking; read of a closed writer gives b""', (t) => {
    const [r, w] = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC);
    closing(t, r);
    assert.ok(isNonBlocking(r) && isNonBlocking(w));
    os.close(w);
    assert.equal(os.read(r, 10).length, 0);
    throwsSys(() => os.write(w, 'x'), 'EBADF', EBADF, 'write');
    throwsSys(() => os.close(w), 'EBADF', EBADF, 'close');
  });

  test('arguments: n and data, by name', (t) => {
    const [r, w] = os.pipe();
    closing(t, r, w);
    throwsArg(() => os.read(r, -1), RangeError, 'n');
    throwsArg(() => os.write(w, 5), TypeError, 'data');
    throwsArg(() => os.set_blocking(r, 'no'), TypeError, 'blocking');
    throwsArg(() => os.pipe2('0'), TypeError, 'flags');
    throwsArg(() => os.read('3', 1), TypeError, 'fd');
  });
});

describe('os fds in every polling mechanism: an eventfd, a timerfd and a pipe in one set', () => {
  noFdLeak();

  const trio = (t) => {
    const efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC);
    const tfd = os.timerfd_create(os.CLOCK_MONOTONIC, { flags: os.TFD_NONBLOCK });
    const [r, w] = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC);
    closing(t, efd, tfd, r, w);
    return { efd, tfd, r, w };
  };
  const fire = ({ efd, tfd, w }) => {
    os.eventfd_write(efd, 7);
    os.timerfd_settime_ns(tfd, { initial: 1_000_000n });
    os.write(w, 'ping');
  };

  test('Epoll.poll sees each, with its own fd', async (t) => {
    const { Epoll, EPOLLIN } = await import('etlt');
    const fds = trio(t);
    const ep = new Epoll();
    t.after(() => ep.close());
    for (const fd of [fds.efd, fds.tfd, fds.r]) ep.register(fd, EPOLLIN);
    assert.deepEqual(ep.poll(0), []);
    fire(fds);
    const seen = new Set();
    const deadline = performance.now() + 2000;
    while (seen.size < 3 && performance.now() < deadline) for (const [fd] of ep.poll(0.1)) seen.add(fd);
    assert.deepEqual([...seen].sort(), [fds.efd, fds.tfd, fds.r].sort());
    assert.equal(os.eventfd_read(fds.efd), 7);
    assert.equal(readCount(fds.tfd), 1);
    assert.equal(os.read(fds.r, 10).toString(), 'ping');
    assert.deepEqual(ep.poll(0), []);
  });

  test('Epoll.watch on Node loop, Poll and select see the same three', async (t) => {
    const { Epoll, EPOLLIN } = await import('etlt');
    const fds = trio(t);
    const ep = new Epoll();
    t.after(() => ep.close());
    for (const fd of [fds.efd, fds.tfd, fds.r]) ep.register(fd, EPOLLIN);
    const seen = new Set();
    const all = new Promise((resolve) =>
      ep.watch((events) => {
        for (const [fd] of events) seen.add(fd);
        if (seen.size === 3) resolve();
      }),
    );
    fire(fds);
    await all;
    ep.unwatch();
    const p = new Poll();
    for (const fd of [fds.efd, fds.tfd, fds.r]) p.register(fd, POLLIN);
    assert.deepEqual(
      p
        .poll(0)
        .map(([fd]) => fd)
        .sort(),
      [fds.efd, fds.tfd, fds.r].sort(),
    );
    assert.deepEqual(select([fds.efd, fds.tfd, fds.r], [], [], 0)[0].sort(), [fds.efd, fds.tfd, fds.r].sort());
  });
});
