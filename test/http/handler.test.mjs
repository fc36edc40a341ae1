/**
 * The request handler, both trigger modes: what it is given, what it may answer, responses
 * in request order whatever order promises settle in, one handler at a time per connection,
 * failures (throw, reject, unsendable answers) as a 500 that closes only that connection,
 * bodies delivered intact, and clients that leave while a handler is pending.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';

import {
  VARIANTS,
  Scope,
  assertNoBusyLoop,
  chunked,
  connected,
  req,
  responsesFrom,
  responsesIn,
  run,
  serverRead,
  sha256,
  statsReach,
  waitFor,
} from './helpers.mjs';

before(async () => {
  await run('true', []);
});

/** A promise with its resolve and reject. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`handler, ${label}`, { timeout: 60_000 }, () => {
    test(
      'gets method, target, version, lower-case headers (repeats joined) and the body as a Buffer',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const seen = [];
        const { port } = scope.server({
          mode,
          backend,
          handler: (r) => (seen.push(r), { status: 201, headers: { 'X-Seen': seen.length }, body: 'ok' }),
        });
        const c = await connected(scope, port);
        await c.write(
          Buffer.concat([
            req('/p?q=1', {
              method: 'PATCH',
              headers: [
                ['X-Multi', 'a'],
                ['x-multi', 'b'],
                ['Cookie', 'c=1'],
                ['COOKIE', 'd=2'],
                ['X-Empty', ''],
              ],
              body: 'hi',
              length: true,
            }),
            req('*', { method: 'OPTIONS' }),
            Buffer.from('GET http://example.com/abs HTTP/1.0\r\nX-Old: yes\r\nConnection: keep-alive\r\n\r\n'),
            Buffer.from('BREW /pot HTTP/1.1\r\nHost: tea\r\nConnection: close\r\n\r\n'),
          ]),
        );
        const r = await c.closedWithin();
        const rs = responsesIn(r.data);
        assert.deepEqual(
          rs.map((x) => [x.version, x.status, x.reason, x.headers['x-seen'], x.body.toString()]),
          [
            ['1.1', 201, 'Created', '1', 'ok'],
            ['1.1', 201, 'Created', '2', 'ok'],
            ['1.0', 201, 'Created', '3', 'ok'],
            ['1.1', 201, 'Created', '4', 'ok'],
          ],
        );
        assert.equal(rs[2].headers.connection, 'keep-alive');
        assert.equal(rs[3].headers.connection, 'close');
        const [a, b, old, brew] = seen;
        assert.deepEqual(
          { ...a, headers: { ...a.headers }, body: a.body.toString() },
          {
            method: 'PATCH',
            target: '/p?q=1',
            version: '1.1',
            headers: { host: 'localhost', 'x-multi': 'a, b', cookie: 'c=1; d=2', 'x-empty': '', 'content-length': '2' },
            body: 'hi',
          },
        );
        assert.ok(
          Buffer.isBuffer(a.body) && Buffer.isBuffer(b.body) && b.body.length === 0,
          'body is a Buffer, empty without one',
        );
        assert.equal(b.target, '*');
        assert.equal(old.version, '1.0');
        assert.equal(old.target, 'http://example.com/abs');
        assert.equal(brew.method, 'BREW', 'any method reaches a handler');
      },
    );

    test(
      'responses leave in request order although later handlers settle first; one handler at a time per connection',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const gates = new Map(['/1', '/2', '/3'].map((p) => [p, deferred()]));
        const started = [];
        const { server, port } = scope.server({
          mode,
          backend,
          handler: async (r) => {
            started.push(r.target);
            await gates.get(r.target).promise;
            return { body: r.target };
          },
        });
        const c = await connected(scope, port);
        await c.write(Buffer.concat([req('/1'), req('/2'), req('/3', { headers: { Connection: 'close' } })]));
        await waitFor(() => started.length === 1, { message: 'the first handler' });
        // Settled in reverse: the third and second gates open before the first.
        gates.get('/3').resolve();
        gates.get('/2').resolve();
        await assertNoBusyLoop(server, { ms: 100 });
        assert.deepEqual(started, ['/1'], 'the second handler waits for the first');
        assert.equal(c.data.length, 0, 'nothing sent before the first answer');
        gates.get('/1').resolve();
        const r = await c.closedWithin();
        assert.deepEqual(
          responsesIn(r.data).map((x) => x.body.toString()),
          ['/1', '/2', '/3'],
        );
        assert.deepEqual(started, ['/1', '/2', '/3']);
      },
    );

    test(
      'handlers on different connections run concurrently; a pending one does not hold up others',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const gate = deferred();
        const { port } = scope.server({
          mode,
          backend,
          handler: async (r) => (r.target === '/wait' ? gate.promise.then(() => ({ body: 'late' })) : { body: 'now' }),
        });
        const slow = await connected(scope, port);
        await slow.write(req('/wait'));
        // Requests pipelined behind the pending one arrive meanwhile and are answered after it.
        await slow.write(Buffer.concat(Array.from({ length: 100 }, () => req('/after'))));
        for (let i = 0; i < 5; i++) {
          const other = await connected(scope, port);
          await other.write(req('/x', { headers: { Connection: 'close' } }));
          assert.equal(responsesIn((await other.closedWithin()).data)[0].body.toString(), 'now');
        }
        assert.equal(slow.data.length, 0);
        gate.resolve();
        const rs = await responsesFrom(slow, 101);
        assert.deepEqual([...new Set(rs.map((x) => x.body.toString()))], ['late', 'now']);
        assert.equal(rs[0].body.toString(), 'late');
        slow.end();
        await slow.closedWithin();
      },
    );

    test(
      'a handler that throws, rejects or answers something unsendable: 500, that connection closes, others go on',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const failures = {
          '/throw': () => {
            throw new Error('boom');
          },
          '/reject': () => Promise.reject(new Error('async boom')),
          '/reject-undefined': () => Promise.reject(undefined),
          '/null': () => null,
          '/string': () => 'hello',
          '/status': () => ({ status: 99 }),
          '/status-float': () => ({ status: 200.5 }),
          '/name': () => ({ headers: { 'Bad Name': 'x' } }),
          '/crlf': () => ({ headers: { 'X-Inject': 'a\r\nSet-Cookie: evil=1' } }),
          '/unicode': () => ({ headers: { 'X-U': '\u2603' } }),
          '/body': () => ({ body: 42 }),
        };
        const errors = [];
        const { server, port } = scope.server({
          mode,
          backend,
          handler: (r) => (failures[r.target] ?? (() => ({ body: 'fine' })))(),
        });
        server.on('handlerError', (err) => errors.push(err));
        for (const target of Object.keys(failures)) {
          const c = await connected(scope, port);
          // Pipelined behind the failing request: never answered, and no reset.
          await c.write(Buffer.concat([req(target), req('/next'), req('/next')]));
          const r = await c.closedWithin(5000, `${target} to close`);
          const rs = responsesIn(r.data);
          assert.deepEqual(
            rs.map((x) => x.status),
            [500],
            `${target}: one 500`,
          );
          assert.equal(rs[0].headers.connection, 'close');
          assert.equal(r.code, null, `${target}: ${r.code}`);
          assert.ok(!r.data.toString('latin1').includes('evil'), 'no header injection');
          const ok = await connected(scope, port);
          await ok.write(req('/ok', { headers: { Connection: 'close' } }));
          assert.equal(responsesIn((await ok.closedWithin()).data)[0].body.toString(), 'fine', `after ${target}`);
        }
        const n = Object.keys(failures).length;
        await statsReach(server, (s) => s.handlerErrors === n && s.open === 0, 'every failure counted');
        assert.equal(errors.length, n);
        assert.equal(errors[0].message, 'boom');
        assert.equal(errors[1].message, 'async boom');
      },
    );

    test(
      'the server frames the answer: handler Content-Length, Transfer-Encoding, Keep-Alive are replaced; 204/304 bodiless',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { port } = scope.server({
          mode,
          backend,
          handler: (r) => {
            if (r.target === '/204') return { status: 204, body: 'dropped' };
            if (r.target === '/304') return { status: 304, headers: { ETag: '"x"' } };
            if (r.target === '/utf8') return { body: 'h\u00e9llo \u2603' };
            if (r.target === '/list')
              return { headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-N': 7 }, body: new Uint8Array([1, 2, 3]) };
            return {
              headers: {
                'Content-Length': 999,
                'Transfer-Encoding': 'chunked',
                // A Connection: close of the handler's ends the connection: handler-edges.test.mjs.
                Connection: 'keep-alive',
                'Keep-Alive': 'x',
              },
              body: 'abc',
            };
          },
        });
        const c = await connected(scope, port);
        await c.write(Buffer.concat(['/frame', '/204', '/304', '/utf8', '/list', '/frame'].map((p) => req(p))));
        const rs = await responsesFrom(c, 6);
        assert.equal(rs[0].headers['content-length'], '3');
        assert.equal(rs[0].headers['transfer-encoding'], undefined);
        assert.equal(rs[0].headers.connection, undefined, "the handler's Connection: keep-alive is not the server's");
        assert.equal(rs[0].headers['keep-alive'], undefined);
        assert.equal(rs[0].body.toString(), 'abc');
        assert.equal(rs[1].status, 204);
        assert.equal(rs[1].headers['content-length'], undefined);
        assert.equal(rs[2].status, 304);
        assert.equal(rs[2].headers.etag, '"x"');
        assert.equal(rs[3].headers['content-length'], String(Buffer.byteLength('h\u00e9llo \u2603')));
        assert.equal(rs[3].body.toString(), 'h\u00e9llo \u2603');
        assert.deepEqual(
          rs[4].fields.filter(([n]) => n === 'Set-Cookie').map(([, v]) => v),
          ['a=1', 'b=2'],
        );
        assert.deepEqual([...rs[4].body], [1, 2, 3]);
        assert.equal(rs[5].body.toString(), 'abc', 'the connection went on after them all');
        c.end();
        await c.closedWithin();
      },
    );

    test(
      'binary bodies reach the handler intact: Content-Length and chunked, large, split across many writes',
      { timeout: 30_000 },
      async (t) => {
        const scope = new Scope(t);
        const got = [];
        const { server, port } = scope.server({
          mode,
          backend,
          handler: (r) => (got.push(r.body), { body: sha256(r.body) }),
        });
        const big = randomBytes((1 << 20) - 7);
        const mid = randomBytes(200_000);
        const parts = [];
        for (let at = 0; at < mid.length; at += 7919) parts.push(mid.subarray(at, at + 7919));
        const bodies = [
          req('/cl', { method: 'POST', body: big, length: true }),
          req('/te', { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: chunked(parts) }),
          req('/te1', {
            method: 'POST',
            headers: { 'Transfer-Encoding': 'chunked' },
            body: chunked(Array.from(mid.subarray(0, 300), (b) => Buffer.from([b]))),
          }),
        ];
        const c = await connected(scope, port);
        for (const b of bodies) {
          for (let at = 0; at < b.length; at += 65_000) {
            const piece = b.subarray(at, at + 65_000);
            const before = server.stats().bytesIn;
            await c.write(piece);
            await serverRead(server, before, piece.length);
          }
        }
        const rs = await responsesFrom(c, 3, { timeout: 15_000 });
        assert.deepEqual(
          rs.map((x) => x.body.toString()),
          [sha256(big), sha256(mid), sha256(mid.subarray(0, 300))],
        );
        assert.ok(got[0].equals(big));
        c.end();
        await c.closedWithin();
      },
    );

    test(
      'Expect: 100-continue pipelined behind a pending handler: 100 only after the earlier answer',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const gate = deferred();
        const { port } = scope.server({
          mode,
          backend,
          handler: async (r) =>
            r.target === '/first' ? gate.promise.then(() => ({ body: 'first' })) : { body: r.body },
        });
        const c = await connected(scope, port);
        await c.write(
          Buffer.concat([
            req('/first'),
            req('/second', { method: 'POST', headers: { Expect: '100-continue', 'Content-Length': 4 } }),
          ]),
        );
        await assertNoBusyLoop(scope.servers[0], { ms: 100 });
        assert.equal(c.data.length, 0, 'nothing before the first answer');
        gate.resolve();
        await waitFor(() => c.data.toString('latin1').endsWith('first' + 'HTTP/1.1 100 Continue\r\n\r\n'), {
          message: 'the first answer, then 100',
        });
        await c.write('body');
        const rs = await responsesFrom(c, 2);
        assert.deepEqual(
          rs.map((x) => x.body.toString()),
          ['first', 'body'],
        );
        c.end();
        await c.closedWithin();
      },
    );

    test(
      'close(deadline) cuts off a handler that never answers; its late answer is dropped',
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const gate = deferred();
        const { server, port } = scope.server({ mode, backend, handler: () => gate.promise });
        const c = await connected(scope, port);
        await c.write(req('/never'));
        await statsReach(server, (s) => s.requests === 1, 'the request');
        await server.close(200);
        const r = await c.closedWithin(3000, 'the cut-off');
        assert.equal(r.data.length, 0);
        assert.equal(server.stats().cutOff, 1);
        gate.resolve({ body: 'too late' });
        await new Promise((resolve) => setImmediate(resolve));
      },
    );

    test(
      'a client that leaves while its handler is pending: no busy loop, the late answer is dropped',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const gates = [];
        const { server, port } = scope.server({
          mode,
          backend,
          handler: () => {
            const g = deferred();
            gates.push(g);
            return g.promise;
          },
        });
        // Reset, or closed at once: nothing to answer, and no busy loop meanwhile.
        for (const [i, how] of [(c) => c.reset(), (c) => c.destroy()].entries()) {
          const c = await connected(scope, port);
          await c.write(req(`/gone${i}`));
          await waitFor(() => gates.length === i + 1, { message: 'the handler to start' });
          how(c);
          await c.closedWithin();
          await assertNoBusyLoop(server, { ms: 300 });
        }
        // Half-closed: it still wants its answer.
        const half = await connected(scope, port);
        await half.write(req('/half'));
        await waitFor(() => gates.length === 3, { message: 'the third handler to start' });
        half.end();
        await assertNoBusyLoop(server, { ms: 300 });
        gates[0].resolve({ body: 'late' });
        gates[1].resolve({ body: 'x'.repeat(1 << 20) });
        gates[2].resolve({ body: 'for the half-closed' });
        const r = await half.closedWithin();
        assert.equal(responsesIn(r.data)[0].body.toString(), 'for the half-closed');
        assert.equal(r.code, null);
        await statsReach(server, (s) => s.open === 0, 'the abandoned connections to close');
        await assertNoBusyLoop(server);
      },
    );
  });
}
