/**
 * The thin select(2) and poll(2) wrappers of `sys`: caller-owned buffers rewritten in
 * place, -errno instead of exceptions, and the buffer checks that keep the kernel inside.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  sys,
  Socket,
  AF_INET,
  SOCK_STREAM,
  POLLIN,
  POLLOUT,
  POLLPRI,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  POLLRDNORM,
  POLLRDBAND,
  POLLWRNORM,
  POLLWRBAND,
  POLLMSG,
  POLLRDHUP,
  FD_SETSIZE,
  POLLFD_SIZE,
  FD_MASK_SIZE,
  EBADF,
  EINVAL,
} from 'etlt';
import { noFdLeak, tcpPair, throwsArg } from '../lib/util.mjs';

/** A pollfd array of n entries, with views for its fields. */
function pollfds(n) {
  const ab = new ArrayBuffer(n * POLLFD_SIZE);
  const fd = new Int32Array(ab);
  const ev = new Int16Array(ab);
  return {
    buf: new Uint8Array(ab),
    set(i, fdNum, events) {
      fd[2 * i] = fdNum;
      ev[4 * i + 2] = events;
      ev[4 * i + 3] = 0;
    },
    revents: (i) => ev[4 * i + 3] & 0xffff,
  };
}

describe('sys.poll and sys.select', () => {
  noFdLeak();

  test('the POLL* constants have Linux values, and the struct sizes are the kernel ABI', () => {
    assert.deepEqual(
      { POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLMSG },
      {
        POLLIN: 1,
        POLLPRI: 2,
        POLLOUT: 4,
        POLLERR: 8,
        POLLHUP: 16,
        POLLNVAL: 32,
        POLLRDNORM: 64,
        POLLRDBAND: 128,
        POLLWRNORM: 256,
        POLLWRBAND: 512,
        POLLMSG: 1024,
      },
    );
    assert.equal(POLLRDHUP, 0x2000);
    assert.equal(FD_SETSIZE, 1024);
    assert.equal(POLLFD_SIZE, 8);
    assert.equal(FD_MASK_SIZE, 8);
  });

  test('poll rewrites revents in place: writable at once, readable once data arrives', (t) => {
    const { client, server } = tcpPair(t);
    const p = pollfds(2);
    p.set(0, server.fileno(), POLLIN);
    p.set(1, client.fileno(), POLLOUT);
    assert.equal(sys.poll(p.buf, 2, 0), 1);
    assert.equal(p.revents(0), 0);
    assert.equal(p.revents(1), POLLOUT);
    client.send(Buffer.from('x'));
    assert.equal(sys.poll(p.buf, 2, 1000), 2);
    assert.equal(p.revents(0), POLLIN);
    // A negative fd is skipped: the kernel clears its revents and does not count it.
    p.set(1, -1, POLLOUT);
    assert.equal(sys.poll(p.buf, 2, 0), 1);
    assert.equal(p.revents(1), 0);
  });

  test('poll reports POLLNVAL for a closed fd and returns -errno, never throws, for EINVAL', () => {
    const p = pollfds(1);
    p.set(0, 1000000, POLLIN);
    assert.equal(sys.poll(p.buf, 1, 0), 1);
    assert.equal(p.revents(0), POLLNVAL);
    // nfds above RLIMIT_NOFILE: the kernel's EINVAL comes back as a value.
    const big = pollfds(100000);
    assert.equal(sys.poll(big.buf, 100000, 0), -EINVAL);
  });

  test('poll with nfds 0 and no array sleeps for the timeout', () => {
    const t0 = performance.now();
    assert.equal(sys.poll(null, 0, 20), 0);
    assert.ok(performance.now() - t0 >= 19);
  });

  test('poll refuses an array shorter than nfds entries, and wrong types, naming the argument', () => {
    throwsArg(() => sys.poll(new Uint8Array(15), 2, 0), RangeError, 'fds');
    throwsArg(() => sys.poll(null, 1, 0), TypeError, 'fds');
    throwsArg(() => sys.poll([1, 2], 1, 0), TypeError, 'fds');
    throwsArg(() => sys.poll(new Uint8Array(8), -1, 0), RangeError, 'nfds');
    throwsArg(() => sys.poll(new Uint8Array(8), 1, 'x'), TypeError, 'timeout');
  });

  test('select rewrites the fd sets to the ready fds, with FD_SET and FD_ISSET', (t) => {
    const { client, server } = tcpPair(t);
    const a = server.fileno();
    const b = client.fileno();
    const nfds = Math.max(a, b) + 1;
    const r = Buffer.alloc(sys.fd_set_bytes(nfds));
    const w = Buffer.alloc(sys.fd_set_bytes(nfds));
    const arm = () => {
      sys.FD_ZERO(r);
      sys.FD_ZERO(w);
      sys.FD_SET(a, r);
      sys.FD_SET(b, w);
    };
    arm();
    assert.equal(sys.select(nfds, r, w, null, 0), 1);
    assert.equal(sys.FD_ISSET(a, r), false);
    assert.equal(sys.FD_ISSET(b, w), true);
    client.send(Buffer.from('x'));
    arm();
    assert.equal(sys.select(nfds, r, w, null, 1_000_000), 2);
    assert.equal(sys.FD_ISSET(a, r), true);
    sys.FD_CLR(a, r);
    assert.equal(sys.FD_ISSET(a, r), false);
  });

  test('select returns -EBADF for a closed fd in a set, and times out with 0', () => {
    // A fd number inside the process's fd table: the kernel ignores bits past its end.
    const s = new Socket(AF_INET, SOCK_STREAM);
    const closed = s.fileno();
    s.close();
    const r = Buffer.alloc(sys.fd_set_bytes(closed + 1));
    sys.FD_SET(closed, r);
    assert.equal(sys.select(closed + 1, r, null, null, 0), -EBADF);
    const t0 = performance.now();
    assert.equal(sys.select(0, null, null, null, 20_000), 0);
    assert.ok(performance.now() - t0 >= 19);
  });

  test('select refuses a set shorter than nfds bits in whole words, naming it', () => {
    throwsArg(() => sys.select(65, Buffer.alloc(8), null, null, 0), RangeError, 'readfds');
    throwsArg(() => sys.select(64, null, Buffer.alloc(7), null, 0), RangeError, 'writefds');
    throwsArg(() => sys.select(1, null, null, {}, 0), TypeError, 'exceptfds');
    throwsArg(() => sys.select(1, null, null, null, -2), RangeError, 'timeoutUs');
    throwsArg(() => sys.select(1, null, null, null, 0.5), RangeError, 'timeoutUs');
    assert.equal(sys.fd_set_bytes(1), 8);
    assert.equal(sys.fd_set_bytes(64), 8);
    assert.equal(sys.fd_set_bytes(65), 16);
    assert.equal(sys.fd_set_bytes(FD_SETSIZE), 128);
  });
});
