/**
 * A malformed or too large streamed request body (`requestBody: 'stream'`, which
 * `serve({ fetch })` uses) is the client's fault: a handler whose read throws it and that
 * fails for it (rethrows, rejects) gets the client a 400 (or 413), as a buffered body does,
 * not a 500 and a 'handlerError'. A handler that catches it and answers stands.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, run, waitFor } from './helpers.mjs';
import { served } from './fetch-helpers.mjs';

before(async () => {
  await run('true', []);
});

/** An async handler that reads the streamed body whole (and rethrows what the read throws). */
async function collect(r) {
  const parts = [];
  for await (const chunk of r.stream()) parts.push(chunk);
  return { body: Buffer.concat(parts) };
}

const BAD_CHUNKED = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nXYZ\r\n';

for (const { mode, backend, label } of VARIANTS) {
  describe(`a malformed streamed request body, ${label}`, { timeout: 30_000 }, () => {
    test('bad chunked framing: 400 and a close, no handlerError', async (t) => {
      const scope = new Scope(t);
      const errors = [];
      const { server, port } = scope.server({ mode, backend, requestBody: 'stream', handler: collect });
      server.on('handlerError', (e) => errors.push(e));
      const c = await connected(scope, port);
      await c.write(BAD_CHUNKED);
      const { data } = await c.closedWithin(3000);
      assert.match(data.toString('latin1'), /^HTTP\/1\.1 400 Bad Request\r\n[^]*Connection: close\r\n/);
      assert.equal((data.toString('latin1').match(/HTTP\/1\.1/g) ?? []).length, 1, 'one response');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(errors, []);
    });

    test('a chunked body past maxStreamBodyBytes: 413', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, requestBody: 'stream', maxStreamBodyBytes: 10, handler: collect });
      const c = await connected(scope, port);
      await c.write(
        'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n',
      );
      const { data } = await c.closedWithin(3000);
      assert.match(data.toString('latin1'), /^HTTP\/1\.1 413 /);
    });

    test('a fetch app (serve) reading request.text(): 400, not 500', async (t) => {
      const scope = new Scope(t);
      const errors = [];
      const { server, port } = served(scope, async (request) => new Response(await request.text()), { mode, backend });
      server.on('handlerError', (e) => errors.push(e));
      const c = await connected(scope, port);
      await c.write(BAD_CHUNKED);
      const { data } = await c.closedWithin(3000);
      assert.match(data.toString('latin1'), /^HTTP\/1\.1 400 Bad Request\r\n/);
      await waitFor(() => server.stats().open === 0, { message: 'closed' });
      assert.deepEqual(errors, []);
    });

    test('a handler that catches the read error answers as it likes', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        requestBody: 'stream',
        handler: async (r) => {
          try {
            return await collect(r);
          } catch (err) {
            return { status: 422, body: `no: ${err.message}` };
          }
        },
      });
      const c = await connected(scope, port);
      await c.write(BAD_CHUNKED);
      const { data } = await c.closedWithin(3000);
      assert.match(data.toString('latin1'), /^HTTP\/1\.1 422 [^]*no: the chunked request body is malformed$/);
    });

    test('a handler that answered before the body went bad: its head stands, the body is cut off', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        requestBody: 'stream',
        handler: (r) => ({ body: r.stream() }),
      });
      const c = await connected(scope, port);
      await c.write(BAD_CHUNKED);
      const { data } = await c.closedWithin(3000);
      const text = data.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(!text.endsWith('0\r\n\r\n'), 'no last chunk: the client sees a truncated body');
    });
  });
}
