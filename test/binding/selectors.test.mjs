/**
 * Selectors: CPython's Lib/test/test_selectors.py, case by case (each test is named after
 * the case it ports), for DefaultSelector, SelectSelector, PollSelector and EpollSelector,
 * over real AF_UNIX socketpairs. Not ported: test_select_interrupt_exc (a JavaScript signal
 * handler runs after the wait returns, so it cannot raise out of it), and the mocks of
 * test_modify_unregister for PollSelector (Poll.modify cannot fail for a registered fd);
 * EpollSelector's is ported with a real failure. The above-FD_SETSIZE case is in
 * selectors-many-fds.test.mjs.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  DefaultSelector,
  EpollSelector,
  PollSelector,
  SelectSelector,
  SelectorKey,
  EVENT_READ,
  EVENT_WRITE,
  EtltNotRegisteredError,
  EtltAlreadyRegisteredError,
  EtltClosedError,
  EtltSystemError,
  EBADF,
  EPERM,
  F_DUPFD_CLOEXEC,
  sys,
} from 'etlt';
import { dupOnto, helperThread, pair } from '../lib/select.mjs';
import { noFdLeak, throwsArg, throwsSys } from '../lib/util.mjs';

const SELECTORS = { DefaultSelector, SelectSelector, PollSelector, EpollSelector };

/** A new selector of class S, closed after the test. */
function selector(t, S) {
  const s = new S();
  t.after(() => s.close());
  return s;
}

const notRegistered = (err) => err instanceof EtltNotRegisteredError && err.code === 'ERR_ETLT_NOT_REGISTERED';
const alreadyRegistered = (err) =>
  err instanceof EtltAlreadyRegisteredError && err.code === 'ERR_ETLT_ALREADY_REGISTERED';
const closed = (err) => err instanceof EtltClosedError && err.code === 'ERR_ETLT_CLOSED';

/** The file objects of the ready keys whose events include `flag`. */
function findReadyMatching(ready, flag) {
  return ready.filter(([, events]) => events & flag).map(([key]) => key.fileobj);
}

assert.equal(DefaultSelector, EpollSelector, 'DefaultSelector is the epoll one on Linux');

for (const [name, S] of Object.entries(SELECTORS)) {
  describe(`${name} (CPython test_selectors)`, () => {
    noFdLeak();

    test('test_register', (t) => {
      const s = selector(t, S);
      const [rd] = pair(t);
      const key = s.register(rd, EVENT_READ, 'data');
      assert.ok(key instanceof SelectorKey);
      assert.equal(key.fileobj, rd);
      assert.equal(key.fd, rd.fileno());
      assert.equal(key.events, EVENT_READ);
      assert.equal(key.data, 'data');
      assert.ok(Object.isFrozen(key));
      // register an unknown event, and no event at all
      throwsArg(() => s.register(0, 999999), RangeError, 'events');
      throwsArg(() => s.register(0, 0), RangeError, 'events');
      throwsArg(() => s.register(0, '1'), TypeError, 'events');
      // register an invalid FD
      throwsArg(() => s.register(-10, EVENT_READ), RangeError, 'fileobj');
      throwsArg(() => s.register({}, EVENT_READ), TypeError, 'fileobj');
      // register twice
      assert.throws(() => s.register(rd, EVENT_READ), alreadyRegistered);
      // register the same FD, but with a different object
      assert.throws(() => s.register(rd.fileno(), EVENT_READ), alreadyRegistered);
      assert.equal(s.getMap().size, 1);
    });

    test('test_unregister', (t) => {
      const s = selector(t, S);
      const [rd] = pair(t);
      const key = s.register(rd, EVENT_READ);
      assert.equal(s.unregister(rd), key);
      // unregister an unknown file obj
      assert.throws(() => s.unregister(999999), notRegistered);
      // unregister twice
      assert.throws(() => s.unregister(rd), notRegistered);
    });

    test('test_unregister_after_fd_close', (t) => {
      const s = selector(t, S);
      const [rd, wr] = pair(t);
      const [r, w] = [rd.fileno(), wr.fileno()];
      s.register(r, EVENT_READ);
      s.register(w, EVENT_WRITE);
      rd.close();
      wr.close();
      s.unregister(r);
      s.unregister(w);
      assert.equal(s.getMap().size, 0);
    });

    test('test_unregister_after_fd_close_and_reuse', (t) => {
      const s = selector(t, S);
      const [rd, wr] = pair(t);
      const [r, w] = [rd.fileno(), wr.fileno()];
      s.register(r, EVENT_READ);
      s.register(w, EVENT_WRITE);
      const [rd2, wr2] = pair(t);
      rd.close();
      wr.close();
      // os.dup2 onto the numbers just freed: the fds now name other sockets.
      dupOnto(rd2.fileno(), r, F_DUPFD_CLOEXEC);
      dupOnto(wr2.fileno(), w, F_DUPFD_CLOEXEC);
      t.after(() => {
        sys.close(r);
        sys.close(w);
      });
      s.unregister(r);
      s.unregister(w);
      assert.equal(s.getMap().size, 0);
    });

    test('register after close and fd reuse: the stale key holds the number until unregistered', (t) => {
      const s = selector(t, S);
      const [rd, wr] = pair(t);
      const fd = rd.fileno();
      const stale = s.register(rd, EVENT_READ);
      const [rd2, wr2] = pair(t);
      rd.close();
      wr.close();
      // The number now names another socket, as when open() or accept() reuses it.
      dupOnto(rd2.fileno(), fd, F_DUPFD_CLOEXEC);
      t.after(() => sys.close(fd));
      const reused = { fileno: () => fd };
      assert.throws(() => s.register(reused, EVENT_READ), alreadyRegistered);
      assert.equal(s.getKey(fd), stale);
      assert.equal(s.unregister(rd), stale);
      const fresh = s.register(reused, EVENT_READ, 'new');
      wr2.send(Buffer.from('x'));
      assert.deepEqual(s.select(1), [[fresh, EVENT_READ]]);
    });

    test('test_unregister_after_socket_close', (t) => {
      const s = selector(t, S);
      const [rd, wr] = pair(t);
      const kr = s.register(rd, EVENT_READ);
      const kw = s.register(wr, EVENT_WRITE);
      rd.close();
      wr.close();
      // fileno() is -1 now: the key is found by the object's identity.
      assert.equal(s.unregister(rd), kr);
      assert.equal(s.unregister(wr), kw);
    });

    test('test_modify', (t) => {
      const s = selector(t, S);
      const [rd] = pair(t);
      let key = s.register(rd, EVENT_READ);
      // modify events
      let key2 = s.modify(rd, EVENT_WRITE);
      assert.notEqual(key.events, key2.events);
      assert.equal(key2, s.getKey(rd));
      s.unregister(rd);
      // modify data
      const d1 = {};
      const d2 = {};
      key = s.register(rd, EVENT_READ, d1);
      key2 = s.modify(rd, EVENT_READ, d2);
      assert.equal(key.events, key2.events);
      assert.notEqual(key.data, key2.data);
      assert.equal(key2, s.getKey(rd));
      assert.equal(key2.data, d2);
      // the same events and data: the same key
      assert.equal(s.modify(rd, EVENT_READ, d2), key2);
      // modify unknown file obj
      assert.throws(() => s.modify(999999, EVENT_READ), notRegistered);
      throwsArg(() => s.modify(rd, 4), RangeError, 'events');
      // modify uses a shortcut: neither register nor unregister runs for new data
      const d3 = {};
      const calls = [];
      s.register = (...args) => calls.push(['register', ...args]);
      s.unregister = (...args) => calls.push(['unregister', ...args]);
      const key3 = s.modify(rd, EVENT_READ, d3);
      assert.deepEqual(calls, []);
      assert.equal(key3.data, d3);
    });

    test('test_close', (t) => {
      const s = selector(t, S);
      const mapping = s.getMap();
      const [rd, wr] = pair(t);
      s.register(rd, EVENT_READ);
      s.register(wr, EVENT_WRITE);
      s.close();
      assert.throws(() => s.getKey(rd), closed);
      assert.throws(() => s.getKey(wr), closed);
      assert.equal(mapping.get(rd), undefined);
      assert.equal(mapping.get(wr), undefined);
      assert.equal(mapping.size, 0);
      assert.equal(s.getMap(), null);
      assert.equal(s.closed, true);
      assert.throws(() => s.register(rd, EVENT_READ), closed);
      assert.throws(() => s.select(0), closed);
      s.close();
    });

    test('test_get_key', (t) => {
      const s = selector(t, S);
      const [rd] = pair(t);
      const key = s.register(rd, EVENT_READ, 'data');
      assert.equal(s.getKey(rd), key);
      assert.equal(s.getKey(rd.fileno()), key);
      // unknown file obj
      assert.throws(() => s.getKey(999999), notRegistered);
    });

    test('test_get_map', (t) => {
      const s = selector(t, S);
      const [rd] = pair(t);
      const keys = s.getMap();
      assert.equal(keys.size, 0);
      assert.deepEqual([...keys.keys()], []);
      assert.equal(keys.get(rd), undefined);
      const key = s.register(rd, EVENT_READ, 'data');
      assert.ok(keys.has(rd));
      assert.ok(keys.has(rd.fileno()));
      assert.equal(keys.get(rd), key);
      assert.equal(keys.size, 1);
      assert.deepEqual([...keys.keys()], [rd.fileno()]);
      assert.deepEqual([...keys.values()], [key]);
      assert.deepEqual([...keys], [[rd.fileno(), key]]);
      // unknown file obj
      assert.equal(keys.get(999999), undefined);
      assert.equal(keys.get('fd'), undefined);
      // read-only mapping
      assert.equal(keys.delete, undefined);
      assert.equal(keys.set, undefined);
      assert.equal(keys.clear, undefined);
    });

    test('test_select', (t) => {
      const s = selector(t, S);
      const [rd, wr] = pair(t);
      s.register(rd, EVENT_READ);
      const wrKey = s.register(wr, EVENT_WRITE);
      const result = s.select();
      for (const [key, events] of result) {
        assert.ok(key instanceof SelectorKey);
        assert.ok(events);
        assert.equal(events & ~(EVENT_READ | EVENT_WRITE), 0);
      }
      assert.deepEqual(result, [[wrKey, EVENT_WRITE]]);
      assert.equal(result[0][0], wrKey);
    });

    test('test_context_manager: [Symbol.dispose] closes', (t) => {
      const s = selector(t, S);
      const [rd, wr] = pair(t);
      s.register(rd, EVENT_READ);
      s.register(wr, EVENT_WRITE);
      s[Symbol.dispose]();
      assert.throws(() => s.getKey(rd), closed);
      assert.throws(() => s.getKey(wr), closed);
    });

    test('test_fileno', (t) => {
      const s = selector(t, S);
      if (typeof s.fileno === 'function') {
        const fd = s.fileno();
        assert.ok(Number.isInteger(fd) && fd >= 0);
      } else {
        assert.notEqual(S, EpollSelector, 'EpollSelector has fileno()');
      }
    });

    test('test_selector: twelve pairs, a random ready writer each round, its reader then ready', (t) => {
      const s = selector(t, S);
      const MSG = Buffer.from(' This is a test.');
      const writers = [];
      const r2w = new Map();
      const w2r = new Map();
      for (let i = 0; i < 12; i++) {
        const [rd, wr] = pair(t);
        s.register(rd, EVENT_READ);
        s.register(wr, EVENT_WRITE);
        writers.push(wr);
        r2w.set(rd, wr);
        w2r.set(wr, rd);
      }
      const bufs = [];
      while (writers.length > 0) {
        const readyWriters = findReadyMatching(s.select(), EVENT_WRITE);
        assert.ok(readyWriters.length > 0, 'no sockets ready for writing');
        const wr = readyWriters[Math.floor(Math.random() * readyWriters.length)];
        wr.send(MSG);
        // A deadline, not a sleep: wait up to 1 s for the reader.
        const readyReaders = findReadyMatching(s.select(1), EVENT_READ);
        assert.deepEqual(readyReaders, [w2r.get(wr)]);
        const rd = readyReaders[0];
        const buf = rd.recv(MSG.length);
        assert.equal(buf.length, MSG.length);
        bufs.push(buf);
        s.unregister(r2w.get(rd));
        s.unregister(rd);
        writers.splice(writers.indexOf(r2w.get(rd)), 1);
      }
      assert.deepEqual(bufs, Array(12).fill(MSG));
    });

    test('test_empty_select', (t) => {
      const s = selector(t, S);
      assert.deepEqual(s.select(0), []);
    });

    test('test_timeout', (t) => {
      const s = selector(t, S);
      const [rd, wr] = pair(t);
      s.register(wr, EVENT_WRITE);
      assert.equal(s.select(0).length, 1);
      assert.equal(s.select(-1).length, 1);
      s.unregister(wr);
      s.register(rd, EVENT_READ);
      assert.deepEqual(s.select(0), []);
      assert.deepEqual(s.select(-1), []);
      const t0 = performance.now();
      assert.deepEqual(s.select(0.2), []);
      assert.ok(performance.now() - t0 >= 199, 'waited at least the timeout');
      throwsArg(() => s.select('1'), TypeError, 'timeout');
      throwsArg(() => s.select(NaN), RangeError, 'timeout');
    });

    test('timeout forms: null and undefined block until an fd is ready', async (t) => {
      const s = selector(t, S);
      const [rd, wr] = pair(t);
      const key = s.register(rd, EVENT_READ);
      for (const timeout of [null, undefined]) {
        const helper = await helperThread(t, { ms: 100, fd: wr.fileno() });
        const t0 = performance.now();
        helper.go();
        const ready = timeout === null ? s.select(null) : s.select();
        assert.ok(performance.now() - t0 >= 99, 'blocked until the write');
        assert.deepEqual(ready, [[key, EVENT_READ]]);
        rd.recv(16);
        await helper.done();
      }
    });

    test('test_select_interrupt_noraise: a signal retries the wait with the time left', async (t) => {
      const s = selector(t, S);
      const [rd] = pair(t);
      const onSignal = () => {};
      process.on('SIGUSR2', onSignal);
      t.after(() => process.off('SIGUSR2', onSignal));
      s.register(rd, EVENT_READ);
      const helper = await helperThread(t, { ms: 50, signal: 'SIGUSR2' });
      const t0 = performance.now();
      helper.go();
      assert.deepEqual(s.select(0.3), []);
      assert.ok(performance.now() - t0 >= 299, 'waited the whole timeout');
      await helper.done();
    });

    test('a hang-up reports both events within the key: READ for a reader, WRITE for a writer', (t) => {
      const s = selector(t, S);
      const [rd, wr] = pair(t);
      const [rd2, wr2] = pair(t);
      const kr = s.register(rd, EVENT_READ);
      const kw = s.register(wr2, EVENT_WRITE);
      wr.close();
      rd2.close();
      const ready = new Map(s.select(1).map(([key, events]) => [key, events]));
      assert.equal(ready.get(kr), EVENT_READ);
      assert.equal(ready.get(kw), EVENT_WRITE);
    });
  });
}

describe('EpollSelector only (CPython EpollSelectorTestCase)', () => {
  noFdLeak();

  test('test_register_file: epoll refuses a regular file with EPERM, and the key is removed', (t) => {
    const s = selector(t, EpollSelector);
    const path = join(tmpdir(), `etlt-selectors-${process.pid}`);
    const fd = openSync(path, 'w');
    t.after(() => {
      closeSync(fd);
      unlinkSync(path);
    });
    const f = { fileno: () => fd };
    throwsSys(() => s.register(f, EVENT_READ), 'EPERM', EPERM, 'epoll_ctl');
    assert.throws(() => s.getKey(f), notRegistered);
  });

  test('test_modify_unregister: a failed modify leaves the file object unregistered (bpo-30014)', (t) => {
    const s = selector(t, EpollSelector);
    const [rd] = pair(t);
    const fd = rd.fileno();
    s.register(fd, EVENT_READ);
    assert.equal(s.getMap().size, 1);
    rd.close();
    assert.throws(
      () => s.modify(fd, EVENT_WRITE),
      (err) => err instanceof EtltSystemError && err.errno === -EBADF,
    );
    assert.equal(s.getMap().size, 0);
  });

  test('an fd closed while registered reports nothing (epoll dropped it), and unregisters quietly', (t) => {
    const s = selector(t, EpollSelector);
    const [rd, wr] = pair(t);
    s.register(rd, EVENT_READ);
    wr.send(Buffer.from('x'));
    rd.close();
    assert.deepEqual(s.select(0), []);
    s.unregister(rd);
  });
});

describe('SelectSelector and PollSelector: a closed fd still registered', () => {
  noFdLeak();

  test('select(2) throws EBADF, as Python does', (t) => {
    const s = selector(t, SelectSelector);
    const [rd] = pair(t);
    const fd = rd.fileno();
    s.register(fd, EVENT_READ);
    rd.close();
    throwsSys(() => s.select(0), 'EBADF', EBADF, 'select');
  });

  test('poll(2) reports POLLNVAL, which the selector reports as ready', (t) => {
    const s = selector(t, PollSelector);
    const [rd] = pair(t);
    const fd = rd.fileno();
    const key = s.register(fd, EVENT_READ);
    rd.close();
    assert.deepEqual(s.select(0), [[key, EVENT_READ]]);
  });
});
