/**
 * A property of streamed bodies, in every server variant: whatever the chunking a handler
 * yields (empty chunks, strings with multi-byte characters, one byte, 100 KiB), the client
 * gets the same bytes, chunked (read by fetch) or with the Content-Length the handler gave
 * (read raw); and a request body sent in any pieces reaches `req.stream()` whole.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { SEED, fc } from '../lib/fuzz.mjs';
import { VARIANTS, Scope, connected, responsesFrom, run } from './helpers.mjs';

before(async () => {
  await run('true', []);
});

/** 40 runs per variant: each is one request on a kept-alive connection. */
const RUNS = 40;

const piece = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer({ min: 1, max: 100 * 1024 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
);
const bytesOf = (parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

for (const { mode, backend, label } of VARIANTS) {
  describe(`streamed bodies, any chunking, ${label}`, { timeout: 60_000 }, () => {
    test('a response streamed in any chunks arrives byte for byte', async (t) => {
      const scope = new Scope(t);
      let parts = [];
      const { port } = scope.server({
        mode,
        backend,
        keepAliveTimeoutMs: 200,
        handler: (r) => {
          const given = parts;
          const body = (async function* () {
            yield* given;
          })();
          return r.target === '/length'
            ? { headers: { 'Content-Length': String(bytesOf(given).length) }, body }
            : { body };
        },
      });
      const raw = await connected(scope, port);
      let answered = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (p) => {
          parts = p;
          const want = bytesOf(p);
          const res = await fetch(`http://127.0.0.1:${port}/chunked`);
          const got = Buffer.from(await res.arrayBuffer());
          assert.ok(got.equals(want), `chunked: ${got.length} bytes for ${want.length}`);
          await raw.write(`GET /length HTTP/1.1\r\nHost: x\r\n\r\n`);
          const rs = await responsesFrom(raw, ++answered);
          assert.ok(rs[answered - 1].body.equals(want), 'with its Content-Length');
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    test('a request body sent in any pieces reaches req.stream() whole', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        requestBody: 'stream',
        handler: async (r) => {
          const parts = [];
          for await (const c of r.stream()) parts.push(c);
          return { body: Buffer.concat(parts) };
        },
      });
      const c = await connected(scope, port);
      let answered = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { maxLength: 8 }), async (p) => {
          const body = Buffer.concat(p);
          await c.write(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
          for (const part of p)
            await c.write(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]));
          await c.write('0\r\n\r\n');
          const rs = await responsesFrom(c, ++answered);
          assert.ok(rs[answered - 1].body.equals(body));
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  });
}
