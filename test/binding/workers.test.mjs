/**
 * Worker threads: the addon is context-aware and each environment keeps its own state. An
 * Epoll with watch(), the selectors, os fds, the epoll-compat Epoll and an HttpServer run
 * inside a Worker; two Workers run their own sets at once; and a Worker's end (terminate(),
 * or an exit that closed nothing) closes every fd it opened, counted in /proc/self/fd.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { ROOT, waitFor } from '../lib/util.mjs';

const fdCount = () => readdirSync('/proc/self/fd').length;

/** A Worker running `body` (an async function's body, ESM, with `post` and `etlt` in scope). */
function worker(body) {
  // An eval'd Worker is CommonJS: etlt (ESM) comes in through import(), resolved from ROOT.
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const post = (m) => parentPort.postMessage(m);
    (async () => {
      const etlt = await import(${JSON.stringify(`${ROOT}/dist/src/index.js`)});
      ${body.replace("import('etlt/epoll-compat')", `import(${JSON.stringify(`${ROOT}/dist/src/epoll-compat.js`)})`)}
    })().catch((err) => post({ error: String(err?.stack ?? err) }));
  `;
  return new Worker(source, { eval: true, workerData: 'a worker' });
}

/** The next message of `w` that is not a progress note; an `error` message fails the test. */
async function message(w) {
  const [m] = await once(w, 'message');
  if (m?.error) assert.fail(m.error);
  return m;
}

/*
 * Everything a Worker can hold: a watched Epoll over an eventfd and a timerfd, a selector
 * over a socketpair, a pipe, an epoll-compat Epoll, and an HttpServer with a keep-alive
 * client connected to it.
 */
const EVERYTHING = `
  const { Epoll, EPOLLIN, DefaultSelector, EVENT_READ, socketpair, os, HttpServer } = etlt;
  const { Epoll: CompatEpoll } = await import('etlt/epoll-compat');
  const efd = os.eventfd(0, os.EFD_NONBLOCK);
  const tfd = os.timerfd_create(os.CLOCK_MONOTONIC, { flags: os.TFD_NONBLOCK });
  const ep = new Epoll();
  ep.register(efd, EPOLLIN);
  ep.register(tfd, EPOLLIN);
  const seen = new Set();
  const both = new Promise((resolve) => ep.watch((events) => {
    for (const [fd] of events) { seen.add(fd); fd === efd ? os.eventfd_read(fd) : os.read(fd, 8); }
    if (seen.size === 2) resolve();
  }));
  os.eventfd_write(efd, 1);
  os.timerfd_settime(tfd, { initial: 0.01 });
  await both;
  const [a, b] = socketpair();
  const sel = new DefaultSelector();
  sel.register(a, EVENT_READ, 'a');
  b.send('x');
  const ready = sel.select(5);
  const [r, w] = os.pipe();
  let compatCalls = 0;
  const compat = new CompatEpoll(() => compatCalls++);
  compat.add(r, CompatEpoll.EPOLLIN);
  os.write(w, 'y');
  await new Promise((resolve) => { const t = setInterval(() => compatCalls > 0 && (clearInterval(t), resolve()), 1); });
  const server = new HttpServer({ host: '127.0.0.1', port: 0, handler: () => ({ body: 'from ' + workerData }) });
  server.listen();
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address();
  const res = await fetch('http://127.0.0.1:' + port + '/', { keepalive: true });
  const text = await res.text();
  post({ port, text, selected: ready.map(([key]) => key.data), watched: seen.size, compatCalls });
`;

describe('worker threads', () => {
  test('Epoll.watch, the selectors, os fds, epoll-compat and an HttpServer inside a Worker', async (t) => {
    const w = worker(EVERYTHING);
    t.after(() => w.terminate());
    const m = await message(w);
    assert.deepEqual(
      { text: m.text, selected: m.selected, watched: m.watched, compat: m.compatCalls > 0 },
      { text: 'from a worker', selected: ['a'], watched: 2, compat: true },
    );
    const res = await fetch(`http://127.0.0.1:${m.port}/`);
    assert.equal(await res.text(), 'from a worker', 'the main thread reaches the Worker server too');
  });

  test('two Workers at once, each with its own epoll set and server, ping-ponging eventfds meanwhile', async (t) => {
    const body = `
      const { Epoll, EPOLLIN, os, HttpServer } = etlt;
      const server = new HttpServer({ host: '127.0.0.1', port: 0, handler: () => ({ body: workerName }) });
      server.listen();
      const a = os.eventfd(0, os.EFD_NONBLOCK), b = os.eventfd(0, os.EFD_NONBLOCK);
      const ep = new Epoll();
      ep.register(a, EPOLLIN); ep.register(b, EPOLLIN);
      let rounds = 0;
      const done = new Promise((resolve) => ep.watch((events) => {
        for (const [fd] of events) {
          os.eventfd_read(fd);
          if (++rounds === 20000) return resolve();
          os.eventfd_write(fd === a ? b : a, 1);
        }
      }));
      os.eventfd_write(a, 1);
      post({ port: server.address().port });
      await done;
      post({ rounds });
    `;
    const names = ['one', 'two'];
    const ws = names.map((name) => worker(`const workerName = '${name}';` + body));
    t.after(() => Promise.all(ws.map((w) => w.terminate())));
    const ports = (await Promise.all(ws.map(message))).map((m) => m.port);
    const answers = await Promise.all(ports.map((port) => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())));
    assert.deepEqual(answers, names);
    const rounds = (await Promise.all(ws.map(message))).map((m) => m.rounds);
    assert.deepEqual(rounds, [20000, 20000]);
  });

  test('terminate() closes every fd the Worker opened (none left in /proc/self/fd)', async () => {
    const w0 = worker('post({ up: true });');
    await message(w0);
    await w0.terminate();
    // The baseline after one Worker came and went: Node's own per-Worker fds are settled.
    const before = fdCount();
    for (let i = 0; i < 3; i++) {
      const w = worker(EVERYTHING);
      const m = await message(w);
      assert.equal(m.watched, 2);
      assert.ok(fdCount() > before + 8, `the Worker holds fds (${fdCount()} against ${before})`);
      await w.terminate();
      await waitFor(() => fdCount() <= before, {
        timeout: 5000,
        message: `fd count back to ${before} (now ${fdCount()})`,
      });
    }
  });

  test('a Worker that exits without closing anything leaves no fd either', async () => {
    const before = fdCount();
    const w = worker(EVERYTHING + 'setImmediate(() => process.exit(0));');
    const m = await message(w);
    assert.equal(m.watched, 2);
    const [code] = await once(w, 'exit');
    assert.equal(code, 0);
    await waitFor(() => fdCount() <= before, {
      timeout: 5000,
      message: `fd count back to ${before} (now ${fdCount()})`,
    });
  });
});
