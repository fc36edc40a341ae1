/**
 * Pipelining, both trigger modes (RFC 9112 section 9.3.2): every complete request answered
 * in order, one send for the responses to one read, unsent output bounded per connection
 * (a client that never reads costs bounded memory and stalls no one else, and resumes when
 * it reads), and a pipeline split at every byte boundary, or at random ones (fast-check,
 * fixed seed), answered exactly as when sent whole.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';

import {
  VARIANTS,
  ResponseCounter,
  Scope,
  assertNoBusyLoop,
  assertOk11,
  chunked,
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
  await run('true', []);
});

/** An echoing handler: method, target, body length and the body itself. */
function echo(r) {
  return {
    headers: { 'X-Method': r.method, 'X-Target': r.target },
    body: Buffer.concat([Buffer.from(`${r.body.length}:`), r.body]),
  };
}

/** One short pipeline of every kind of exchange: bodies by length and chunked, HEAD, and a close. */
const PIPELINE = Buffer.concat([
  req('/one'),
  req('/two', { method: 'POST', body: 'GET /not-a-request HTTP/1.1\r\nHost: x\r\n\r\n', length: true }),
  req('/three', { method: 'HEAD' }),
  req('/four', {
    method: 'PUT',
    headers: { 'Transfer-Encoding': 'chunked' },
    body: chunked(['ab', 'GET / HTTP/1.1\r\n\r\n']),
  }),
  Buffer.from('\r\n'),
  req('/five', { headers: { Connection: 'close' } }),
]);
const IS_HEAD = (i) => i === 2;

/** The responses with their Date values blanked (they change every second). */
function normalized(data) {
  return responsesIn(data, { isHead: IS_HEAD }).map((r) => r.raw.toString('latin1').replace(/^Date: .*$/m, 'Date: -'));
}

/** Sends `parts` on a new connection, each after the server read the one before; the responses as bytes. */
async function sendSplit(scope, server, port, parts) {
  const c = await connected(scope, port);
  for (const part of parts) {
    const before = server.stats().bytesIn;
    await c.write(part);
    await serverRead(server, before, part.length, `a part of ${part.length} bytes`);
  }
  const r = await c.closedWithin(5000, 'the pipeline to end');
  assert.equal(r.code, null, `split ${parts.map((p) => p.length)}: ${r.code}`);
  return r.data;
}

/** `buf` cut at the sorted, distinct offsets `cuts`. */
function cutAt(buf, cuts) {
  const parts = [];
  let from = 0;
  for (const at of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (at <= from || at >= buf.length) continue;
    parts.push(buf.subarray(from, at));
    from = at;
  }
  parts.push(buf.subarray(from));
  return parts;
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`pipelining, ${label}`, { timeout: 120_000 }, () => {
    test(
      'a mixed pipeline is answered in order: bodies consumed, HEAD bodiless, close last',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        for (const handler of [undefined, echo]) {
          const { server, port } = scope.server({ mode, backend, handler });
          const c = await connected(scope, port);
          await c.write(PIPELINE);
          const r = await c.closedWithin();
          const rs = responsesIn(r.data, { isHead: IS_HEAD });
          assert.equal(rs.length, 5, `five responses, not a sixth from a body: ${show(r.data, 2000)}`);
          assert.deepEqual(
            rs.map((x) => x.status),
            [200, 200, 200, 200, 200],
          );
          assert.equal(rs[4].headers.connection, 'close');
          assert.equal(rs[2].body.length, 0, 'HEAD has no body');
          if (handler) {
            assert.deepEqual(
              rs.map((x) => x.headers['x-target']),
              ['/one', '/two', '/three', '/four', '/five'],
            );
            assert.equal(rs[1].body.toString(), '40:GET /not-a-request HTTP/1.1\r\nHost: x\r\n\r\n');
            assert.equal(rs[3].body.toString(), '20:abGET / HTTP/1.1\r\n\r\n');
            assert.equal(rs[2].headers['content-length'], '2', "HEAD gets the Content-Length GET would have ('0:')");
          } else {
            for (const x of [rs[0], rs[1], rs[3]]) assertOk11(x);
            assert.equal(rs[2].headers['content-length'], '13', "HEAD gets GET's Content-Length");
          }
          const s = await statsReach(server, (st) => st.open === 0, 'closed');
          assert.equal(s.requests, 5);
          assert.equal(s.responses, 5);
        }
      },
    );

    test('the responses to one read leave in one send (16-deep pipelines)', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend });
      const c = await connected(scope, port);
      const batch = Buffer.concat(Array.from({ length: 16 }, (_, i) => req(`/b${i}`)));
      const rounds = 50;
      const before = server.stats();
      for (let i = 1; i <= rounds; i++) {
        await c.write(batch);
        await responsesFrom(c, 16 * i);
      }
      const after = server.stats();
      const perRequest = (after.send - before.send) / (16 * rounds);
      assert.ok(perRequest <= 0.25, `${perRequest.toFixed(3)} sends per request, want well below 1`);
      for (const res of responsesIn(c.data)) assertOk11(res);
      c.end();
      await c.closedWithin();
    });

    test(
      'a client that pipelines thousands of requests and never reads: bounded, others served, resumes when it reads',
      { timeout: 60_000 },
      async (t) => {
        const scope = new Scope(t);
        const body = 'z'.repeat(4096);
        const { server, port } = scope.server({
          mode,
          backend,
          maxRequests: 100_000,
          idleTimeoutMs: 60_000,
          handler: (r) => ({ headers: { 'X-Target': r.target }, body }),
        });
        const total = 8000;
        const hog = await connected(scope, port, { paused: true });
        const all = Buffer.concat(Array.from({ length: total }, (_, i) => req(`/${i}`)));
        const memBefore = process.memoryUsage().arrayBuffers;
        hog.socket.write(all);
        // Stalled: what the server read and sent stops growing, far short of all of it.
        let last = '';
        await waitFor(
          async () => {
            const s = server.stats();
            const n = `${s.requests} ${s.bytesIn} ${s.bytesOut}`;
            if (s.requests > 0 && n === last) return true;
            last = n;
            await new Promise((resolve) => setTimeout(resolve, 200)); // a sampling window
            return false;
          },
          { timeout: 20_000, message: 'the hog to stall' },
        );
        const stalled = server.stats().requests;
        assert.ok(stalled < total, `the server answered all ${total} for a client that reads nothing`);
        const grew = process.memoryUsage().arrayBuffers - memBefore;
        assert.ok(grew < 48 << 20, `buffers grew by ${(grew / 2 ** 20).toFixed(1)} MiB for one stalled client`);
        await assertNoBusyLoop(server);
        // Others are served meanwhile.
        for (let i = 0; i < 5; i++) {
          const other = await connected(scope, port);
          await other.write(req('/other', { headers: { Connection: 'close' } }));
          const r = await other.closedWithin(5000, 'another client to be served');
          assert.equal(responsesIn(r.data)[0].headers['x-target'], '/other');
        }
        // It reads at last: every response, in order.
        let order = true;
        const counter = new ResponseCounter((res, i) => {
          if (res.headers['x-target'] !== `/${i}`) order = false;
        }).attach(hog);
        hog.chunks = []; // the counter keeps what it needs
        hog.socket.on('data', () => {
          hog.chunks.length = 0;
        });
        hog.socket.resume();
        await waitFor(() => counter.count === total || counter.error, {
          timeout: 40_000,
          message: `all ${total} responses`,
        }).catch((err) => {
          err.message += ` (got ${counter.count}; stats ${JSON.stringify(server.stats())})`;
          throw err;
        });
        assert.equal(counter.error, null);
        assert.equal(counter.count, total);
        assert.ok(order, 'responses in request order');
        hog.end();
        await hog.closedWithin();
      },
    );

    test('pipelined requests behind a pending handler: reading stops (bounded), all answered once it answers', async (t) => {
      const scope = new Scope(t);
      let answer;
      const pending = new Promise((resolve) => (answer = resolve));
      const { server, port } = scope.server({
        mode,
        backend,
        maxRequests: 10_000,
        handler: async (r) => {
          if (r.target === '/slow') await pending;
          return { headers: { 'X-Target': r.target }, body: 'ok' };
        },
      });
      const c = await connected(scope, port);
      // 4 MiB behind the slow request, in requests of 4 KiB.
      const pad = [['X-Pad', 'p'.repeat(4000)]];
      const total = 1024;
      const rest = Buffer.concat(Array.from({ length: total }, (_, i) => req(`/${i}`, { headers: pad })));
      c.socket.write(Buffer.concat([req('/slow'), rest]));
      await statsReach(server, (s) => s.requests === 1, 'the slow request');
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Readiness engines stop reading; io_uring's multishot recv stops past its bound.
      const held = server.stats().bytesIn;
      assert.ok(held <= 512 * 1024, `the server read ${held} bytes behind a pending handler`);
      answer();
      const responses = await responsesFrom(c, total + 1, { timeout: 15_000 });
      assert.deepEqual(
        responses.map((res) => res.headers['x-target']),
        ['/slow', ...Array.from({ length: total }, (_, i) => `/${i}`)],
      );
    });

    test('a pipeline split at every byte boundary gives the same responses', { timeout: 60_000 }, async (t) => {
      const scope = new Scope(t);
      // Without the eager read, the first bytes of each connection come through epoll too.
      for (const [handler, eagerRead] of [
        [undefined, true],
        [echo, true],
        [echo, false],
      ]) {
        const { server, port } = scope.server({ mode, backend, handler, eagerRead });
        const want = normalized(await sendSplit(scope, server, port, [PIPELINE]));
        assert.equal(want.length, 5);
        for (let at = 1; at < PIPELINE.length; at++) {
          const got = normalized(await sendSplit(scope, server, port, cutAt(PIPELINE, [at])));
          assert.deepEqual(got, want, `split at ${at}: ${show(PIPELINE.subarray(Math.max(0, at - 10), at + 10))}`);
        }
        await statsReach(server, (s) => s.open === 0, 'all closed');
      }
    });

    test('random splits of a pipeline (fast-check, seeded) give the same responses', { timeout: 60_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend, handler: echo });
      const long = Buffer.concat([
        req('/a', {
          method: 'POST',
          headers: { 'Transfer-Encoding': 'chunked' },
          body: chunked(['x'.repeat(300), Buffer.from([0, 1, 2, 13, 10, 255]), 'y']),
        }),
        req('/b', { method: 'POST', body: Buffer.alloc(700, 0x41), length: true }),
        req('/c', { method: 'HEAD' }),
        req('/d', { headers: { 'X-Long': 'v'.repeat(2000) } }),
        req('/e', { headers: { Connection: 'close' } }),
      ]);
      const isHead = (i) => i === 2;
      const norm = (d) =>
        responsesIn(d, { isHead }).map((r) => r.raw.toString('latin1').replace(/^Date: .*$/m, 'Date: -'));
      const want = norm(await sendSplit(scope, server, port, [long]));
      assert.equal(want.length, 5);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: long.length - 1 }), { minLength: 1, maxLength: 12 }),
          async (cuts) => {
            const got = norm(await sendSplit(scope, server, port, cutAt(long, cuts)));
            assert.deepEqual(got, want);
          },
        ),
        { seed: 0x5eed, numRuns: 60, endOnFailure: true },
      );
    });

    test(
      'random pipelines of random requests, randomly split (fast-check, seeded), answered as a model says',
      { timeout: 90_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, handler: echo, maxRequests: 1e6 });
        const bodyArb = fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a));
        const one = fc.record({
          method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE'),
          path: fc.stringMatching(/^\/[a-z0-9]{0,12}$/),
          framing: fc.constantFrom('none', 'length', 'chunked'),
          body: bodyArb,
          cuts: fc.array(fc.nat({ max: 3000 }), { maxLength: 4 }),
          hostCase: fc.constantFrom('Host', 'host', 'HOST'),
        });
        const encode = (r, i) => {
          const target = `${r.path}?i=${i}`;
          let head = `${r.method} ${target} HTTP/1.1\r\n${r.hostCase}: x\r\n`;
          let body = Buffer.alloc(0);
          if (r.framing === 'length') {
            head += `Content-Length: ${r.body.length}\r\n`;
            body = r.body;
          } else if (r.framing === 'chunked') {
            head += 'Transfer-Encoding: chunked\r\n';
            body = chunked(cutAt(r.body, r.cuts));
          }
          return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
        };
        const sent = (r) => (r.framing === 'none' ? Buffer.alloc(0) : r.body);
        await fc.assert(
          fc.asyncProperty(
            fc.array(one, { minLength: 1, maxLength: 12 }),
            fc.array(fc.nat(), { maxLength: 10 }),
            async (reqs, splits) => {
              const all = Buffer.concat([...reqs.map(encode), req('/end', { headers: { Connection: 'close' } })]);
              const data = await sendSplit(
                scope,
                server,
                port,
                cutAt(
                  all,
                  splits.map((x) => x % all.length),
                ),
              );
              const rs = responsesIn(data, { isHead: (i) => i < reqs.length && reqs[i].method === 'HEAD' });
              assert.equal(rs.length, reqs.length + 1);
              for (const [i, r] of reqs.entries()) {
                assert.equal(rs[i].headers['x-target'], `${r.path}?i=${i}`);
                assert.equal(rs[i].headers['x-method'], r.method);
                const want = Buffer.concat([Buffer.from(`${sent(r).length}:`), sent(r)]);
                if (r.method === 'HEAD') assert.equal(rs[i].headers['content-length'], String(want.length));
                else assert.ok(rs[i].body.equals(want), `request ${i}: body`);
              }
            },
          ),
          { seed: 0x1234abcd, numRuns: 60, endOnFailure: true },
        );
        await statsReach(server, (s) => s.open === 0, 'all closed');
      },
    );
  });
}
