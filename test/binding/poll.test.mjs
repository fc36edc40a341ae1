/**
 * Poll: CPython's Lib/test/test_poll.py, case by case (each test is named after the case it
 * ports), over real socketpairs (CPython uses pipes) and a Python child writing to a socket.
 * Not ported: test_threaded_poll (JavaScript has no second thread sharing one Poll).
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  Poll,
  EtltNotRegisteredError,
  POLLIN,
  POLLOUT,
  POLLPRI,
  POLLHUP,
  POLLNVAL,
  POLLERR,
  POLLRDHUP,
  ENOENT,
  MSG_OOB,
} from 'etlt';
import { closedFd, helperThread, pair, pythonLines } from '../lib/select.mjs';
import { noFdLeak, tcpPair, throwsArg, throwsSys } from '../lib/util.mjs';

class Nope {}
class Almost {
  fileno() {
    return 'fileno';
  }
}

/** The fds of `ready` whose events include `flag` (CPython's find_ready_matching). */
function findReadyMatching(ready, flag) {
  return ready.filter(([, events]) => events & flag).map(([fd]) => fd);
}

describe('Poll (CPython test_poll)', () => {
  noFdLeak();

  test('test_poll1: twelve pairs written and read one at a time, unregistered as they finish', (t) => {
    const p = new Poll();
    const MSG = Buffer.from(' This is a test.');
    const byFd = new Map();
    const r2w = new Map();
    const writers = [];
    for (let i = 0; i < 12; i++) {
      const [rd, wr] = pair(t);
      p.register(rd, POLLIN);
      p.register(wr.fileno(), POLLOUT);
      byFd.set(rd.fileno(), rd).set(wr.fileno(), wr);
      r2w.set(rd.fileno(), wr.fileno());
      writers.push(wr.fileno());
    }
    const bufs = [];
    while (writers.length > 0) {
      const readyWriters = findReadyMatching(p.poll(), POLLOUT);
      assert.ok(readyWriters.length > 0, 'no sockets ready for writing');
      const wr = readyWriters[Math.floor(Math.random() * readyWriters.length)];
      byFd.get(wr).send(MSG);
      const readyReaders = findReadyMatching(p.poll(), POLLIN);
      assert.ok(readyReaders.length > 0, 'no sockets ready for reading');
      const rd = readyReaders[0];
      assert.equal(r2w.get(rd), wr, 'the reader of the pair written to');
      const buf = byFd.get(rd).recv(MSG.length);
      assert.equal(buf.length, MSG.length);
      bufs.push(buf);
      p.unregister(r2w.get(rd));
      p.unregister(rd);
      writers.splice(writers.indexOf(r2w.get(rd)), 1);
    }
    assert.deepEqual(bufs, Array(12).fill(MSG));
  });

  test('test_poll_unit_tests: POLLNVAL for closed fds, KeyError and TypeError cases', (t) => {
    // returns NVAL for an invalid file descriptor
    const FD = closedFd();
    let p = new Poll();
    p.register(FD);
    assert.deepEqual(p.poll(), [[FD, POLLNVAL]]);

    // a file object, then the same file closed
    const path = join(tmpdir(), `etlt-poll-${process.pid}`);
    const fd = openSync(path, 'w');
    t.after(() => unlinkSync(path));
    p = new Poll();
    p.register({ fileno: () => fd });
    assert.equal(p.poll()[0][0], fd);
    closeSync(fd);
    assert.deepEqual(p.poll(), [[fd, POLLNVAL]]);

    // type error for invalid arguments
    p = new Poll();
    throwsArg(() => p.register(p), TypeError, 'fd');
    throwsArg(() => p.unregister(p), TypeError, 'fd');

    // can't unregister a non-existent object
    p = new Poll();
    assert.throws(
      () => p.unregister(3),
      (err) => err instanceof EtltNotRegisteredError && err.code === 'ERR_ETLT_NOT_REGISTERED',
    );

    // test error cases
    const pollster = new Poll();
    throwsArg(() => pollster.register(new Nope(), 0), TypeError, 'fd');
    throwsArg(() => pollster.register(new Almost(), 0), TypeError, 'fd');
  });

  test('test_poll2: a child writing lines, polled with 0, 1000, 2000, 4000, 8000, 16000 then -1 ms', async (t) => {
    const [rd, wr] = pair(t);
    const exited = pythonLines(t, wr);
    wr.close();
    const pollster = new Poll();
    pollster.register(rd, POLLIN);
    let text = '';
    let eof = false;
    for (const timeout of [0, 1000, 2000, 4000, 8000, 16000, ...Array(20).fill(-1)]) {
      const fdlist = pollster.poll(timeout);
      if (fdlist.length === 0) continue;
      const [[fd, flags]] = fdlist;
      assert.equal(fd, rd.fileno());
      assert.ok(flags & (POLLIN | POLLHUP), `unexpected events ${flags}`);
      const chunk = rd.recv(4096);
      if (chunk.length === 0) {
        assert.ok(flags & POLLHUP || flags & POLLIN);
        eof = true;
        break;
      }
      text += chunk.toString();
    }
    assert.ok(eof, 'EOF after the child exits');
    assert.equal(text, 'testing...\n'.repeat(10));
    assert.equal(await exited, 0);
  });

  test('test_poll3: masks and timeouts that overflow their C types are RangeErrors', () => {
    const pollster = new Poll();
    throwsArg(() => pollster.register(0, 2 ** 64), RangeError, 'eventmask');
    throwsArg(() => pollster.poll(2 ** 64), RangeError, 'timeout');
  });

  test('test_poll_c_limits: USHRT_MAX + 1 for a mask, INT_MAX + 1 and UINT_MAX + 1 for a timeout', (t) => {
    const [rd] = pair(t);
    const pollster = new Poll();
    pollster.register(rd, 0xffff);
    throwsArg(() => pollster.register(0, 0x10000), RangeError, 'eventmask');
    throwsArg(() => pollster.register(0, -1), RangeError, 'eventmask');
    throwsArg(() => pollster.modify(rd, 0x10000), RangeError, 'eventmask');
    throwsArg(() => pollster.poll(2 ** 31), RangeError, 'timeout');
    throwsArg(() => pollster.poll(2 ** 32), RangeError, 'timeout');
    throwsArg(() => pollster.poll('123'), TypeError, 'timeout');
    throwsArg(() => pollster.poll(NaN), RangeError, 'timeout');
  });

  test('test_poll_blocks_with_negative_ms: null, undefined and every negative timeout block', async (t) => {
    const [rd, wr] = pair(t);
    for (const timeoutMs of [null, undefined, -1000, -1, -1.0, -0.1, -1e-100]) {
      const pollster = new Poll();
      pollster.register(rd, POLLIN);
      const helper = await helperThread(t, { ms: 100, fd: wr.fileno(), data: 'spam' });
      const t0 = performance.now();
      helper.go();
      const ready = timeoutMs === undefined ? pollster.poll() : pollster.poll(timeoutMs);
      assert.ok(performance.now() - t0 >= 99, `poll(${timeoutMs}) blocked until the write`);
      assert.deepEqual(ready, [[rd.fileno(), POLLIN]]);
      assert.equal(rd.recv(16).toString(), 'spam');
      await helper.done();
    }
  });

  test('the default mask is POLLIN | POLLPRI | POLLOUT; register again replaces; modify of none is ENOENT', (t) => {
    const [rd, wr] = pair(t);
    const p = new Poll();
    p.register(wr);
    assert.deepEqual(p.poll(0), [[wr.fileno(), POLLOUT]]);
    p.register(wr, POLLIN | POLLPRI);
    assert.deepEqual(p.poll(0), []);
    p.modify(wr, POLLOUT);
    assert.deepEqual(p.poll(0), [[wr.fileno(), POLLOUT]]);
    throwsSys(() => p.modify(rd, POLLIN), 'ENOENT', ENOENT, 'modify');
    // POLLERR and POLLHUP come unasked; POLLRDHUP when asked, once the peer is gone.
    p.register(rd, POLLIN | POLLRDHUP);
    p.unregister(wr);
    wr.close();
    const [[fd, events]] = p.poll(1000);
    assert.equal(fd, rd.fileno());
    assert.equal(events & (POLLIN | POLLRDHUP | POLLHUP), POLLIN | POLLRDHUP | POLLHUP);
    assert.equal(events & POLLERR, 0);
  });

  test('POLLPRI: urgent (out-of-band) TCP data, as select() reports it in xlist', (t) => {
    const { client, server } = tcpPair(t);
    const p = new Poll();
    p.register(server, POLLPRI);
    assert.deepEqual(p.poll(0), []);
    client.send(Buffer.from('!'), MSG_OOB);
    assert.deepEqual(p.poll(1000), [[server.fileno(), POLLPRI]]);
  });

  test('registration order is the order of the results; fractions of a millisecond round up', (t) => {
    const [a, b] = pair(t);
    const [c, d] = pair(t);
    const p = new Poll();
    for (const s of [d, a, c, b]) p.register(s, POLLOUT);
    assert.deepEqual(
      p.poll(0).map(([fd]) => fd),
      [d, a, c, b].map((s) => s.fileno()),
    );
    const q = new Poll();
    q.register(a, POLLIN);
    const t0 = performance.now();
    assert.deepEqual(q.poll(20.2), []);
    assert.ok(performance.now() - t0 >= 20.2, 'waited at least 21 ms');
  });

  test('PEP 475: a signal during poll() is retried with the time left', async (t) => {
    const [rd] = pair(t);
    const onSignal = () => {};
    process.on('SIGUSR2', onSignal);
    t.after(() => process.off('SIGUSR2', onSignal));
    const p = new Poll();
    p.register(rd, POLLIN);
    const helper = await helperThread(t, { ms: 50, signal: 'SIGUSR2' });
    const t0 = performance.now();
    helper.go();
    assert.deepEqual(p.poll(300), []);
    assert.ok(performance.now() - t0 >= 299, 'waited the whole timeout');
    await helper.done();
  });
});
