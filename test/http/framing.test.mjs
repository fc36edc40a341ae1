/**
 * Message framing, both trigger modes (RFC 9112 section 6): Content-Length and chunked
 * bodies consumed and never read as requests, the framing errors that must be refused and
 * close the connection (400, 413, 501), `Expect: 100-continue` and other expectations, and
 * HEAD. Each rule with the fixed response and with a handler.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  VARIANTS,
  Scope,
  assertOk11,
  chunked,
  connected,
  expectRefused,
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

/** Echoes the body's length and bytes. */
function echo(r) {
  return { headers: { 'X-Target': r.target }, body: Buffer.concat([Buffer.from(`${r.body.length}:`), r.body]) };
}

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const post = (headers, body = '') => req('/', { method: 'POST', headers, body });

for (const { mode, backend, label } of VARIANTS) {
  for (const handler of [undefined, echo]) {
    const kind = handler ? 'handler' : 'fixed response';
    describe(`framing, ${label}, ${kind}`, { timeout: 60_000 }, () => {
      test(
        'bodies that look like requests are consumed, never answered; the connection goes on',
        { timeout: 10_000 },
        async (t) => {
          const scope = new Scope(t);
          const { server, port } = scope.server({ mode, backend, handler });
          const bodies = [
            post({ 'Content-Length': SMUGGLED.length }, SMUGGLED),
            post({ 'Content-Length': `${SMUGGLED.length}, ${SMUGGLED.length}` }, SMUGGLED),
            post({ 'Transfer-Encoding': 'chunked' }, chunked([SMUGGLED.slice(0, 10), SMUGGLED.slice(10)])),
            post({ 'Transfer-Encoding': 'chunked' }, chunked([SMUGGLED], { trailer: 'X-Trailer: GET / HTTP/1.1\r\n' })),
            post({ 'Transfer-Encoding': 'Chunked' }, '3;name=value;quoted="a\\"b"\r\nabc\r\n0\r\n\r\n'),
            post({ 'Content-Length': 0 }),
          ];
          const c = await connected(scope, port);
          for (const [i, b] of bodies.entries()) {
            await c.write(b);
            const rs = await responsesFrom(c, i + 1);
            assert.equal(rs[i].status, 200, `body ${i}: ${show(c.data)}`);
          }
          await c.write(req('/after', { headers: { Connection: 'close' } }));
          const r = await c.closedWithin();
          const rs = responsesIn(r.data);
          assert.equal(rs.length, bodies.length + 1, `no response to a body: ${show(r.data, 3000)}`);
          if (handler) {
            assert.deepEqual(
              rs.map((x) => x.body.toString()),
              [
                `${SMUGGLED.length}:${SMUGGLED}`,
                `${SMUGGLED.length}:${SMUGGLED}`,
                `${SMUGGLED.length}:${SMUGGLED}`,
                `${SMUGGLED.length}:${SMUGGLED}`,
                '3:abc',
                '0:',
                '0:',
              ],
            );
          } else {
            for (const x of rs.slice(0, -1)) assertOk11(x);
          }
          assert.equal(server.stats().requests, bodies.length + 1);
        },
      );

      test(
        'a body in many small writes is read whole, and the next request after it',
        { timeout: 10_000 },
        async (t) => {
          const scope = new Scope(t);
          const { server, port } = scope.server({ mode, backend, handler });
          const body = Buffer.from(Array.from({ length: 600 }, (_, i) => i & 0xff));
          for (const whole of [
            post({ 'Content-Length': body.length }, body),
            post(
              { 'Transfer-Encoding': 'chunked' },
              chunked([body.subarray(0, 1), body.subarray(1, 300), body.subarray(300)]),
            ),
          ]) {
            const c = await connected(scope, port);
            const all = Buffer.concat([whole, req('/next', { headers: { Connection: 'close' } })]);
            for (let at = 0; at < all.length; at += 97) {
              const part = all.subarray(at, at + 97);
              const before = server.stats().bytesIn;
              await c.write(part);
              await serverRead(server, before, part.length);
            }
            const rs = responsesIn((await c.closedWithin()).data);
            assert.equal(rs.length, 2);
            if (handler) assert.ok(rs[0].body.equals(Buffer.concat([Buffer.from('600:'), body])), 'the body intact');
            assert.equal(rs[1].headers.connection, 'close');
          }
        },
      );

      test(
        'ambiguous or broken Content-Length / Transfer-Encoding: 400, 501, close',
        { timeout: 15_000 },
        async (t) => {
          const scope = new Scope(t);
          const { server, port } = scope.server({ mode, backend, handler });
          const cases = [
            [
              post(
                [
                  ['Content-Length', '5'],
                  ['Transfer-Encoding', 'chunked'],
                ],
                '0\r\n\r\n',
              ),
              400,
              'CL and TE',
            ],
            [
              post(
                [
                  ['Transfer-Encoding', 'chunked'],
                  ['Content-Length', '5'],
                ],
                '0\r\n\r\n',
              ),
              400,
              'TE and CL',
            ],
            [
              post(
                [
                  ['Content-Length', '5'],
                  ['Content-Length', '6'],
                ],
                'abcdef',
              ),
              400,
              'differing duplicates',
            ],
            [post({ 'Content-Length': '5, 6' }, 'abcdef'), 400, 'a list of differing lengths'],
            [post({ 'Content-Length': '-1' }), 400, 'negative'],
            [post({ 'Content-Length': '+5' }, 'abcde'), 400, 'signed'],
            [post({ 'Content-Length': 'abc' }), 400, 'non-numeric'],
            [post({ 'Content-Length': '0x10' }), 400, 'hex'],
            [post({ 'Content-Length': '1e3' }), 400, 'exponent'],
            [post({ 'Content-Length': '5 5' }, 'abcde'), 400, 'two numbers'],
            [post({ 'Content-Length': '' }), 400, 'empty'],
            [post({ 'Content-Length': '99999999999999999999999' }), 400, 'overflow'],
            [post({ 'Content-Length': '18446744073709551621' }), 400, '2**64 + 5'],
            [post({ 'Transfer-Encoding': 'gzip' }), 501, 'gzip'],
            [post({ 'Transfer-Encoding': 'gzip, chunked' }, '0\r\n\r\n'), 501, 'gzip, chunked'],
            [post({ 'Transfer-Encoding': 'chunked, gzip' }), 400, 'chunked not last'],
            [
              post(
                [
                  ['Transfer-Encoding', 'chunked'],
                  ['Transfer-Encoding', 'chunked'],
                ],
                '0\r\n\r\n',
              ),
              400,
              'chunked twice',
            ],
            [post({ 'Transfer-Encoding': '' }), 400, 'empty TE'],
            [
              req('/', {
                method: 'POST',
                version: '1.0',
                host: null,
                headers: { 'Transfer-Encoding': 'chunked' },
                body: '0\r\n\r\n',
              }),
              400,
              'TE in HTTP/1.0',
            ],
          ];
          for (const [request, status, what] of cases) await expectRefused(scope, port, request, status, what);
          const s = await statsReach(server, (st) => st.open === 0, 'all closed');
          assert.equal(s.rejected, cases.length);
        },
      );

      test(
        'a body over maxBodyBytes: 413 and close, without a reset while the client still sends',
        { timeout: 15_000 },
        async (t) => {
          const scope = new Scope(t);
          const { server, port } = scope.server({ mode, backend, handler });
          // The default limit, 1 MiB: exactly that is fine, one byte more is not.
          const mib = Buffer.alloc(1 << 20, 0x61);
          let c = await connected(scope, port);
          await c.write(post({ 'Content-Length': mib.length }, mib));
          const ok = await responsesFrom(c, 1, { timeout: 10_000 });
          assert.equal(ok[0].status, 200);
          if (handler)
            assert.equal(ok[0].body.length, `${mib.length}:`.length + mib.length, 'the whole MiB reached the handler');
          c.end();
          await c.closedWithin();
          const over = Buffer.alloc((1 << 20) + 1, 0x62);
          c = await connected(scope, port);
          c.socket.write(post({ 'Content-Length': over.length }, over));
          let r = await c.closedWithin(10_000, 'the 413');
          assert.equal(r.code, null, `the client saw ${r.code}`);
          let rs = responsesIn(r.data);
          assert.equal(rs.length, 1);
          assert.equal(rs[0].status, 413);
          assert.equal(rs[0].headers.connection, 'close');
          // Chunked: the decoded size counts.
          const small = await scope.server({ mode, backend, handler, maxBodyBytes: 1000 });
          c = await connected(scope, small.port);
          c.socket.write(post({ 'Transfer-Encoding': 'chunked' }, chunked(['a'.repeat(600), 'b'.repeat(401)])));
          r = await c.closedWithin(5000, 'the chunked 413');
          rs = responsesIn(r.data);
          assert.deepEqual(
            rs.map((x) => x.status),
            [413],
            `one response, a 413: ${show(r.data, 600)}`,
          );
          assert.equal(r.code, null);
          await expectRefused(
            scope,
            small.port,
            post({ 'Transfer-Encoding': 'chunked' }, chunked(['a'.repeat(1001)])),
            413,
            'one chunk over',
          );
          const fine = await connected(scope, small.port);
          await fine.write(post({ 'Transfer-Encoding': 'chunked' }, chunked(['a'.repeat(600), 'b'.repeat(400)])));
          assert.equal((await responsesFrom(fine, 1))[0].status, 200, 'exactly the limit');
          fine.end();
          await fine.closedWithin();
          await statsReach(server, (s) => s.open === 0, 'all closed');
        },
      );

      test('malformed chunked framing: exactly one response, a 400, and close', { timeout: 15_000 }, async (t) => {
        const scope = new Scope(t);
        const { port } = scope.server({ mode, backend, handler });
        const te = { 'Transfer-Encoding': 'chunked' };
        const cases = [
          ['fffffffffffffffff\r\n', 'chunk-size overflow'],
          ['10000000000000\r\n', '2**52, past the exact sizes'],
          ['zz\r\n', 'not hex'],
          ['\r\n', 'empty size'],
          ['-1\r\n', 'negative'],
          ['3\r\nabcX\r\n0\r\n\r\n', 'no CRLF after the data'],
          ['3\r\nabc\n0\r\n\r\n', 'bare LF after the data'],
          ['3\nabc\r\n0\r\n\r\n', 'bare LF after the size'],
          ['0\n\r\n', 'bare LF last chunk'],
          ['3;=x\r\nabc\r\n0\r\n\r\n', 'extension without a name'],
          ['3;a="b\r\nabc\r\n0\r\n\r\n', 'unterminated quoted extension'],
          ['3;a=b c\r\nabc\r\n0\r\n\r\n', 'junk after an extension value'],
          ['3 x\r\nabc\r\n0\r\n\r\n', 'junk after the size'],
          ['0\r\nX-Trailer: a\nb\r\n\r\n', 'bare LF in a trailer'],
          ['0\r\n: novalue\r\n\r\n', 'trailer without a name'],
          ['0\r\n\rX', 'bad final CRLF'],
        ];
        for (const [body, what] of cases) {
          const c = await connected(scope, port);
          await c.write(Buffer.concat([post(te, body), Buffer.from(SMUGGLED)]));
          const r = await c.closedWithin(5000, what);
          const rs = responsesIn(r.data);
          assert.deepEqual(
            rs.map((x) => x.status),
            [400],
            `${what}: want one 400, got ${show(r.data, 800)}`,
          );
          assert.equal(rs[0].headers.connection, 'close', what);
          assert.equal(r.code, null, `${what}: ${r.code}`);
        }
      });

      test(
        'HEAD: the headers GET would get, no body, the next pipelined response right after',
        { timeout: 10_000 },
        async (t) => {
          const scope = new Scope(t);
          const { port } = scope.server({ mode, backend, handler });
          const c = await connected(scope, port);
          await c.write(
            Buffer.concat([
              req('/x'),
              req('/x', { method: 'HEAD' }),
              req('/x', { method: 'HEAD' }),
              req('/x', { headers: { Connection: 'close' } }),
            ]),
          );
          const r = await c.closedWithin();
          const rs = responsesIn(r.data, { isHead: (i) => i === 1 || i === 2 });
          assert.equal(rs.length, 4, show(r.data, 1000));
          const noDate = (x) =>
            x.raw
              .subarray(0, x.raw.length - x.body.length)
              .toString('latin1')
              .replace(/^Date: .*$/m, '');
          assert.equal(noDate(rs[1]), noDate(rs[0]), "HEAD's head is GET's");
          assert.equal(noDate(rs[2]), noDate(rs[0]));
          assert.ok(rs[0].body.length > 0);
          assert.equal(rs[3].body.toString(), rs[0].body.toString());
        },
      );
    });
  }

  describe(`Expect, ${label}`, { timeout: 30_000 }, () => {
    test(
      '100-continue with a handler: 100 before the body is read, then the answer',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, handler: echo });
        const c = await connected(scope, port);
        for (const te of [false, true]) {
          const n = te ? 2 : 1;
          const headers = te
            ? { Expect: '100-continue', 'Transfer-Encoding': 'chunked' }
            : { Expect: '100-Continue', 'Content-Length': 5 };
          await c.write(post(headers));
          await statsReach(server, (s) => s.requests === n, 'the head to be read');
          await responsesFrom(c, n - 1);
          const interim = 'HTTP/1.1 100 Continue\r\n\r\n';
          await statsReach(server, () => c.data.toString('latin1').split(interim).length === n + 1, 'the 100 Continue');
          assert.equal(responsesIn(c.data).length, n - 1, 'no final response before the body');
          await c.write(te ? chunked(['hel', 'lo']) : 'hello');
          const rs = await responsesFrom(c, n);
          assert.equal(rs[n - 1].interim.length, 1, 'one 100 before the answer');
          assert.equal(rs[n - 1].body.toString(), '5:hello');
        }
        c.end();
        await c.closedWithin();
      },
    );

    test(
      'the fixed response answers at once, after a 100; HTTP/1.0 ignores Expect; others get 417',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const fixed = scope.server({ mode, backend });
        const c = await connected(scope, fixed.port);
        await c.write(post({ Expect: '100-continue', 'Content-Length': 5 }));
        const rs = await responsesFrom(c, 1);
        // Without the 100, a client may skip the body that the server still expects.
        assert.equal(rs[0].interim.length, 1, 'a 100 before the answer');
        assertOk11(rs[0]);
        await c.write('hello');
        await c.write(req('/after'));
        assertOk11((await responsesFrom(c, 2))[1], { what: 'the request after the body' });
        // A chunked body is checked before the fixed answer: a client waiting gets 100 first.
        await c.write(post({ Expect: '100-continue', 'Transfer-Encoding': 'chunked' }));
        await statsReach(
          fixed.server,
          () => c.data.toString('latin1').split('HTTP/1.1 100 Continue\r\n\r\n').length === 3,
          'the second 100 Continue',
        );
        await c.write(chunked(['hello']));
        const last = await responsesFrom(c, 3);
        assert.equal(last[2].interim.length, 1);
        assertOk11(last[2]);
        c.end();
        await c.closedWithin();
        const handled = scope.server({ mode, backend, handler: echo });
        const old = await connected(scope, handled.port);
        await old.write(
          req('/', {
            method: 'POST',
            version: '1.0',
            host: null,
            headers: { Expect: '100-continue', 'Content-Length': 2 },
            body: 'hi',
          }),
        );
        const r = await old.closedWithin();
        assert.equal(responsesIn(r.data)[0].body.toString(), '2:hi');
        assert.ok(!r.data.toString('latin1').includes('100 Continue'));
        for (const port of [fixed.port, handled.port]) {
          for (const value of ['200-ok', '100-continue-please', 'foo=bar']) {
            await expectRefused(
              scope,
              port,
              post({ Expect: value, 'Content-Length': 2 }, 'hi'),
              417,
              `Expect: ${value}`,
            );
          }
        }
      },
    );
  });
}
