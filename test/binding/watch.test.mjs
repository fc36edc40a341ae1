/**
 * Epoll.watch: an epoll set driven by Node's own event loop. A tiny HTTP server run only
 * by watch() answers Node's fetch while timers keep ticking; trigger semantics match
 * poll(); and the process lifetime follows watch/unwatch/ref/unref/close.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import {
  Epoll,
  Socket,
  AF_INET,
  SOCK_STREAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
  SO_REUSEADDR,
  EPOLLIN,
  EPOLLOUT,
  EPOLLET,
  EPOLLRDHUP,
  EPOLLHUP,
  EPOLLERR,
  EINVAL,
} from 'etlt';
import { SEED_RESPONSE as RESPONSE } from '../lib/http.mjs';
import { SLOWDOWN, cleanup, drain, noFdLeak, runNode, tcpPair, waitFor } from '../lib/util.mjs';

/** How long to watch for events that must NOT come (a bounded observation window). */
const QUIET_MS = 100;

/**
 * An HTTP/1.0 server driven only by epoll.watch(): a non-blocking listening socket, each
 * connection read until the blank line, answered with RESPONSE and closed. `et` registers
 * everything edge-triggered and drains every fd; otherwise level-triggered.
 */
function startServer(t, { et = false } = {}) {
  const ep = new Epoll();
  const l = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  const conns = new Map();
  const stats = { batches: 0, served: 0, accepted: 0 };
  t.after(() => {
    ep.close();
    for (const c of conns.values()) c.sock.close();
    l.close();
  });
  l.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  l.bind(['127.0.0.1', 0]);
  l.listen(64);
  const trigger = et ? EPOLLET : 0;
  ep.register(l, EPOLLIN | trigger);

  const finish = (fd, c) => {
    ep.unregister(c.sock);
    c.sock.close();
    conns.delete(fd);
  };

  ep.watch((events) => {
    stats.batches++;
    for (const [fd, mask] of events) {
      assert.ok(mask >= 0);
      if (fd === l.fileno()) {
        // Accept until it would block: under ET two clients may share one notification.
        for (;;) {
          let sock;
          try {
            [sock] = l.accept();
          } catch (err) {
            if (err.code === 'EAGAIN') break;
            throw err;
          }
          stats.accepted++;
          sock.setBlocking(false);
          conns.set(sock.fileno(), { sock, request: '' });
          ep.register(sock, EPOLLIN | EPOLLRDHUP | trigger);
        }
        continue;
      }
      const c = conns.get(fd);
      if (c === undefined) continue;
      let eof = false;
      for (;;) {
        let chunk;
        try {
          chunk = c.sock.recv(4096);
        } catch (err) {
          if (err.code === 'EAGAIN') break;
          if (err.code === 'ECONNRESET') {
            eof = true;
            break;
          }
          throw err;
        }
        if (chunk.length === 0) {
          eof = true;
          break;
        }
        c.request += chunk.toString('latin1');
      }
      if (/\r?\n\r?\n/.test(c.request)) {
        c.sock.sendall(RESPONSE);
        stats.served++;
        finish(fd, c);
      } else if (eof || mask & (EPOLLHUP | EPOLLERR)) {
        finish(fd, c);
      }
    }
  });
  return { port: l.getsockname()[1], stats, ep };
}

/** Counts the events watch() delivers per fd. */
function countingWatch(ep, onEvents = () => {}) {
  const counts = new Map();
  ep.watch((events) => {
    for (const [fd] of events) counts.set(fd, (counts.get(fd) ?? 0) + 1);
    onEvents(events);
  });
  return (fd) => counts.get(fd) ?? 0;
}

/**
 * Runs `source` in a child Node process that prints 'watching' once set up; kills it
 * `ms` after that line (or after a deadline). Returns runNode's result.
 */
function runAndKillAfterWatching(source, ms = 500) {
  let timer;
  return runNode(source, {
    timeout: 8000,
    onSpawn(child) {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (timer === undefined && out.includes('watching')) timer = setTimeout(() => child.kill('SIGKILL'), ms);
      });
      child.on('exit', () => clearTimeout(timer));
    },
  });
}

/** A child's set-up: an epoll watching a listening socket that never gets a connection. */
const IDLE_WATCH = `
  import { Epoll, Socket, EPOLLIN } from 'etlt';
  const ep = new Epoll();
  const l = new Socket();
  l.bind(['127.0.0.1', 0]);
  l.listen(1);
  ep.register(l, EPOLLIN);
  let calls = 0;
  process.on('exit', () => console.log('exited ' + calls));
`;

noFdLeak({ warmSpawn: true });

for (const mode of ['level-triggered', 'edge-triggered']) {
  describe(`HTTP server driven by watch() (${mode})`, () => {
    test('answers fetch, several requests in sequence and at once, while timers tick', async (t) => {
      const { port, stats } = startServer(t, { et: mode === 'edge-triggered' });
      let ticks = 0;
      const interval = setInterval(() => ticks++, 1);
      t.after(() => clearInterval(interval));
      const url = `http://127.0.0.1:${port}/`;
      const get = async (path = '') => {
        const res = await fetch(url + path, { signal: AbortSignal.timeout(5000) });
        return [res.status, await res.text(), res.headers.get('content-type')];
      };
      for (let i = 0; i < 3; i++) {
        const before = ticks;
        assert.deepEqual(await get(`seq${i}`), [200, 'Hello, world!', 'text/plain']);
        // Each request takes several loop turns; keep the check lenient but real.
        await waitFor(() => ticks > before, { message: 'the interval to tick' });
      }
      const ticksBefore = ticks;
      const all = await Promise.all(Array.from({ length: 8 }, (_, i) => get(`par${i}`)));
      for (const r of all) assert.deepEqual(r, [200, 'Hello, world!', 'text/plain']);
      await waitFor(() => ticks > ticksBefore, { message: 'the interval to tick' });
      assert.equal(stats.served, 11);
      assert.equal(stats.accepted, 11);
      assert.ok(stats.batches >= 1);
    });
  });
}

describe('watch() delivery', () => {
  test('microtasks and nextTicks run after each batch', async (t) => {
    const ep = cleanup(t, new Epoll());
    const { client, server } = tcpPair(t, { nonBlocking: true });
    // Level-triggered and never drained: the epoll fd stays readable, one batch per loop turn.
    ep.register(server, EPOLLIN);
    client.send('x');
    const log = [];
    let batch = 0;
    ep.watch(() => {
      const k = ++batch;
      log.push(`batch${k}`);
      queueMicrotask(() => log.push(`micro${k}`));
      Promise.resolve().then(() => log.push(`promise${k}`));
      process.nextTick(() => log.push(`tick${k}`));
      if (k === 4) ep.unwatch();
    });
    await waitFor(() => batch >= 4 && log.includes('micro4'), { message: 'four batches' });
    assert.equal(batch, 4, 'unwatch() from the listener stops delivery');
    for (let k = 1; k < 4; k++) {
      const next = log.indexOf(`batch${k + 1}`);
      for (const what of ['micro', 'promise', 'tick']) {
        const at = log.indexOf(`${what}${k}`);
        assert.ok(at > log.indexOf(`batch${k}`) && at < next, `${what}${k} ran before batch${k + 1}: ${log.join(' ')}`);
      }
    }
  });

  test('edge-triggered under watch: one delivery per arrival', async (t) => {
    const ep = cleanup(t, new Epoll());
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const fd = server.fileno();
    ep.register(server, EPOLLIN | EPOLLET);
    const count = countingWatch(ep);
    client.send('a');
    await waitFor(() => count(fd) >= 1, { message: 'the first delivery' });
    await delay(QUIET_MS);
    assert.equal(count(fd), 1, 'undrained ET data is not delivered again');
    client.send('b');
    await waitFor(() => count(fd) >= 2, { message: 'the delivery of new data' });
    await delay(QUIET_MS);
    assert.equal(count(fd), 2);
    assert.equal(drain(server).toString(), 'ab');
  });

  test('level-triggered under watch: delivered again and again until drained', async (t) => {
    const ep = cleanup(t, new Epoll());
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const fd = server.fileno();
    ep.register(server, EPOLLIN);
    let drained = '';
    const count = countingWatch(ep, () => {
      if (count(fd) === 5) drained = drain(server).toString();
    });
    client.send('abc');
    await waitFor(() => count(fd) >= 5, { message: 'five deliveries of the same data' });
    assert.equal(drained, 'abc');
    await delay(QUIET_MS);
    assert.equal(count(fd), 5, 'nothing after the drain');
    client.send('d');
    await waitFor(() => count(fd) >= 6, { message: 'new data' });
  });

  test('watch() validates the listener, and a second watch() replaces the first', async (t) => {
    const ep = cleanup(t, new Epoll());
    assert.throws(
      () => ep.watch(42),
      (err) => err instanceof TypeError && /"listener"/.test(err.message),
    );
    assert.equal(ep.watching, false);
    const { client, server } = tcpPair(t, { nonBlocking: true });
    ep.register(server, EPOLLIN | EPOLLET);
    let first = 0;
    let second = 0;
    ep.watch(() => first++);
    assert.equal(ep.watching, true);
    ep.watch(() => second++);
    assert.equal(ep.watching, true);
    client.send('x');
    await waitFor(() => second === 1, { message: 'the second listener' });
    assert.equal(first, 0);
    ep.unwatch();
    assert.equal(ep.watching, false);
    ep.unwatch();
    client.send('y');
    await delay(QUIET_MS);
    assert.equal(second, 1, 'no delivery after unwatch()');
    // poll() works again on an unwatched epoll.
    assert.deepEqual(ep.poll(1), [[server.fileno(), EPOLLIN]]);
  });

  test('close() while watching stops it', async (t) => {
    // Closed by the test itself; cleanup only matters if an assertion fails first.
    const ep = cleanup(t, new Epoll());
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const fd = server.fileno();
    ep.register(server, EPOLLIN);
    const count = countingWatch(ep);
    client.send('x');
    await waitFor(() => count(fd) >= 3, { message: 'deliveries' });
    ep.close();
    assert.equal(ep.watching, false);
    assert.equal(ep.closed, true);
    const seen = count(fd);
    await delay(QUIET_MS);
    assert.equal(count(fd), seen);
    assert.throws(() => ep.unwatch(), { code: 'ERR_ETLT_CLOSED' });
    assert.throws(() => ep.watch(() => {}), { code: 'ERR_ETLT_CLOSED' });
  });

  test('close() from inside the listener stops it', async (t) => {
    const ep = cleanup(t, new Epoll());
    const { client, server } = tcpPair(t, { nonBlocking: true });
    ep.register(server, EPOLLIN);
    let calls = 0;
    ep.watch(() => {
      calls++;
      ep.close();
    });
    client.send('x');
    await waitFor(() => calls >= 1, { message: 'the delivery' });
    await delay(QUIET_MS);
    assert.equal(calls, 1);
    assert.equal(ep.closed, true);
  });
});

describe('watch() and the process lifetime (child processes)', () => {
  test('unwatch(), unref(), ref(false) and close() let the process exit; watch() and ref() keep it', async () => {
    const exits = {
      unwatch: `${IDLE_WATCH}
        ep.watch(() => calls++);
        setTimeout(() => ep.unwatch(), 20);
        console.log('watching');`,
      unref: `${IDLE_WATCH}
        ep.watch(() => calls++).unref();
        console.log('watching');`,
      refFalse: `${IDLE_WATCH}
        ep.watch(() => calls++);
        ep.ref(false);
        console.log('watching');`,
      unrefBeforeWatch: `${IDLE_WATCH}
        ep.unref();
        ep.watch(() => calls++);
        console.log('watching');`,
      close: `${IDLE_WATCH}
        ep.watch(() => calls++);
        setTimeout(() => ep.close(), 20);
        console.log('watching');`,
      unwatchAfterEvents: `
        import { Epoll, Socket, EPOLLOUT } from 'etlt';
        const ep = new Epoll();
        const s = new Socket();
        ep.register(s, EPOLLOUT); // never connected: reported at once
        let calls = 0;
        process.on('exit', () => console.log('exited ' + calls));
        ep.watch(() => { calls++; ep.unwatch(); });
        console.log('watching');`,
    };
    const stays = {
      watch: `${IDLE_WATCH}
        ep.watch(() => calls++);
        console.log('watching');`,
      refAgain: `${IDLE_WATCH}
        ep.watch(() => calls++).unref().ref();
        console.log('watching');`,
      rewatchKeepsRef: `${IDLE_WATCH}
        ep.watch(() => calls++);
        ep.watch(() => calls++);
        console.log('watching');`,
    };
    const t0 = performance.now();
    const results = await Promise.all([
      ...Object.values(exits).map((src) => runNode(src, { timeout: 5000 })),
      ...Object.values(stays).map((src) => runAndKillAfterWatching(src, 500)),
    ]);
    const names = [...Object.keys(exits), ...Object.keys(stays)];
    const byName = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    for (const name of Object.keys(exits)) {
      const r = byName[name];
      assert.equal(r.timedOut, false, `${name}: should exit by itself`);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, /watching/, name);
      assert.match(r.stdout, /exited/, name);
    }
    assert.match(byName.unwatchAfterEvents.stdout, /exited 1\b/);
    for (const name of Object.keys(stays)) {
      const r = byName[name];
      assert.equal(
        r.signal,
        'SIGKILL',
        `${name}: should still be running 500 ms after watching (code ${r.code}, ${r.stderr})`,
      );
      assert.match(r.stdout, /watching/, name);
      assert.doesNotMatch(r.stdout, /exited/, name);
    }
    assert.ok(performance.now() - t0 < 8000 * SLOWDOWN);
  });

  test('a Worker that ends (or is terminated) with a live watcher: the process exits cleanly', async () => {
    // Only the Worker loads the addon: its teardown must wait for libuv to close the
    // watcher before the addon is unloaded (this once crashed with SIGSEGV).
    const worker = (inWorker, inMain = '') => `
      import { Worker } from 'node:worker_threads';
      const w = new Worker(\`
        const { parentPort } = await import('node:worker_threads');
        const { Epoll, Socket, EPOLLOUT } = await import('etlt');
        const ep = new Epoll();
        const s = new Socket();
        ep.register(s, EPOLLOUT); // reported at once, again and again
        let calls = 0;
        ep.watch(() => { if (++calls === 3) { parentPort.postMessage('live'); ${inWorker}; } });\`, { eval: true, type: 'module' });
      w.on('message', () => { ${inMain}; });
      w.on('exit', (code) => console.log('worker exited ' + code));`;
    const results = await Promise.all([
      runNode(worker('process.exit(0)'), { timeout: 8000 }),
      runNode(worker('ep.unref()'), { timeout: 8000 }),
      runNode(worker('', 'w.terminate()'), { timeout: 8000 }),
    ]);
    for (const r of results) {
      assert.equal(r.timedOut, false, r.stderr);
      assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /worker exited \d/);
    }
  });

  test('the native watcher: a detached events array stops it with one EINVAL naming "watch", no spin', async (t) => {
    // The binding's contract, below Epoll and the Reactor (whose arrays never leave them).
    const { native } = await import('../../dist/src/binding/index.js');
    const ep = new Epoll();
    const s = new Socket();
    ep.register(s, EPOLLOUT); // never connected: reported at once, and again at every poll
    const events = new Uint32Array(8);
    const calls = [];
    const handle = native.watch_start(ep.fileno(), events, 4, (n, failed) => calls.push([n, failed]));
    t.after(() => {
      native.watch_stop(handle);
      ep.close();
      s.close();
    });
    await waitFor(() => calls.length >= 2, { timeout: 2000, message: 'two deliveries' });
    assert.deepEqual(calls[0], [1, undefined]);
    assert.equal(events[0], s.fileno());
    structuredClone(events.buffer, { transfer: [events.buffer] });
    const before = calls.length;
    await delay(200);
    assert.deepEqual(calls.slice(before), [[-EINVAL, 'watch']], 'one error, then silence');
  });

  test('an exception thrown by the listener is an uncaught exception', async () => {
    const setup = `
      import { Epoll, Socket, EPOLLOUT } from 'etlt';
      const ep = new Epoll();
      const s = new Socket();
      ep.register(s, EPOLLOUT); // never connected: reported at once
      setTimeout(() => { console.log('still alive'); process.exit(7); }, 3000).unref();
    `;
    const [uncaught, handled] = await Promise.all([
      runNode(
        `${setup}
        ep.watch(() => { throw new Error('boom from the listener'); });`,
        { timeout: 5000 },
      ),
      runNode(
        `${setup}
        process.on('uncaughtException', (err) => {
          console.log('caught: ' + err.message);
          ep.close();
          s.close();
        });
        ep.watch(() => { throw new Error('boom from the listener'); });`,
        { timeout: 5000 },
      ),
    ]);
    assert.equal(uncaught.timedOut, false);
    assert.equal(uncaught.code, 1, `exit code ${uncaught.code}, stdout ${uncaught.stdout}`);
    assert.match(uncaught.stderr, /Error: boom from the listener/);
    assert.doesNotMatch(uncaught.stdout, /still alive/);
    assert.equal(handled.timedOut, false);
    assert.equal(handled.code, 0, handled.stderr);
    assert.equal(handled.stdout.trim(), 'caught: boom from the listener');
  });
});
