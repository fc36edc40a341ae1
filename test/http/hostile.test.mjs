/**
 * Hostile clients, both trigger modes: request-smuggling vectors (never two responses where
 * one request was meant: 400/501 and close), seeded random bytes and random mutations of
 * valid requests (fast-check, fixed seed: no crash, no busy loop, no leaked fd, every
 * connection ends), partial heads bounded server-wide by inputBudgetBytes, and resets in the
 * middle of pipelined responses.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';

import {
  VARIANTS,
  Scope,
  assertNoBusyLoop,
  assertOk11,
  connected,
  prng,
  req,
  responsesFrom,
  responsesIn,
  run,
  serverRead,
  show,
  statsReach,
} from './helpers.mjs';

before(async () => {
  await run('true', []);
});

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const head = (fields) => `POST / HTTP/1.1\r\nHost: x\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;

/** Each vector: the bytes, what one request was meant, and the refusal it gets. */
const VECTORS = [
  ['CL.TE', head(['Content-Length: 6', 'Transfer-Encoding: chunked']) + '0\r\n\r\nG', 400],
  ['TE.CL', head(['Transfer-Encoding: chunked', 'Content-Length: 3']) + '8\r\nSMUGGLED\r\n0\r\n\r\n', 400],
  ['CL.CL', head(['Content-Length: 0', `Content-Length: ${SMUGGLED.length}`]), 400],
  ['CL list', head([`Content-Length: 0, ${SMUGGLED.length}`]), 400],
  ['TE space colon', head(['Transfer-Encoding : chunked', 'Content-Length: 0']) + '0\r\n\r\n', 400],
  ['TE tab colon', head(['Transfer-Encoding\t: chunked']) + '0\r\n\r\n', 400],
  ['TE chunked not last', head(['Transfer-Encoding: chunked, identity']) + '0\r\n\r\n', 400],
  [
    'TE chunked then another field',
    head(['Transfer-Encoding: chunked', 'Transfer-Encoding: identity']) + '0\r\n\r\n',
    400,
  ],
  ['TE quoted', head(['Transfer-Encoding: "chunked"']) + '0\r\n\r\n', 400],
  ['TE obs-fold', head(['X-A: b', ' Transfer-Encoding: chunked']) + '0\r\n\r\n', 400],
  ['TE folded value', head(['Transfer-Encoding:', ' chunked']) + '0\r\n\r\n', 400],
  ['TE unknown', head(['Transfer-Encoding: xchunked']) + '0\r\n\r\n', 501],
  ['TE identity, chunked', head(['Transfer-Encoding: identity, chunked']) + '0\r\n\r\n', 501],
  ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 400],
  ['chunk-size overflow', head(['Transfer-Encoding: chunked']) + 'fffffffffffffffff\r\n\r\n', 400],
  ['chunk-size 2**64 + 4', head(['Transfer-Encoding: chunked']) + '10000000000000004\r\nabcd\r\n0\r\n\r\n', 400],
  ['bare-LF last chunk', head(['Transfer-Encoding: chunked']) + '0\n\r\n', 400],
  ['bare-LF chunk lines', head(['Transfer-Encoding: chunked']) + '5\nabcde\n0\n\n', 400],
  ['chunk data longer than its size', head(['Transfer-Encoding: chunked']) + '2\r\nabcdef\r\n0\r\n\r\n', 400],
];

for (const { mode, backend, label } of VARIANTS) {
  describe(`hostile clients, ${label}`, { timeout: 120_000 }, () => {
    test('smuggling vectors: one response, a 400 or 501, then close', { timeout: 20_000 }, async (t) => {
      const scope = new Scope(t);
      const handler = (r) => ({ body: `${r.method} ${r.target} ${r.body.length}` });
      for (const [h, eagerRead] of [
        [undefined, true],
        [handler, true],
        [undefined, false],
      ]) {
        const { server, port } = scope.server({ mode, backend, handler: h, eagerRead });
        for (const [what, bytes, status] of VECTORS) {
          const c = await connected(scope, port);
          await c.write(Buffer.from(bytes + SMUGGLED, 'latin1'));
          const r = await c.closedWithin(5000, what);
          const rs = responsesIn(r.data);
          assert.deepEqual(
            rs.map((x) => x.status),
            [status],
            `${what}: ${show(r.data, 1000)}`,
          );
          assert.equal(rs[0].headers.connection, 'close', what);
          assert.equal(r.code, null, `${what}: ${r.code}`);
          assert.ok(!r.data.toString('latin1').includes('smuggled'), what);
        }
        const s = await statsReach(server, (st) => st.open === 0, 'all closed');
        assert.equal(s.responses, VECTORS.length);
        assert.equal(s.rejected, VECTORS.length);
      }
    });

    test(
      'seeded random bytes: no crash, no busy loop, every connection ends, the next client served',
      { timeout: 60_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, idleTimeoutMs: 2000 });
        const rand = prng(20240601);
        const alphabet = Buffer.from('GET /HTTP1.\r\n: \t\0Host,chunked0123456789abcdef;"=', 'latin1');
        for (let i = 0; i < 150; i++) {
          const n = 1 + Math.floor(rand() * 3000);
          const bytes = Buffer.alloc(n);
          // Half fully random, half from an alphabet of HTTP's own characters.
          const textual = i % 2 === 1;
          for (let k = 0; k < n; k++)
            bytes[k] = textual ? alphabet[Math.floor(rand() * alphabet.length)] : Math.floor(rand() * 256);
          if (i % 3 === 0)
            bytes.write(
              i % 6 === 0 ? 'GET / HTTP/1.1\r\n' : 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
              'latin1',
            );
          const c = await connected(scope, port);
          await c.write(bytes).catch(() => {});
          c.end();
          const r = await c.closedWithin(5000, `random input ${i} to end`);
          assert.ok(
            r.data.length === 0 || /^HTTP\/1\.[01] [1-5]\d\d /.test(r.data.toString('latin1')),
            `input ${i}: ${show(r.data)}`,
          );
        }
        await statsReach(server, (s) => s.open === 0, 'every connection closed');
        await assertNoBusyLoop(server);
        const c = await connected(scope, port);
        await c.write(req('/', { headers: { Connection: 'close' } }));
        assertOk11(responsesIn((await c.closedWithin()).data)[0], { close: true });
      },
    );

    test(
      'random mutations of valid requests (fast-check, seeded): well-formed answers or a close, never a hang',
      { timeout: 90_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({
          mode,
          backend,
          idleTimeoutMs: 2000,
          handler: (r) => ({ body: `${r.method} ${r.body.length}` }),
        });
        const bases = [
          req('/a', { method: 'POST', body: 'hello world', length: true }),
          req('/b', { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: '5\r\nhello\r\n0\r\n\r\n' }),
          Buffer.concat([
            req('/c'),
            req('/d', { headers: { Expect: '100-continue', 'Content-Length': 2 } }),
            Buffer.from('hi'),
          ]),
          Buffer.from('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'),
        ];
        const special = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x00, 0x30, 0x66, 0x3b, 0x22, 0x7f, 0x80, 0xff];
        const mutation = fc.oneof(
          fc.record({
            op: fc.constant('set'),
            at: fc.nat(),
            byte: fc.oneof(fc.constantFrom(...special), fc.integer({ min: 0, max: 255 })),
          }),
          fc.record({ op: fc.constant('insert'), at: fc.nat(), byte: fc.constantFrom(...special) }),
          fc.record({ op: fc.constant('delete'), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
          fc.record({ op: fc.constant('repeat'), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
        );
        const apply = (buf, m) => {
          const at = m.at % (buf.length + 1);
          if (m.op === 'set')
            return at < buf.length
              ? Buffer.concat([buf.subarray(0, at), Buffer.from([m.byte]), buf.subarray(at + 1)])
              : buf;
          if (m.op === 'insert') return Buffer.concat([buf.subarray(0, at), Buffer.from([m.byte]), buf.subarray(at)]);
          if (m.op === 'delete') return Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.len)]);
          return Buffer.concat([buf.subarray(0, at + m.len), buf.subarray(at)]);
        };
        await fc.assert(
          fc.asyncProperty(
            fc.nat({ max: bases.length - 1 }),
            fc.array(mutation, { minLength: 1, maxLength: 4 }),
            fc.boolean(),
            async (b, ms, half) => {
              const bytes = ms.reduce(apply, bases[b]);
              const c = await connected(scope, port);
              await c.write(bytes).catch(() => {});
              if (half) c.end();
              else setTimeout(() => c.end(), 20).unref(); // then the rest of the conversation, later
              const r = await c.closedWithin(6000, `mutated input ${show(bytes)}`);
              const text = r.data.toString('latin1');
              assert.ok(text === '' || /^HTTP\/1\.[01] [1-5]\d\d /.test(text), `${show(bytes)} got ${show(r.data)}`);
              // Every status line is one of the server's own.
              for (const m of text.matchAll(/HTTP\/1\.[01] (\d{3}) /g))
                assert.ok([100, 200, 400, 408, 413, 414, 417, 431, 500, 501, 505].includes(Number(m[1])), text);
            },
          ),
          { seed: 0xbadc0de, numRuns: 150, endOnFailure: true },
        );
        await statsReach(server, (s) => s.open === 0, 'every connection closed');
        await assertNoBusyLoop(server);
      },
    );

    test(
      'partial heads are bounded server-wide: the oldest are shed, newer ones still served',
      { timeout: 20_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, inputBudgetBytes: 1 << 16, maxHeadBytes: 16 << 10 });
        const clients = [];
        const partial = Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(8000)}`, 'latin1');
        for (let i = 0; i < 12; i++) {
          const c = await connected(scope, port);
          const before = server.stats().bytesIn;
          await c.write(partial);
          await serverRead(server, before, partial.length, `partial head ${i}`);
          clients.push(c);
        }
        const s = await statsReach(server, (st) => st.headsShed > 0, 'partial heads to be shed');
        assert.ok(s.open <= 12 - s.headsShed, `open ${s.open}, shed ${s.headsShed}`);
        // The oldest went first: closed without a response.
        const first = await clients[0].closedWithin(3000, 'the oldest partial head to be shed');
        assert.equal(first.data.length, 0);
        // The newest is still there and completes.
        const last = clients[11];
        assert.equal(last.closed, false, 'the newest partial head is kept');
        await last.write('\r\nConnection: close\r\n\r\n');
        assertOk11(responsesIn((await last.closedWithin()).data)[0], { close: true });
        for (const c of clients) c.destroy();
        await statsReach(server, (st) => st.open === 0, 'all closed');
      },
    );

    test(
      'resets in the middle of pipelined responses and of bodies leave the server serving',
      { timeout: 20_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, body: 'b'.repeat(3000), maxRequests: 10_000 });
        for (let i = 0; i < 10; i++) {
          const c = await connected(scope, port);
          c.socket.write(Buffer.concat(Array.from({ length: 2000 }, () => req('/'))));
          await responsesFrom(c, 1 + i * 50);
          c.reset();
          const body = await connected(scope, port);
          await body.write(
            req('/', { method: 'POST', headers: { 'Content-Length': 100_000 }, body: 'x'.repeat(i * 1000) }),
          );
          body.reset();
        }
        await statsReach(server, (s) => s.open === 0, 'the reset connections to close');
        await assertNoBusyLoop(server);
        const c = await connected(scope, port);
        await c.write(req('/', { headers: { Connection: 'close' } }));
        assert.equal(responsesIn((await c.closedWithin()).data)[0].status, 200);
      },
    );
  });
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`input budget accounting, ${label}`, { timeout: 30_000 }, () => {
    test(
      'a head shed while it grows does not leak the budget: later partial heads are still kept',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, inputBudgetBytes: 1 << 16, maxHeadBytes: 60_000 });
        for (let round = 0; round < 3; round++) {
          // One head that alone outgrows the budget: shed, as the only partial head there is.
          const big = await connected(scope, port);
          let before = server.stats().bytesIn;
          await big.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}`);
          await serverRead(server, before, 20_000, 'the first part');
          await big.write('b'.repeat(30_000));
          const r = await big.closedWithin(3000, 'the outgrown head to be shed');
          assert.equal(r.data.length, 0);
          await statsReach(server, (s) => s.headsShed === round + 1 && s.open === 0, 'the shed');
          // Nothing is held now: a modest partial head must be kept, and answered once complete
          // (after a first request: a head read at accept is never shed, a later one may be).
          const c = await connected(scope, port);
          await c.write(req('/first'));
          await responsesFrom(c, 1);
          before = server.stats().bytesIn;
          await c.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'c'.repeat(15_000)}`);
          await serverRead(server, before, 15_000, 'the modest partial head');
          await c.write('\r\nConnection: close\r\n\r\n').catch(() => {});
          const rc = await c.closedWithin(3000, 'the modest head to be answered');
          assert.equal(
            responsesIn(rc.data).length,
            2,
            `round ${round}: shed although nothing else was held (${show(rc.data)})`,
          );
        }
        assert.equal(server.stats().headsShed, 3);
      },
    );
  });
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`chunk extensions, ${label}`, { timeout: 30_000 }, () => {
    test(
      'an endless chunk extension is refused, not read for ever (cf. CVE-2024-22019)',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        for (const handler of [undefined, (r) => ({ body: String(r.body.length) })]) {
          // Limits of 8 KiB heads and 64 KiB bodies: 1 MiB of extension is far past anything allowed.
          const { server, port } = scope.server({
            mode,
            backend,
            handler,
            maxBodyBytes: 1 << 16,
            idleTimeoutMs: 30_000,
          });
          for (const line of [`1;${'e'.repeat(1 << 20)}`, `1;e=${'v'.repeat(1 << 20)}`, `1${' '.repeat(1 << 20)}`]) {
            const c = await connected(scope, port);
            c.socket.write(
              Buffer.from(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${line}`, 'latin1'),
            );
            const r = await c.closedWithin(5000, 'the server to refuse the endless extension');
            const rs = responsesIn(r.data);
            assert.equal(rs.length, 1, show(r.data));
            assert.ok([400, 413].includes(rs[0].status), show(r.data));
          }
          await statsReach(server, (s) => s.open === 0, 'all closed');
        }
      },
    );
  });
}
