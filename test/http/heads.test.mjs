/**
 * Request heads, both trigger modes (RFC 9112 sections 2 to 5, RFC 9110 section 7.2): Host
 * rules, malformed field lines (whitespace before the colon, control characters, invalid
 * name bytes, bare CR, obs-fold), versions (505), methods, the head size limits (414, 431),
 * and the leniencies that are allowed (empty lines before a request, LF line ends).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  VARIANTS,
  Scope,
  assertOk11,
  connected,
  exchange,
  expectRefused,
  req,
  responsesFrom,
  responsesIn,
  run,
  show,
  statsReach,
} from './helpers.mjs';

before(async () => {
  await run('true', []);
});

const raw = (s) => Buffer.from(s, 'latin1');

for (const { mode, backend, label } of VARIANTS) {
  describe(`heads, ${label}`, { timeout: 60_000 }, () => {
    test("an error answer carries today's Date in either version (the seed's 1996 date is its 200's alone)", async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend });
      for (const request of [
        'GET / HTTP/1.0\r\nBad Field\r\n\r\n',
        'GET / HTTP/2.0\r\n\r\n',
        'GET / HTTP/1.1\r\n\r\n',
      ]) {
        const r = await exchange(scope, port, raw(request));
        const [res] = responsesIn(r.data);
        assert.ok(res.status >= 400, show(r.data));
        const date = Date.parse(res.headers.date);
        assert.ok(Math.abs(date - Date.now()) < 60_000, `${JSON.stringify(request)}: Date ${res.headers.date}`);
      }
    });

    test('HTTP/1.1 needs exactly one valid Host; HTTP/1.0 needs none', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend });
      const bad = [
        ['GET / HTTP/1.1\r\n\r\n', 'no Host'],
        ['GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n', 'two Hosts'],
        ['GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n', 'two Hosts, different case'],
        ['GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 'a space in Host'],
        ['GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 'a slash in Host'],
        ['GET / HTTP/1.1\r\nHost: a@b\r\n\r\n', 'userinfo in Host'],
      ];
      for (const [request, what] of bad) {
        const res = await expectRefused(scope, port, request, 400, what);
        assert.equal(res.version, '1.1', `${what}: answered in the request's version`);
      }
      for (const ok of [
        'GET / HTTP/1.1\r\nHost:\r\n\r\n',
        'GET / HTTP/1.1\r\nHOST: [::1]:8080\r\n\r\n',
        'GET / HTTP/1.0\r\n\r\n',
      ]) {
        const c = await connected(scope, port);
        await c.write(ok);
        const rs = await responsesFrom(c, 1);
        assert.equal(rs[0].status, 200, `${JSON.stringify(ok)}: ${show(c.data)}`);
        c.end();
        await c.closedWithin();
      }
      await statsReach(server, (s) => s.open === 0 && s.rejected === bad.length, 'all closed');
    });

    test(
      'two Host fields are a 400 in HTTP/1.0 too (RFC 9112 section 3.2: any request message)',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { port } = scope.server({ mode, backend });
        await expectRefused(
          scope,
          port,
          'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n',
          400,
          'HTTP/1.0 with two Hosts',
        );
      },
    );

    test('malformed field lines: 400 and close', { timeout: 15_000 }, async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend });
      const cases = [
        ['Host : x', 'a space before the colon'],
        ['Host\t: x', 'a tab before the colon'],
        ['Transfer-Encoding : chunked', 'TE with a space before the colon'],
        [' X-Lead: a', 'obs-fold as the first field'],
        ['X-A: a\r\n b', 'obs-fold'],
        ['X-A: a\r\n\tb', 'obs-fold with a tab'],
        ['X(A): b', 'a delimiter in the name'],
        ['X@A: b', 'an @ in the name'],
        ['X"A: b', 'a quote in the name'],
        ['X\xe9A: b', 'obs-text in the name'],
        [': novalue', 'an empty name'],
        ['NoColon', 'no colon'],
        ['X-A: a\rb', 'a bare CR in a value'],
      ];
      for (const [line, what] of cases) {
        await expectRefused(scope, port, raw(`GET / HTTP/1.1\r\nHost: x\r\n${line}\r\n\r\n`), 400, what);
      }
      const bareCr = await expectRefused(
        scope,
        port,
        raw('GET / HTTP/1.1\rHost: x\r\n\r\n'),
        400,
        'a bare CR after the request line',
      );
      assert.equal(bareCr.version, '1.1', 'the refusal of an HTTP/1.1 request line says HTTP/1.1');
      await expectRefused(
        scope,
        port,
        raw('GET /\r HTTP/1.1\r\nHost: x\r\n\r\n'),
        400,
        'a bare CR in the request line',
      );
    });

    test('control characters (NUL too) in a text head: 400 and close', { timeout: 15_000 }, async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend });
      // Not binary input: a request line and fields, one control byte among them (RFC 9110
      // section 5.5: invalid; the project's rule, as nginx's, is 400).
      const cases = [
        ['GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n', 'SOH in a value'],
        ['GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x1fb\r\n\r\n', 'US in a value'],
        ['GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n', 'DEL in a value'],
        ['GET / HTTP/1.1\r\nHost: x\r\nX-\x0bA: b\r\n\r\n', 'VT in a name'],
        ['GET /\x1b[31m HTTP/1.1\r\nHost: x\r\n\r\n', 'ESC in the target'],
        ['GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n', 'NUL in a value'],
        ['GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n', 'NUL in the target'],
      ];
      for (const [request, what] of cases) await expectRefused(scope, port, raw(request), 400, what);
    });

    test(
      'binary bytes where a request should begin close the connection without a response',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend });
        // The start of a TLS ClientHello, and a NUL before any method: nothing an HTTP client sends.
        const cases = ['\x16\x03\x01\x02\0', '\0GET / HTTP/1.1\r\nHost: x\r\n\r\n'];
        for (const request of cases) {
          const c = await connected(scope, port);
          await c.write(raw(request));
          const r = await c.closedWithin(3000, `${JSON.stringify(request)} to close the connection`);
          assert.equal(r.data.length, 0, `${JSON.stringify(request)}: ${show(r.data)}`);
        }
        await statsReach(server, (s) => s.open === 0 && s.aborted === cases.length, 'all aborted');
      },
    );

    test(
      'versions and methods: 505 for HTTP/2 and 3, 400 for a lower-case method, 501 for unknown methods',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const { port } = scope.server({ mode, backend });
        for (const request of [
          'GET / HTTP/2.0\r\nHost: x\r\n\r\n',
          'GET / HTTP/3.0\r\nHost: x\r\n\r\n',
          'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
          'GET / HTTP/0.9\r\n\r\n',
        ]) {
          await expectRefused(scope, port, request, 505, JSON.stringify(request));
        }
        for (const request of [
          'get / HTTP/1.1\r\nHost: x\r\n\r\n',
          'Get / HTTP/1.1\r\nHost: x\r\n\r\n',
          'GET / http/1.1\r\nHost: x\r\n\r\n',
          'GET / HTTP/1.10\r\nHost: x\r\n\r\n',
          'GET / HTTP/1.1 \r\nHost: x\r\n\r\n',
          'GET  / HTTP/1.1\r\nHost: x\r\n\r\n',
          'GET / HTTP/1\r\nHost: x\r\n\r\n',
        ]) {
          await expectRefused(scope, port, request, 400, JSON.stringify(request));
        }
        await expectRefused(scope, port, 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'an unknown method');
        await expectRefused(scope, port, 'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n', 501, 'CONNECT');
        // Known methods and target forms get the fixed response; HTTP/1.2 is answered as 1.1.
        const c = await connected(scope, port);
        const fine = ['OPTIONS * HTTP/1.1', 'GET http://x/abs?q HTTP/1.1', 'DELETE /d HTTP/1.1', 'GET / HTTP/1.2'];
        await c.write(fine.map((l) => `${l}\r\nHost: x\r\n\r\n`).join(''));
        const rs = await responsesFrom(c, fine.length);
        for (const [i, res] of rs.entries()) assertOk11(res, { what: fine[i] });
        c.end();
        await c.closedWithin();
      },
    );

    test(
      'the head limits: a request line over maxHeadBytes is 414, a head over it 431, each inclusive',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, maxHeadBytes: 1024 });
        const line = (n) => `GET /${'a'.repeat(n - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
        assert.equal(line(1024).length, 1024);
        const headOf = (n) => {
          const start = 'GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ';
          return `${start}${'p'.repeat(n - start.length - 4)}\r\n\r\n`;
        };
        assert.equal(headOf(1024).length, 1024);
        await expectRefused(scope, port, `${line(1025)}\r\nHost: x\r\n\r\n`, 414, 'a 1025-byte request line');
        await expectRefused(scope, port, `${line(3000)}`, 414, 'an unterminated long request line');
        await expectRefused(scope, port, headOf(1025), 431, 'a 1025-byte head');
        await expectRefused(
          scope,
          port,
          `GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'q'.repeat(2000)}`,
          431,
          'an unterminated long head',
        );
        // A later pipelined request over the limit: the earlier ones are answered first.
        let c = await connected(scope, port);
        await c.write(Buffer.concat([req('/1'), req('/2'), raw(headOf(1100))]));
        let r = await c.closedWithin();
        let rs = responsesIn(r.data);
        assert.deepEqual(
          rs.map((x) => x.status),
          [200, 200, 431],
        );
        // Exactly at the limit is fine.
        c = await connected(scope, port);
        await c.write(headOf(1024));
        assertOk11((await responsesFrom(c, 1))[0]);
        c.end();
        await c.closedWithin();
        // 101 fields is too many, whatever their size.
        const many = `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 100 }, (_, i) => `A${i}:\r\n`).join('')}\r\n`;
        const big = scope.server({ mode, backend });
        await expectRefused(scope, big.port, many, 431, '101 fields');
        await statsReach(server, (s) => s.open === 0, 'all closed');
      },
    );

    test('empty lines before a request are skipped; LF line ends are accepted', { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend });
      const c = await connected(scope, port);
      const requests = [
        '\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n',
        '\n\nGET /b HTTP/1.1\nHost: x\n\n',
        '\r\n\nGET /c HTTP/1.1\r\nHost: x\n\r\n',
      ];
      for (const [i, r] of requests.entries()) {
        await c.write(r);
        assertOk11((await responsesFrom(c, i + 1))[i], { what: JSON.stringify(r) });
      }
      // Empty lines alone, then nothing: no response, and the connection stays.
      await c.write('\r\n\r\n');
      await statsReach(server, (s) => s.bytesIn >= requests.join('').length + 4, 'the empty lines to be read');
      await c.write('GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const r = await c.closedWithin();
      assert.equal(responsesIn(r.data).length, 4);
    });
  });
}
