/**
 * The lab's load generator on persistent connections, against small servers that behave
 * in one way each: keeping connections, closing after every response (as the seed does),
 * answering part of a pipelined batch and going silent, closing without an answer. It
 * must count what happened: completed, reconnects, stalled, errors, idle connections held.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';

import { runLoadHolding } from '../../dist/src/lab/loadgen.js';
import { seeded } from '../../dist/src/lab/persistent.js';
import { waitFor } from '../lib/util.mjs';

const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!';
const CLOSING = 'HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, world!';

/**
 * A server on 127.0.0.1 that calls `answer(sock, state)` for each complete request head
 * (state: this connection's request count so far); closed after the test with every
 * connection. Counts connections and requests.
 */
async function server(t, answer) {
  const stats = { connections: 0, requests: 0, open: 0 };
  const socks = new Set();
  const srv = createServer((sock) => {
    stats.connections++;
    stats.open++;
    socks.add(sock);
    const state = { n: 0 };
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      for (let end; (end = buf.indexOf('\r\n\r\n')) >= 0;) {
        buf = buf.slice(end + 4);
        stats.requests++;
        answer(sock, state.n++);
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      stats.open--;
      socks.delete(sock);
    });
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of socks) s.destroy();
    return new Promise((resolve) => srv.close(resolve));
  });
  return { port: srv.address().port, stats };
}

function load(port, over) {
  return {
    host: '127.0.0.1',
    port,
    concurrency: 2,
    requests: 40,
    seconds: 10,
    pieces: 1,
    pieceDelayMs: 0,
    padHeader: 0,
    slowReadMs: 0,
    timeoutMs: 2000,
    persistent: true,
    depth: 1,
    ...over,
  };
}

async function run(cfg) {
  let busy = 0;
  const { result, held } = await runLoadHolding(
    cfg,
    () => {},
    () => busy++,
  );
  assert.equal(busy, 1, 'told once that the measured load began');
  return { result, held };
}

test('keep-alive: one connection per client, every request answered on it', { timeout: 20_000 }, async (t) => {
  const { port, stats } = await server(t, (sock) => sock.write(RESPONSE));
  const { result } = await run(load(port, { concurrency: 3, requests: 90 }));
  assert.equal(result.attempted, 90);
  assert.equal(result.completed, 90);
  assert.equal(result.latenciesMs.length, 90);
  assert.deepEqual([result.stalled, result.errors, result.reconnects, result.connections], [0, 0, 0, 3]);
  assert.equal(stats.connections, 3);
  assert.equal(stats.requests, 90);
  assert.match(String(result.seconds), /^\d/);
});

test(
  'a server that closes after every response (the seed): reconnected to, each reconnect counted',
  { timeout: 20_000 },
  async (t) => {
    const { port, stats } = await server(t, (sock, n) => {
      if (n === 0) sock.end(CLOSING);
    });
    for (const depth of [1, 4]) {
      const before = stats.connections;
      const { result } = await run(load(port, { concurrency: 2, requests: 40, depth }));
      assert.equal(result.completed, 40, `depth ${depth}: all answered`);
      assert.deepEqual([result.stalled, result.errors], [0, 0], `depth ${depth}: nothing lost`);
      assert.equal(result.connections, 40, `depth ${depth}: a connection per request`);
      assert.equal(
        result.reconnects,
        40 - 2,
        `depth ${depth}: every connection after each client's first is a reconnect`,
      );
      assert.equal(stats.connections - before, 40);
    }
  },
);

test(
  'a pipelined batch answered in part, then silence: the rest stalls, the next batch goes on a new connection',
  { timeout: 20_000 },
  async (t) => {
    // Answers the first two requests of each connection and nothing after (et-no-drain's way).
    const { port, stats } = await server(t, (sock, n) => {
      if (n < 2) sock.write(RESPONSE);
    });
    const { result } = await run(load(port, { concurrency: 1, requests: 16, depth: 8, timeoutMs: 200 }));
    assert.equal(result.attempted, 16);
    assert.equal(result.completed, 4);
    assert.equal(result.stalled, 12);
    assert.equal(result.errors, 0);
    assert.equal(result.reconnects, 0, 'a stall is not the server closing');
    assert.equal(result.connections, 2);
    assert.equal(stats.connections, 2);
  },
);

test(
  'a server that closes a fresh connection without answering: errors, no endless retry',
  { timeout: 20_000 },
  async (t) => {
    const { port } = await server(t, (sock) => sock.destroy());
    const { result } = await run(load(port, { concurrency: 2, requests: 10, depth: 1 }));
    assert.equal(result.attempted, 10);
    assert.equal(result.completed, 0);
    assert.equal(result.errors, 10);
    assert.equal(result.connections, 10);
  },
);

test(
  'idle connections: opened and answered once, held open after the result, their requests not counted',
  { timeout: 20_000 },
  async (t) => {
    const { port, stats } = await server(t, (sock) => sock.write(RESPONSE));
    const { result, held } = await run(load(port, { concurrency: 2, requests: 20, idleConnections: 50 }));
    try {
      assert.deepEqual(result.idle, { opened: 50, held: 50, closedByServer: 0, failed: 0 });
      assert.equal(result.completed, 20);
      assert.equal(result.connections, 2);
      assert.equal(stats.requests, 70);
      assert.equal(held.length, 50);
      // The busy clients are done; the idle ones are still open on the server.
      await waitFor(() => stats.open === 50, { message: 'the busy connections to close and the idle ones to stay' });
    } finally {
      for (const c of held) c.destroy();
    }
    await waitFor(() => stats.open === 0, { message: 'the held connections to close' });
  },
);

test(
  'idle connections a server closes (the seed) are counted, not held or reopened',
  { timeout: 20_000 },
  async (t) => {
    const { port, stats } = await server(t, (sock) => sock.end(CLOSING));
    const { result, held } = await run(load(port, { concurrency: 1, requests: 5, idleConnections: 20 }));
    assert.deepEqual(result.idle, { opened: 20, held: 0, closedByServer: 20, failed: 0 });
    assert.equal(held.length, 0);
    assert.equal(result.completed, 5);
    assert.equal(stats.connections, 25);
  },
);

test(
  'think times: drawn from a seeded PRNG, within their bounds, and paid between requests',
  { timeout: 20_000 },
  async (t) => {
    const a = seeded(42);
    const b = seeded(42);
    const xs = Array.from({ length: 100 }, () => a());
    assert.deepEqual(
      xs,
      Array.from({ length: 100 }, () => b()),
      'the same seed, the same draws',
    );
    assert.ok(xs.every((x) => x >= 0 && x < 1) && new Set(xs).size === 100);
    assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, seeded(43)));
    const { port } = await server(t, (sock) => sock.write(RESPONSE));
    const t0 = performance.now();
    const { result } = await run(load(port, { concurrency: 1, requests: 10, thinkMs: [20, 30], seed: 7 }));
    const ms = performance.now() - t0;
    assert.equal(result.completed, 10);
    // Nine pauses of 20-30 ms between ten requests; latencies exclude them.
    assert.ok(ms >= 9 * 20, `took ${ms | 0} ms`);
    assert.ok(Math.max(...result.latenciesMs) < 20, `latencies ${result.latenciesMs.map((x) => x.toFixed(1))}`);
  },
);
