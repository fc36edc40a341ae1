/**
 * A handler's answer read and framed whatever it is made of (issue 18, items 2 and 8): a
 * getter that throws is a 500 for that request only, never the process's end; headers
 * given as a Headers, a Map or an iterable of pairs are sent; any other non-object is a 500
 * and 'handlerError'. Every server variant.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, req, responsesFrom, run, statsReach } from './helpers.mjs';

before(async () => {
  await run('true', []);
});

/** Uncaught exceptions and unhandled rejections while `fn` runs (the test runner would only report them late). */
async function withoutEscapes(fn) {
  const escaped = [];
  const onError = (err) => escaped.push(err);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  try {
    await fn();
    // A rejection is reported after the microtasks of the turn that made it.
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  }
  assert.deepEqual(
    escaped.map((e) => String(e)),
    [],
    'nothing escaped the server',
  );
}

const throwing = {
  '/body-sync': () => ({
    get body() {
      return JSON.stringify({ n: 1n });
    },
  }),
  '/status-async': async () => ({
    get status() {
      throw new Error('status getter');
    },
  }),
  '/headers-getter': () => ({
    get headers() {
      throw new Error('headers getter');
    },
  }),
  '/then-getter': () => ({
    get then() {
      throw new Error('then getter');
    },
  }),
  '/header-value-getter': () => ({
    headers: {
      get 'x-a'() {
        throw new Error('field getter');
      },
    },
  }),
  '/iterator-throws': () => ({
    headers: {
      *[Symbol.iterator]() {
        yield ['x-a', '1'];
        throw new Error('iterator');
      },
    },
  }),
  '/headers-string': () => ({ headers: 'abc', body: 'x' }),
  '/headers-number': async () => ({ headers: 42, body: 'x' }),
  '/headers-not-pairs': () => ({ headers: [['x-a', '1', 'extra']], body: 'x' }),
  '/headers-function': () => ({ headers: () => ({}), body: 'x' }),
};

function headersOf(res) {
  return res.fields.map(([n, v]) => `${n.toLowerCase()}: ${v}`);
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`handler answers, ${label}`, { timeout: 30_000 }, () => {
    test('an answer that throws while read or framed is a 500 for that request only', async (t) => {
      await withoutEscapes(async () => {
        const scope = new Scope(t);
        const errors = [];
        const { server, port } = scope.server({
          mode,
          backend,
          handler: (r) => (throwing[r.target] ?? (() => ({ body: `fine ${r.target}` })))(),
        });
        server.on('handlerError', (err) => errors.push(err));
        // A connection that stays open throughout: the others' failures must not touch it.
        const bystander = await connected(scope, port);
        await bystander.write(req('/before'));
        await responsesFrom(bystander, 1);
        for (const target of Object.keys(throwing)) {
          const c = await connected(scope, port);
          await c.write(req(target));
          const [res] = await responsesFrom(c, 1);
          assert.equal(res.status, 500, target);
          assert.equal(res.headers.connection, 'close', target);
        }
        await statsReach(server, (s) => s.handlerErrors === Object.keys(throwing).length, 'every failure counted');
        assert.equal(errors.length, Object.keys(throwing).length, "one 'handlerError' per failed answer");
        assert.ok(errors.every((e) => e instanceof Error));
        await bystander.write(req('/after'));
        const rs = await responsesFrom(bystander, 2);
        assert.equal(rs[1].body.toString(), 'fine /after');
      });
    });

    test('HEAD answered without a body: no false Content-Length: 0; a declared one is kept; the connection goes on', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        handler: (r) =>
          r.target === '/declared'
            ? { headers: { 'content-type': 'text/plain', 'content-length': '42' }, body: null }
            : r.target === '/text'
              ? { body: 'hello' }
              : { headers: { 'content-type': 'text/plain' }, body: null },
      });
      const c = await connected(scope, port);
      // Pipelined: a HEAD response has no body whatever its fields say, so the next one parses.
      await c.write(
        req('/none', { method: 'HEAD' }) +
          req('/declared', { method: 'HEAD' }) +
          req('/text', { method: 'HEAD' }) +
          req('/after'),
      );
      const rs = await responsesFrom(c, 4, { isHead: (i) => i < 3 });
      assert.equal(rs[0].status, 200);
      assert.equal(rs[0].headers['content-length'], undefined, 'no length the GET may not have');
      assert.equal(rs[1].headers['content-length'], '42', "the handler's declared length");
      assert.equal(rs[2].headers['content-length'], '5', 'the length of the body it gave');
      assert.equal(rs[3].status, 200);
      assert.equal(rs[3].headers['content-length'], '0', 'a GET without a body says 0');
    });

    test('headers as a Headers, a Map, an array of pairs or a generator are sent', async (t) => {
      const scope = new Scope(t);
      const answers = {
        '/headers': () => {
          const h = new Headers({ 'Content-Type': 'application/json' });
          h.append('Set-Cookie', 'a=1');
          h.append('Set-Cookie', 'b=2');
          return { headers: h, body: '{}' };
        },
        '/map': () => ({
          headers: new Map([
            ['X-One', '1'],
            ['X-List', ['a', 2]],
          ]),
          body: 'm',
        }),
        '/pairs': () => ({
          headers: [
            ['X-P', 'p1'],
            ['X-P', 'p2'],
          ],
          body: 'p',
        }),
        '/generator': () => ({
          headers: (function* () {
            yield ['X-G', 'g'];
          })(),
          body: 'g',
        }),
      };
      const { port } = scope.server({ mode, backend, handler: (r) => answers[r.target]() });
      const c = await connected(scope, port);
      await c.write(Buffer.concat(Object.keys(answers).map((target) => req(target))));
      const [h, m, p, g] = await responsesFrom(c, 4);
      assert.equal(h.status, 200);
      assert.ok(headersOf(h).includes('content-type: application/json'), headersOf(h).join('; '));
      assert.deepEqual(
        headersOf(h).filter((l) => l.startsWith('set-cookie')),
        ['set-cookie: a=1', 'set-cookie: b=2'],
        'one field line per cookie',
      );
      assert.equal(h.body.toString(), '{}');
      assert.equal(m.headers['x-one'], '1');
      assert.deepEqual(
        headersOf(m).filter((l) => l.startsWith('x-list')),
        ['x-list: a', 'x-list: 2'],
      );
      assert.deepEqual(
        headersOf(p).filter((l) => l.startsWith('x-p')),
        ['x-p: p1', 'x-p: p2'],
      );
      assert.equal(g.headers['x-g'], 'g');
      for (const r of [h, m, p, g]) assert.equal(r.headers['content-length'], String(r.body.length));
    });

    test('a Headers given framing fields is framed by the server all the same', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        handler: () => ({
          headers: new Headers({ 'Content-Length': '999', 'Transfer-Encoding': 'chunked' }),
          body: 'four',
        }),
      });
      const c = await connected(scope, port);
      await c.write(Buffer.concat([req('/'), req('/')]));
      const rs = await responsesFrom(c, 2);
      for (const r of rs) {
        assert.equal(r.headers['content-length'], '4');
        assert.equal(r.headers['transfer-encoding'], undefined);
        assert.equal(r.body.toString(), 'four');
      }
    });
  });
}
