/**
 * io_uring through shared memory: the raw syscalls (-errno, never a throw, for the kernel's
 * answer), the rings mapped as ArrayBuffers, SQEs written and CQEs read in place with one
 * io_uring_enter per batch, a provided buffer ring recycled under a multishot recv, a
 * multishot accept, and the ring watched on Node's own loop (timers go on; unref lets the
 * process end).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';

import {
  Ring,
  Socket,
  sys,
  AF_INET,
  SOCK_STREAM,
  SOCK_NONBLOCK,
  SOCK_CLOEXEC,
  EBADF,
  EFAULT,
  EINVAL,
  ENOBUFS,
  EOPNOTSUPP,
  IORING_OP_NOP,
  IORING_OP_ACCEPT,
  IORING_OP_RECV,
  IORING_OP_SEND,
  IORING_ACCEPT_MULTISHOT,
  IORING_RECV_MULTISHOT,
  IORING_CQE_F_BUFFER,
  IORING_CQE_F_MORE,
  IORING_CQE_BUFFER_SHIFT,
  IOSQE_BUFFER_SELECT,
  IORING_ENTER_GETEVENTS,
  MSG_NOSIGNAL,
  PROT_READ,
  MAP_SHARED,
  IO_URING_PARAMS_SIZE,
  IO_URING_SQE_SIZE,
  IO_URING_CQE_SIZE,
} from 'etlt';
import { noFdLeak, runNode, waitFor } from '../lib/util.mjs';

/** Every completion reaped now, as [udLow, udHigh, res, flags]. */
function reapAll(ring) {
  const got = [];
  ring.reap((lo, hi, res, flags) => got.push([lo, hi, res, flags]));
  return got;
}

function nop(ring, ud) {
  const w = ring.sqe();
  assert.ok(w >= 0, 'a free SQE');
  ring.prep(w, IORING_OP_NOP, -1, 0, 0, ud, 77);
}

describe('io_uring: the raw syscalls', () => {
  noFdLeak();

  test('the kernel structs are the sizes the ring code writes', () => {
    assert.equal(IO_URING_PARAMS_SIZE, 120);
    assert.equal(IO_URING_SQE_SIZE, 64);
    assert.equal(IO_URING_CQE_SIZE, 16);
  });

  test('a failed syscall is -errno, a wrong argument a TypeError or RangeError naming it', () => {
    assert.equal(sys.io_uring_enter(-1, 0, 0, 0), -EBADF);
    assert.equal(sys.io_uring_register(999_999, 4 /* IORING_REGISTER_EVENTFD */, new Int32Array([0]), 1), -EBADF);
    // Entries 0: EINVAL from the kernel, as a value.
    assert.equal(sys.io_uring_setup(0, new Uint8Array(120)), -EINVAL);
    // A socket is no ring.
    const sock = new Socket(AF_INET, SOCK_STREAM);
    try {
      assert.equal(sys.io_uring_enter(sock.fileno(), 1, 0, 0), -EOPNOTSUPP);
      assert.equal(sys.mmap(4096, PROT_READ, MAP_SHARED, 999_999, 0), -EBADF);
    } finally {
      sock.close();
    }
    assert.throws(() => sys.io_uring_setup(8, new Uint8Array(64)), { name: 'RangeError', message: /"params"/ });
    assert.throws(() => sys.io_uring_setup(8, {}), { name: 'TypeError', message: /"params"/ });
    assert.throws(() => sys.io_uring_enter('3', 0, 0, 0), { name: 'TypeError', message: /"fd"/ });
    assert.throws(() => sys.io_uring_register(3, 0, 'x', 0), { name: 'TypeError', message: /"arg"/ });
    assert.throws(() => sys.address_of(5), { name: 'TypeError', message: /"view"/ });
  });

  test('mmap gives an ArrayBuffer over the mapping, or -errno', () => {
    const ab = sys.mmap(8192, 3 /* PROT_READ | PROT_WRITE */, 0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0);
    assert.ok(ab instanceof ArrayBuffer);
    assert.equal(ab.byteLength, 8192);
    const a = sys.address_of(new Uint8Array(ab));
    assert.equal(a % 4096, 0, 'page-aligned');
    assert.equal(sys.address_of(new Uint8Array(ab, 100)), a + 100);
    new Uint8Array(ab).fill(7);
    assert.equal(new Uint8Array(ab)[8191], 7);
    assert.equal(sys.mmap(4096, 3, 0x22, -1, 1), -EINVAL, 'an offset not page-aligned');
  });
});

describe('io_uring: the Ring', () => {
  noFdLeak();

  test('a batch of SQEs costs one io_uring_enter; every CQE is read in place, in order, with its user_data', () => {
    const ring = new Ring({ entries: 16 });
    try {
      for (let i = 0; i < 10; i++) nop(ring, 1000 + i);
      assert.equal(ring.pending, 10);
      assert.equal(ring.submit(), 10);
      assert.equal(ring.enters, 1);
      const got = reapAll(ring);
      assert.deepEqual(
        got.map(([lo, hi, res]) => [lo, hi, res]),
        Array.from({ length: 10 }, (_, i) => [1000 + i, 77, 0]),
      );
      assert.equal(ring.completions, 10);
      assert.equal(reapAll(ring).length, 0, 'nothing reaped twice');
      assert.equal(ring.submit(), 0, 'nothing to submit');
      assert.equal(ring.enters, 1, 'and no syscall for it');
    } finally {
      ring.close();
      ring.close();
    }
    assert.equal(ring.closed, true);
  });

  test('a full SQ says so (-1) instead of overwriting an SQE not yet consumed', () => {
    const ring = new Ring({ entries: 4 });
    try {
      for (let i = 0; i < 4; i++) nop(ring, i);
      assert.equal(ring.space(), 0);
      assert.equal(ring.sqe(), -1);
      assert.equal(ring.submit(), 4);
      assert.equal(ring.space(), 4);
      assert.equal(reapAll(ring).length, 4);
    } finally {
      ring.close();
    }
  });

  test('DEFER_TASKRUN: a completion is posted only when the loop enters with GETEVENTS', async () => {
    const ring = new Ring({ entries: 8, taskRun: 'defer' });
    const [a, b] = await socketPairTcp();
    try {
      const w = ring.sqe();
      const buf = Buffer.alloc(64);
      ring.prep(w, IORING_OP_RECV, a.fileno(), sys.address_of(buf), buf.length, 5, 2);
      ring.submit();
      b.write('ping');
      await waitFor(() => ring.ready(), { message: 'task work waiting for this thread (IORING_SQ_TASKRUN)' });
      assert.equal(reapAll(ring).length, 0, 'not posted before the thread enters');
      assert.equal(sys.io_uring_enter(ring.fd, 0, 0, IORING_ENTER_GETEVENTS) >= 0, true);
      const got = reapAll(ring);
      assert.deepEqual(
        got.map(([lo, , res]) => [lo, res]),
        [[5, 4]],
      );
      assert.equal(buf.toString('latin1', 0, 4), 'ping');
    } finally {
      ring.close();
      a.close();
      b.destroy();
    }
  });
});

/** A connected TCP pair over loopback: our Socket (blocking) and a Node socket. */
async function socketPairTcp() {
  const l = new Socket(AF_INET, SOCK_STREAM);
  l.bind(['127.0.0.1', 0]);
  l.listen(1);
  const c = connect(l.getsockname()[1], '127.0.0.1');
  await new Promise((r) => c.on('connect', r));
  const [fd] = l.accept();
  l.close();
  return [fd, c];
}

describe('io_uring: accept, recv and send through the ring, on Node loop', () => {
  noFdLeak();

  test('multishot accept and multishot recv into a provided buffer ring, buffers recycled; a send answers', async () => {
    const ring = new Ring({ entries: 32 });
    const l = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    l.bind(['127.0.0.1', 0]);
    l.listen(16);
    // Four buffers of 64 bytes for many more messages: only recycling keeps the recv going.
    const br = ring.bufferRing(3, 4, 64);
    const accepted = [];
    const received = [];
    let ended = 0;
    let nobufs = 0;
    const answer = Buffer.from('pong');
    const timerTicks = [];
    const tick = setInterval(() => timerTicks.push(1), 5);
    const arm = (fd) => {
      const w = ring.sqe();
      ring.prep(w, IORING_OP_RECV, fd, 0, 0, fd, 2);
      ring.setIoprio(w, IORING_RECV_MULTISHOT);
      ring.setFlags(w, IOSQE_BUFFER_SELECT);
      ring.setBufGroup(w, 3);
    };
    const w = ring.sqe();
    ring.prep(w, IORING_OP_ACCEPT, l.fileno(), 0, 0, 0, 1);
    ring.setIoprio(w, IORING_ACCEPT_MULTISHOT);
    ring.setOpFlags(w, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ring.submit();
    assert.equal(
      ring.watch(() => {
        ring.reap((lo, hi, res, flags) => {
          if (hi === 1) {
            assert.ok(res >= 0 && (flags & IORING_CQE_F_MORE) !== 0, `accept ${res} stays armed`);
            accepted.push(res);
            arm(res);
          } else if (hi === 2 && res > 0) {
            assert.ok(flags & IORING_CQE_F_BUFFER);
            const bid = flags >>> IORING_CQE_BUFFER_SHIFT;
            received.push(br.bytes.toString('latin1', bid * 64, bid * 64 + res));
            br.add(bid);
            if ((flags & IORING_CQE_F_MORE) === 0) arm(lo);
            const s = ring.sqe();
            ring.prep(s, IORING_OP_SEND, lo, sys.address_of(answer), answer.length, lo, 3);
            ring.setOpFlags(s, MSG_NOSIGNAL);
          } else if (hi === 2 && res === -ENOBUFS) {
            nobufs++;
            arm(lo);
          } else if (hi === 2 && res === 0) ended++;
        });
        br.publish();
        ring.submit();
      }),
      0,
    );
    assert.equal(ring.watchedVia, 'ring');
    const c = connect(l.getsockname()[1], '127.0.0.1');
    let replies = '';
    c.on('data', (d) => (replies += d));
    await new Promise((r) => c.on('connect', r));
    for (let i = 0; i < 12; i++) {
      c.write(`message ${i};`);
      await waitFor(() => replies.length >= 4 * (i + 1), { message: `the answer to message ${i}` });
    }
    c.end();
    await waitFor(() => ended === 1, { message: "the client's EOF as a recv of 0" });
    clearInterval(tick);
    assert.equal(accepted.length, 1);
    assert.equal(received.join(''), Array.from({ length: 12 }, (_, i) => `message ${i};`).join(''));
    assert.equal(nobufs, 0, 'four buffers were enough: each went back before the next message');
    assert.ok(timerTicks.length > 0, "Node's timers ran meanwhile");
    for (const fd of accepted) sys.close(fd);
    ring.close();
    l.close();
    c.destroy();
  });

  test('a watched ring keeps the process alive; unref lets it end; an idle ring wakes nobody', async () => {
    const r = await runNode(
      `import { Ring, IORING_OP_NOP } from 'etlt';
       const ring = new Ring({ entries: 8 });
       let wakes = 0;
       ring.watch(() => { wakes++; ring.reap(() => {}); });
       const t0 = process.cpuUsage();
       setTimeout(() => {
         const w = ring.sqe(); ring.prep(w, IORING_OP_NOP, -1, 0, 0, 1, 1); ring.submit();
         setTimeout(() => {
           const u = process.cpuUsage(t0);
           console.log(JSON.stringify({ wakes, cpuMs: (u.user + u.system) / 1000 }));
           ring.ref(false);
         }, 300);
       }, 300);`,
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    // The NOP completes inline: its completion is reaped by the one wake it causes.
    assert.equal(out.wakes, 1, `wakes ${out.wakes}`);
    assert.ok(out.cpuMs < 200, `an idle ring sleeps (${out.cpuMs} ms of CPU in 600 ms)`);
  });

  test('EFAULT for a bad buffer address comes back as a completion, not a crash', () => {
    const ring = new Ring({ entries: 4 });
    const s = new Socket(AF_INET, SOCK_STREAM);
    try {
      const w = ring.sqe();
      ring.prep(w, IORING_OP_SEND, s.fileno(), 16, 4, 9, 9);
      ring.submit();
      const got = reapAll(ring);
      assert.equal(got.length, 1);
      assert.ok([-EFAULT, -32 /* EPIPE */, -107 /* ENOTCONN */].includes(got[0][2]), `res ${got[0][2]}`);
    } finally {
      ring.close();
      s.close();
    }
  });
});
