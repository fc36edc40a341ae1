/**
 * What a hostile review found in the handler path, both trigger modes: a body of a million
 * tiny chunks, thenables that throw or call back twice, peers that reset while a handler
 * runs, expectations spread over several field lines, and answers that may not carry
 * content or that end the connection.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, expectRefused, req, responsesFrom, run, statsReach, waitFor } from './helpers.mjs';

before(async () => {
  await run('true', []);
});

for (const { mode, backend, label } of VARIANTS) {
  describe(`handler edges, ${label}`, { timeout: 60_000 }, () => {
    test('a body of 200,000 one-byte chunks arrives whole, held as one buffer', { timeout: 30_000 }, async (t) => {
      const scope = new Scope(t);
      let got = -1;
      const { server, port } = scope.server({ mode, backend, handler: (r) => ((got = r.body.length), { body: 'ok' }) });
      const c = await connected(scope, port);
      await c.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().external;
      const piece = Buffer.from('1\r\na\r\n'.repeat(10_000), 'latin1');
      let peak = 0;
      for (let i = 0; i < 20; i++) {
        await c.write(piece);
        await statsReach(server, (s) => s.bytesIn >= 55 + (i + 1) * piece.length, 'the chunks to be read');
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed + m.external - heap0);
      }
      await c.write('0\r\n\r\n');
      const [res] = await responsesFrom(c, 1);
      assert.equal(res.status, 200);
      assert.equal(got, 200_000);
      // One Buffer object per chunk was about 150 bytes each: 30 MB for this body.
      assert.ok(peak < 12 << 20, `the server's memory grew by ${(peak / 2 ** 20).toFixed(1)} MiB for a 200 KB body`);
    });

    test(
      'a thenable whose then() throws is a 500; one that answers twice answers once',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({
          mode,
          backend,
          handler: (r) =>
            r.target === '/throw'
              ? {
                  then() {
                    throw new Error('then() threw');
                  },
                }
              : {
                  then(resolve) {
                    resolve({ body: 'first' });
                    resolve({ body: 'second' });
                  },
                },
        });
        const a = await connected(scope, port);
        await a.write(req('/throw'));
        const [r500] = await responsesFrom(a, 1);
        assert.equal(r500.status, 500);
        const b = await connected(scope, port);
        await b.write(Buffer.concat([req('/twice'), req('/twice')]));
        const rs = await responsesFrom(b, 2);
        assert.deepEqual(
          rs.map((r) => r.body.toString()),
          ['first', 'first'],
        );
        // The second resolve() of each thenable queued nothing: three answers in all.
        await statsReach(server, (s) => s.responses === 3, 'three responses');
        assert.equal(server.stats().handlerErrors, 1);
        b.destroy();
      },
    );

    test('a peer that resets while its handler runs is let go at once', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const never = new Promise(() => {});
      const { server, port } = scope.server({ mode, backend, handler: () => never });
      const clients = [];
      for (let i = 0; i < 20; i++) {
        const c = await connected(scope, port);
        await c.write(req('/never'));
        clients.push(c);
      }
      await statsReach(server, (s) => s.requests === 20, 'the 20 requests');
      for (const c of clients) c.reset();
      const s = await statsReach(server, (st) => st.open === 0, 'the reset connections to be closed');
      assert.equal(s.aborted, 20, 'each reset connection ends as aborted');
    });

    test('expectations combine over field lines: any one etlt cannot meet is 417', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, handler: () => ({ body: 'x' }) });
      const body = { headers: [['Content-Length', '1']] };
      const two = [
        ['Expect', 'foo'],
        ['Expect', '100-continue'],
      ];
      await expectRefused(scope, port, req('/', { method: 'POST', ...body, headers: [...body.headers, ...two] }), 417);
      await expectRefused(
        scope,
        port,
        req('/', { method: 'POST', headers: [...body.headers, ['Expect', '100-continue, foo']] }),
        417,
      );
    });

    test('205 carries no content; a header value that is not text is a 500', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        handler: (r) =>
          r.target === '/205' ? { status: 205, body: 'not sent' } : { headers: { 'X-U': undefined }, body: 'x' },
      });
      const c = await connected(scope, port);
      await c.write(Buffer.concat([req('/205'), req('/205')]));
      const rs = await responsesFrom(c, 2);
      for (const r of rs) {
        assert.equal(r.status, 205);
        assert.equal(r.reason, 'Reset Content');
        assert.equal(r.headers['content-length'], '0');
        assert.equal(r.body.length, 0);
      }
      const bad = await connected(scope, port);
      await bad.write(req('/undefined'));
      const [r500] = await responsesFrom(bad, 1);
      assert.equal(r500.status, 500);
    });

    test("a handler's Connection: close ends the connection after its answer", { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        handler: () => ({ headers: { Connection: 'close' }, body: 'bye' }),
      });
      const c = await connected(scope, port);
      await c.write(Buffer.concat([req('/a'), req('/b')]));
      const r = await c.closedWithin(5000, 'the server to close after the handler said so');
      assert.equal(r.code, null);
      const text = r.data.toString('latin1');
      assert.equal(text.match(/HTTP\/1\.1 200/g)?.length, 1, text);
      assert.match(text, /\r\nConnection: close\r\n/);
    });

    test(
      'a head that times out after an HTTP/1.1 request line gets an HTTP/1.1 408',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { port } = scope.server({ mode, backend, idleTimeoutMs: 300 });
        const c = await connected(scope, port);
        await c.write('GET / HTTP/1.1\r\nHost: x\r\n');
        const r = await c.closedWithin(3000, 'the idle timeout');
        assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 408 Request Timeout\r\n/);
        await waitFor(() => c.closed, { message: 'the close' });
      },
    );
  });
}
