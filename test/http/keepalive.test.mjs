/**
 * Persistent connections, both trigger modes: HTTP/1.0 with and without keep-alive, HTTP/1.1
 * persistence and `Connection: close`, the keep-alive and head timeouts, `maxRequests` with a
 * lingering close, half-close, graceful shutdown, and idle connections holding no buffer.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import {
  VARIANTS,
  REQUEST,
  SEED_RESPONSE,
  Scope,
  assertBytes,
  assertOk11,
  connected,
  req,
  responsesFrom,
  responsesIn,
  run,
  serverRead,
  show,
  statsReach,
  waitFor,
} from './helpers.mjs';

before(async () => {
  // libuv opens its SIGCHLD pipe on the first spawn and keeps it: open it before any baseline.
  await run('true', []);
});

for (const { mode, backend, label } of VARIANTS) {
  describe(`keep-alive, ${label}`, { timeout: 60_000 }, () => {
    test('HTTP/1.0 without keep-alive: the seed bytes exactly, then FIN', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend });
      for (const request of [REQUEST, 'GET / HTTP/1.0\r\nHost: x\r\nConnection: close\r\n\r\n', 'GET /\r\n\r\n']) {
        const c = await connected(scope, port);
        await c.write(request);
        const r = await c.closedWithin();
        assertBytes(r.data, SEED_RESPONSE, JSON.stringify(request));
        assert.equal(r.code, null);
        assert.ok(r.ended);
      }
      await statsReach(server, (s) => s.open === 0 && s.responses === 3, 'three responses, all closed');
    });

    test(
      'HTTP/1.0 with Connection: keep-alive: says so and stays open for the next request',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend });
        const c = await connected(scope, port);
        const ka = 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
        await c.write(ka);
        let rs = await responsesFrom(c, 1);
        assert.equal(rs[0].version, '1.0');
        assert.equal(rs[0].status, 200);
        assert.equal(rs[0].headers.connection, 'keep-alive');
        assert.equal(rs[0].body.toString(), 'Hello, world!');
        await statsReach(server, (s) => s.responses === 1 && s.open === 1, 'the connection to stay open');
        assert.equal(c.closed, false);
        await c.write(ka);
        rs = await responsesFrom(c, 2);
        assert.equal(rs[1].headers.connection, 'keep-alive');
        // Then without keep-alive: the seed's bytes, and the server closes.
        await c.write(REQUEST);
        const r = await c.closedWithin();
        assertBytes(Buffer.from(responsesIn(r.data)[2].raw), SEED_RESPONSE, 'the third response');
        assert.equal(r.code, null);
      },
    );

    test('HTTP/1.1 persists; Connection: close is repeated and the server closes', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend });
      const c = await connected(scope, port);
      for (let i = 1; i <= 3; i++) {
        await c.write(req(`/n${i}`));
        const rs = await responsesFrom(c, i);
        assertOk11(rs[i - 1], { what: `response ${i}` });
      }
      await statsReach(server, (s) => s.responses === 3 && s.open === 1, 'one connection, three responses');
      await c.write(req('/last', { headers: { Connection: 'close' } }));
      const r = await c.closedWithin();
      const rs = responsesIn(r.data);
      assert.equal(rs.length, 4);
      assertOk11(rs[3], { close: true, what: 'the Connection: close response' });
      assert.equal(r.code, null);
      assert.ok(r.ended);
      const s = await statsReach(server, (st) => st.open === 0, 'the connection to close');
      assert.equal(s.connections, 1, 'all four requests on one connection');
      assert.equal(s.requests, 4);
    });

    test(
      'Connection options are a list: "Keep-Alive, Close" closes, "upgrade" alone persists',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { port } = scope.server({ mode, backend });
        let c = await connected(scope, port);
        await c.write(req('/', { headers: { Connection: 'Upgrade' } }));
        assertOk11((await responsesFrom(c, 1))[0]);
        await c.write(
          req('/', {
            headers: [
              ['Connection', 'keep-alive'],
              ['connection', 'TE, CLOSE'],
            ],
          }),
        );
        let r = await c.closedWithin();
        assertOk11(responsesIn(r.data)[1], { close: true });
        // close wins over keep-alive, in HTTP/1.0 too (RFC 9112 section 9.3).
        for (const value of ['keep-alive, close', 'close, keep-alive']) {
          c = await connected(scope, port);
          await c.write(`GET / HTTP/1.0\r\nConnection: ${value}\r\n\r\n`);
          r = await c.closedWithin(3000, `HTTP/1.0 with Connection: ${value} to close`);
          assertBytes(r.data, SEED_RESPONSE, value);
        }
        c = await connected(scope, port);
        await c.write('GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n');
        assert.equal((await responsesFrom(c, 1))[0].headers.connection, 'keep-alive');
        c.end();
        r = await c.closedWithin();
        assert.equal(r.code, null);
      },
    );

    test('keepAliveTimeoutMs closes a connection idle between requests, not before', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend, keepAliveTimeoutMs: 300, idleTimeoutMs: 10_000 });
      const c = await connected(scope, port);
      await c.write(req());
      await responsesFrom(c, 1);
      const t0 = performance.now();
      const r = await c.closedWithin(5000, 'the keep-alive timeout');
      const waited = performance.now() - t0;
      assert.ok(waited >= 250, `closed after ${waited.toFixed(0)} ms, before the 300 ms keep-alive timeout`);
      assert.equal(responsesIn(r.data).length, 1, 'no 408 for a connection idle between requests');
      assert.equal(r.code, null);
      const s = await statsReach(server, (st) => st.open === 0, 'the connection to close');
      assert.equal(s.keepAliveTimeouts, 1);
      assert.equal(s.timedOut, 0, 'a keep-alive timeout is a normal end');
    });

    test('the keep-alive timeout also follows a body that ended after its answer', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend, keepAliveTimeoutMs: 300, idleTimeoutMs: 20_000 });
      const c = await connected(scope, port);
      await c.write(req('/', { method: 'POST', headers: { 'Content-Length': 100 }, body: 'x'.repeat(10) }));
      await responsesFrom(c, 1);
      await c.write('y'.repeat(90));
      const r = await c.closedWithin(5000, 'the keep-alive timeout after the body');
      assert.equal(responsesIn(r.data).length, 1);
      await statsReach(server, (s) => s.keepAliveTimeouts === 1 && s.open === 0, 'a keep-alive timeout');
    });

    test(
      'a head must arrive within idleTimeoutMs of its first byte: 408, then close (first and later requests)',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, idleTimeoutMs: 400, keepAliveTimeoutMs: 10_000 });
        for (const earlier of [0, 1]) {
          const c = await connected(scope, port);
          for (let i = 0; i < earlier; i++) await c.write(req());
          if (earlier > 0) await responsesFrom(c, earlier);
          const before = server.stats().bytesIn;
          await c.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
          await serverRead(server, before, 29, 'the partial head');
          const t0 = performance.now();
          // Trickling keeps making no progress towards a whole head: the clock runs from its first byte.
          let stop = false;
          const trickle = (async () => {
            while (!stop && !c.closed) {
              await delay(40); // pacing a slowloris, not waiting for a condition
              await c.write('X').catch(() => {});
            }
          })();
          const r = await c.closedWithin(5000, 'the head timeout');
          stop = true;
          await trickle;
          const waited = performance.now() - t0;
          assert.ok(waited < 5000, `closed after ${waited.toFixed(0)} ms`);
          const rs = responsesIn(r.data);
          assert.equal(rs.length, earlier + 1, show(r.data));
          assert.equal(rs[earlier].status, 408);
          assert.equal(rs[earlier].headers.connection, 'close');
        }
        await statsReach(server, (s) => s.open === 0 && s.timedOut === 2, 'both timed out');
      },
    );

    test(
      'maxRequests: the last response says close; pipelined requests behind it are not reset',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, maxRequests: 3 });
        // Sequential: the third response closes.
        let c = await connected(scope, port);
        for (let i = 1; i <= 2; i++) {
          await c.write(req());
          await responsesFrom(c, i);
        }
        await c.write(req());
        let r = await c.closedWithin();
        let rs = responsesIn(r.data);
        assert.equal(rs.length, 3);
        assertOk11(rs[1]);
        assertOk11(rs[2], { close: true, what: 'the third response' });
        // Pipelined far past the limit, and still sending after the close: no RST destroys the third response.
        for (const depth of [5, 400]) {
          c = await connected(scope, port);
          await c.write(Buffer.concat(Array.from({ length: depth }, (_, i) => req(`/p${i}`))));
          await responsesFrom(c, 3);
          await c.write(Buffer.concat(Array.from({ length: 50 }, () => req('/late')))).catch(() => {});
          r = await c.closedWithin();
          assert.equal(r.code, null, `depth ${depth}: the client saw ${r.code}`);
          assert.ok(r.ended, `depth ${depth}: FIN`);
          rs = responsesIn(r.data);
          assert.equal(rs.length, 3, `depth ${depth}: exactly maxRequests responses`);
          assertOk11(rs[2], { close: true, what: `depth ${depth}, third response` });
        }
        const s = await statsReach(server, (st) => st.open === 0, 'all closed');
        assert.equal(s.aborted, 0);
      },
    );

    test(
      'half-close after complete requests: every response, then the server closes',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend });
        for (const depth of [1, 3, 20]) {
          const c = await connected(scope, port);
          await c.write(Buffer.concat(Array.from({ length: depth }, (_, i) => req(`/h${i}`))));
          c.end();
          const r = await c.closedWithin();
          const rs = responsesIn(r.data);
          assert.equal(rs.length, depth, `depth ${depth}`);
          for (const res of rs) assertOk11(res);
          assert.equal(r.code, null);
        }
        // Past the output limit: the server pauses, and still answers all after the FIN.
        const big = scope.server({ mode, backend, body: 'b'.repeat(1000), maxRequests: 10_000 });
        const many = await connected(scope, big.port);
        many.socket.write(Buffer.concat(Array.from({ length: 3000 }, (_, i) => req(`/m${i}`))));
        many.end();
        const mr = await many.closedWithin(20_000, '3000 responses after a half-close');
        assert.equal(responsesIn(mr.data).length, 3000);
        assert.equal(mr.code, null);
        // A half-closed head that is not complete is dropped without an answer.
        const c = await connected(scope, port);
        await c.write(Buffer.concat([req('/a'), Buffer.from('GET /b HTTP/1.1\r\nHo')]));
        c.end();
        const r = await c.closedWithin();
        assert.equal(responsesIn(r.data).length, 1);
        await statsReach(server, (s) => s.open === 0, 'all closed');
      },
    );

    test(
      'close(): idle keep-alive connections close at once, a request in flight gets Connection: close',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        let release;
        const gate = new Promise((resolve) => {
          release = resolve;
        });
        const { server, port } = scope.server({
          mode,
          backend,
          handler: async (r) => {
            if (r.target === '/slow') await gate;
            return { body: r.target };
          },
        });
        const idle = [];
        for (let i = 0; i < 3; i++) {
          const c = await connected(scope, port);
          await c.write(req('/quick'));
          await responsesFrom(c, 1);
          idle.push(c);
        }
        const busy = await connected(scope, port);
        await busy.write(req('/slow'));
        const partial = await connected(scope, port);
        const before = server.stats().bytesIn;
        await partial.write('GET /partial HTTP/1.1\r\n');
        await serverRead(server, before, 23, 'the partial head');
        await statsReach(server, (s) => s.requests === 4 && s.open === 5, 'the slow request to be pending');
        const closed = server.close();
        for (const c of idle) {
          const r = await c.closedWithin(2000, 'an idle connection to close at shutdown');
          assert.equal(r.code, null);
          assert.equal(responsesIn(r.data).length, 1);
        }
        // The head still arriving completes after close() began: answered, and closed.
        await partial.write('Host: x\r\n\r\n');
        const pr = await partial.closedWithin(3000, 'the partial request');
        const prs = responsesIn(pr.data);
        assert.equal(prs.length, 1);
        assert.equal(prs[0].headers.connection, 'close', 'a request completed during shutdown says close');
        assert.equal(prs[0].body.toString(), '/partial');
        release();
        const br = await busy.closedWithin(3000, 'the request in flight');
        const brs = responsesIn(br.data);
        assert.equal(brs.length, 1);
        assert.equal(brs[0].status, 200);
        assert.equal(brs[0].body.toString(), '/slow');
        assert.equal(brs[0].headers.connection, 'close', 'the response in flight at shutdown says Connection: close');
        await closed;
        assert.equal(server.stats().open, 0);
      },
    );

    test(
      'close() while a body is still arriving after its answer: the connection closes once the body is in',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, keepAliveTimeoutMs: 30_000, idleTimeoutMs: 30_000 });
        const c = await connected(scope, port);
        await c.write(req('/', { method: 'POST', headers: { 'Content-Length': 1000 }, body: 'x'.repeat(10) }));
        assertOk11((await responsesFrom(c, 1))[0]);
        const closed = server.close(60_000);
        await c.write('x'.repeat(990));
        // Between requests now, with the server shutting down: nothing in flight, closed at once.
        const r = await c.closedWithin(5000, 'the connection to close after its body');
        assert.equal(responsesIn(r.data).length, 1);
        assert.equal(r.code, null);
        await closed;
      },
    );

    test(
      'an idle keep-alive connection holds no input buffer (the input budget sees none of it)',
      { timeout: 20_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, inputBudgetBytes: 1 << 16, maxHeadBytes: 32 << 10 });
        const pad = 'x'.repeat(3000);
        const clients = [];
        // Each connection buffers a split head (and a pipelined split one) then goes idle.
        for (let i = 0; i < 40; i++) {
          const c = await connected(scope, port);
          const whole = Buffer.concat([req('/a', { headers: { Pad: pad } }), req('/b', { headers: { Pad: pad } })]);
          const cut = 3100 + (i % 7);
          const before = server.stats().bytesIn;
          await c.write(whole.subarray(0, cut));
          await serverRead(server, before, cut, 'the first part');
          await c.write(whole.subarray(cut));
          await responsesFrom(c, 2);
          clients.push(c);
        }
        await statsReach(server, (s) => s.responses === 80 && s.open === 40, 'forty idle connections');
        // A partial head that alone fits the budget is not shed: idle connections hold nothing.
        const c = await connected(scope, port);
        const big = req('/big', { headers: { Pad: 'y'.repeat(20_000) } });
        const before = server.stats().bytesIn;
        await c.write(big.subarray(0, 20_000));
        await serverRead(server, before, 20_000, 'the big partial head');
        await c.write(big.subarray(20_000));
        const rs = await responsesFrom(c, 1);
        assertOk11(rs[0]);
        assert.equal(server.stats().headsShed, 0, 'nothing shed');
        for (const k of [...clients, c]) k.end();
        await waitFor(() => server.stats().open === 0, { timeout: 5000, message: 'all to close' });
      },
    );
  });
}
