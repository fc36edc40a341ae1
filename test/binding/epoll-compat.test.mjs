/**
 * etlt/epoll-compat against the contract of the npm `epoll` package (its README and
 * source): the constructor, add/modify/remove/close returning the object, the static
 * constants, one (null, fd, events) call per ready fd, level and edge triggering, one-shot,
 * `closed`, calls after close, an fd removed in the middle of a batch, the process kept
 * alive while an fd is registered; and that package's own examples, run with eventfds and
 * pipes in place of GPIO lines.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';

import { Epoll } from 'etlt/epoll-compat';
import { os, EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLET, EPOLLONESHOT, EPOLLRDHUP, EPOLLERR, EPOLLHUP } from 'etlt';
import { ROOT, noFdLeak, runNode, throwsArg, waitFor } from '../lib/util.mjs';

const efd = (t) => {
  const fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC);
  t.after(() => os.close(fd));
  return fd;
};
const tick = () => new Promise((r) => setImmediate(r));
const ticks = async (n) => {
  for (let i = 0; i < n; i++) await tick();
};

describe('etlt/epoll-compat: the npm epoll contract', () => {
  noFdLeak();

  test('the static constants are Linux values, as the package defines them', () => {
    assert.deepEqual(
      [
        Epoll.EPOLLIN,
        Epoll.EPOLLOUT,
        Epoll.EPOLLRDHUP,
        Epoll.EPOLLPRI,
        Epoll.EPOLLERR,
        Epoll.EPOLLHUP,
        Epoll.EPOLLET,
        Epoll.EPOLLONESHOT,
      ],
      [EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLET, EPOLLONESHOT],
    );
    assert.equal(Epoll.EPOLLPRI, 2);
  });

  test('the constructor needs a callback', () => {
    throwsArg(() => new Epoll(), TypeError, 'callback');
    throwsArg(() => new Epoll('cb'), TypeError, 'callback');
  });

  test('add returns the object; the callback gets (null, fd, events) per ready fd', async (t) => {
    const fd = efd(t);
    const calls = [];
    const poller = new Epoll((...args) => {
      calls.push(args);
      os.eventfd_read(fd);
    });
    t.after(() => poller.closed || poller.close());
    assert.equal(poller.add(fd, Epoll.EPOLLIN), poller);
    os.eventfd_write(fd, 1);
    await waitFor(() => calls.length === 1);
    assert.deepEqual(calls[0], [null, fd, Epoll.EPOLLIN]);
    await ticks(5);
    assert.equal(calls.length, 1, 'read cleared it: no second call');
  });

  test('level-triggered by default: an event not cleared comes again', async (t) => {
    const fd = efd(t);
    let count = 0;
    const poller = new Epoll(() => count++);
    t.after(() => poller.close());
    poller.add(fd, Epoll.EPOLLIN);
    os.eventfd_write(fd, 1);
    await waitFor(() => count >= 3);
  });

  test('EPOLLET (also in its negative, ARM form) reports an edge once; EPOLLONESHOT until modify re-arms', async (t) => {
    const et = efd(t);
    const one = efd(t);
    const seen = [];
    const poller = new Epoll((err, fd) => seen.push(fd));
    t.after(() => poller.close());
    poller.add(et, Epoll.EPOLLIN | -0x80000000).add(one, Epoll.EPOLLIN | Epoll.EPOLLONESHOT);
    os.eventfd_write(et, 1);
    os.eventfd_write(one, 1);
    await waitFor(() => seen.includes(et) && seen.includes(one));
    await ticks(5);
    assert.equal(seen.filter((fd) => fd === et).length, 1);
    assert.equal(seen.filter((fd) => fd === one).length, 1);
    assert.equal(poller.modify(one, Epoll.EPOLLIN | Epoll.EPOLLONESHOT), poller);
    await waitFor(() => seen.filter((fd) => fd === one).length === 2);
  });

  test('remove(fd).close() chains; closed; every call after close throws, a second close too', (t) => {
    const fd = efd(t);
    const poller = new Epoll(() => {});
    assert.equal(poller.closed, false);
    poller.add(fd, Epoll.EPOLLIN);
    assert.equal(poller.remove(fd).close(), poller);
    assert.equal(poller.closed, true);
    for (const call of [
      () => poller.add(fd, 1),
      () => poller.modify(fd, 1),
      () => poller.remove(fd),
      () => poller.close(),
    ]) {
      assert.throws(call, { code: 'ERR_ETLT_CLOSED' });
    }
  });

  test('with no fd registered it holds no epoll fd; the next add makes one', async (t) => {
    const { readdirSync } = await import('node:fs');
    const count = () => readdirSync('/proc/self/fd').length;
    const fd = efd(t);
    await ticks(5); // earlier tests' watchers finish closing first
    const before = count();
    let calls = 0;
    const poller = new Epoll(() => {
      calls++;
      os.eventfd_read(fd);
    });
    t.after(() => poller.close());
    poller.add(fd, Epoll.EPOLLIN);
    assert.ok(count() > before, "an epoll fd (and libuv's duplicate) while registered");
    poller.remove(fd);
    await waitFor(() => count() <= before, { message: 'the epoll fds closed' });
    poller.add(fd, Epoll.EPOLLIN);
    assert.ok(count() > before);
    os.eventfd_write(fd, 1);
    await waitFor(() => calls === 1, { message: 'the event through the new set' });
  });

  test('failed syscalls throw Node-style errors: add twice (EEXIST), remove unknown (ENOENT), a bad fd (EBADF)', (t) => {
    const fd = efd(t);
    const poller = new Epoll(() => {});
    t.after(() => poller.close());
    poller.add(fd, Epoll.EPOLLIN);
    assert.throws(() => poller.add(fd, Epoll.EPOLLIN), { code: 'EEXIST', syscall: 'epoll_ctl' });
    assert.throws(() => poller.remove(fd + 1000), { code: 'EBADF', syscall: 'epoll_ctl' });
    poller.remove(fd);
    assert.throws(() => poller.remove(fd), { code: 'ENOENT', syscall: 'epoll_ctl' });
    throwsArg(() => poller.add(-1, 1), RangeError, 'fd');
    throwsArg(() => poller.add(fd, 'in'), TypeError, 'events');
  });

  test('an fd removed by the callback earlier in the same batch gets no call (the package drops it)', async (t) => {
    const a = efd(t);
    const b = efd(t);
    const seen = [];
    const poller = new Epoll((err, fd) => {
      seen.push(fd);
      os.eventfd_read(fd);
      poller.remove(fd === a ? b : a);
    });
    t.after(() => poller.close());
    poller.add(a, Epoll.EPOLLIN).add(b, Epoll.EPOLLIN);
    os.eventfd_write(a, 1);
    os.eventfd_write(b, 1);
    await waitFor(() => seen.length >= 1);
    await ticks(5);
    assert.equal(seen.length, 1, `one call only, got ${seen}`);
  });

  test('the callback is not called after close, even for an event already queued', async (t) => {
    const a = efd(t);
    const b = efd(t);
    let calls = 0;
    const poller = new Epoll(() => {
      calls++;
      poller.close();
    });
    poller.add(a, Epoll.EPOLLIN).add(b, Epoll.EPOLLIN);
    os.eventfd_write(a, 1);
    os.eventfd_write(b, 1);
    await waitFor(() => calls >= 1);
    await ticks(5);
    assert.equal(calls, 1);
  });

  test('a registered fd keeps the process alive; with none left it exits (child processes)', async () => {
    const script = (remove) => `
      import { Epoll } from 'etlt/epoll-compat';
      import { os } from 'etlt';
      const fd = os.eventfd(0);
      const p = new Epoll(() => {});
      p.add(fd, Epoll.EPOLLIN);
      ${remove ? 'setTimeout(() => p.remove(fd), 50);' : 'setTimeout(() => { console.log("alive"); process.exit(0); }, 300);'}
    `;
    const exited = await runNode(script(true), { timeout: 5000 });
    assert.equal(exited.code, 0);
    const kept = await runNode(script(false), { timeout: 5000 });
    assert.equal(kept.stdout.trim(), 'alive', 'still running 300 ms later');
  });
});

describe("the epoll package's own examples, with the import changed", () => {
  noFdLeak();

  test('watch-button: a pipe stands for the GPIO value file, EPOLLIN for EPOLLPRI', async (t) => {
    const [r, w] = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC);
    t.after(() => [r, w].forEach((fd) => os.close(fd)));
    const presses = [];
    const poller = new Epoll((err, fd) => {
      const value = os.read(fd, 1).toString();
      presses.push(value === '1' ? 'pressed' : 'released');
    });
    poller.add(r, Epoll.EPOLLIN);
    os.write(w, '1');
    await waitFor(() => presses.length === 1);
    os.write(w, '0');
    await waitFor(() => presses.length === 2);
    poller.remove(r).close();
    assert.deepEqual(presses, ['pressed', 'released']);
  });

  test('interrupts-per-second: two eventfds toggle each other (bench/epoll-compat-pingpong.mjs)', async () => {
    const stdout = await new Promise((resolve, reject) =>
      execFile(
        process.execPath,
        ['bench/epoll-compat-pingpong.mjs', '0.3'],
        { cwd: ROOT, timeout: 10_000 },
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
    const result = JSON.parse(stdout.trim().split('\n').pop());
    assert.equal(result.module, 'etlt/epoll-compat');
    // A true figure: positive, and no more events than the round trips that fit in the time.
    assert.ok(result.events > 0);
    assert.ok(result.perSecond > 0 && result.perSecond < 10_000_000, `${result.perSecond}/s`);
  });
});

describe('the GPIO character device (no hardware here: the request path and the record size)', () => {
  test('sys.gpio_v2_get_line: ENOTTY on an fd that is not a chip, EBADF on none; events are 48 bytes', async () => {
    const { sys, GPIO_V2_LINE_FLAG_INPUT, GPIO_V2_LINE_FLAG_EDGE_RISING, GPIO_V2_LINE_EVENT_SIZE, ENOTTY, EBADF } =
      await import('etlt');
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync('/dev/null', 'r');
    try {
      const flags = GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING;
      assert.equal(sys.gpio_v2_get_line(fd, new Uint32Array([4]), 'etlt', flags), -ENOTTY);
      assert.equal(sys.gpio_v2_get_line(0x7ffffff0, new Uint32Array([4]), 'etlt', flags), -EBADF);
      assert.throws(() => sys.gpio_v2_get_line(fd, new Uint32Array(0), 'etlt', flags), RangeError);
      assert.throws(() => sys.gpio_v2_get_line(fd, new Uint32Array(65), 'etlt', flags), RangeError);
      assert.throws(() => sys.gpio_v2_get_line(fd, new Uint32Array([4]), 42, flags), TypeError);
    } finally {
      closeSync(fd);
    }
    assert.equal(GPIO_V2_LINE_EVENT_SIZE, 48);
  });
});
