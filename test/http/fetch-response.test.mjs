/**
 * What a fetch app answers through `serve({ fetch })` (issue 21), in every server variant:
 * every kind of Response body, every Set-Cookie its own field line, HEAD of a streamed
 * answer (the stream cancelled), and a `fetch` that throws, rejects or resolves to something
 * that is not a Response (500 and 'handlerError'); then the light Response the adapter
 * installs, held to undici's behaviour, the API's argument checks, `fetchHandler` on a plain
 * HttpServer (what `etlt serve --app` calls), and `overrideGlobalObjects: false`.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';

import { HttpServer, fetchHandler, serve } from 'etlt';
import { HOST, Scope, VARIANTS, exchange, req, waitFor } from './helpers.mjs';
import { runNode } from '../lib/util.mjs';
import { ask, served } from './fetch-helpers.mjs';

const enc = new TextEncoder();

/** Routes answering each kind of body a Response may have. */
const KINDS = {
  '/string': () => new Response('text é'),
  '/bytes': () => new Response(enc.encode('bytes'), { status: 201, headers: { 'content-type': 'application/x-b' } }),
  '/arraybuffer': () => new Response(enc.encode('ab').buffer),
  '/blob': () => new Response(new Blob(['blob'], { type: 'text/x-blob' })),
  '/params': () => new Response(new URLSearchParams({ a: '1' })),
  '/stream': () =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(enc.encode('str'));
          c.enqueue(enc.encode('eam'));
          c.close();
        },
      }),
    ),
  '/json': () => Response.json({ ok: true }, { status: 202, headers: { 'x-a': 'b' } }),
  '/redirect': () => Response.redirect('http://h.test/there', 307),
  '/null': () => new Response(null, { status: 204 }),
  '/cookies': () => {
    const headers = new Headers({ 'content-type': 'text/plain' });
    headers.append('set-cookie', 'a=1; Path=/');
    headers.append('set-cookie', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT');
    return new Response('c', { headers });
  },
  '/cookie-pairs': () =>
    new Response('c', {
      headers: [
        ['Set-Cookie', 'x=1'],
        ['set-cookie', 'y=2'],
        ['X-Dup', 'one'],
        ['x-dup', 'two'],
      ],
    }),
  '/native': () => new (Object.getPrototypeOf(Response))('native'),
  '/mutated': () => {
    const r = new Response('m');
    r.headers.set('x-later', 'set after');
    return r;
  },
};

/** Bodies that fail the request: [route, fetch]. */
const FAILURES = {
  '/throws': () => {
    throw new Error('thrown by fetch');
  },
  '/rejects': () => Promise.reject(new Error('rejected by fetch')),
  '/object': () => ({ status: 200, body: 'not a Response' }),
  '/undefined': () => undefined,
  '/string-answer': async () => 'hello',
  '/error-response': () => Response.error(),
};
/** A stream that fails at its first pull. */
const badStream = () =>
  new Response(
    new ReadableStream({
      pull() {
        throw new Error('the stream broke');
      },
    }),
  );

for (const { mode, backend, label } of VARIANTS) {
  describe(`fetch adapter responses, ${label}`, { timeout: 60_000 }, () => {
    test('every kind of body, status and fields as undici would frame them', async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, (r) => KINDS[new URL(r.url).pathname](), { mode, backend });
      const get = async (path) => {
        const r = await fetch(`http://${HOST}:${port}${path}`, { redirect: 'manual' });
        return { status: r.status, type: r.headers.get('content-type'), body: await r.text(), headers: r.headers };
      };
      let r = await get('/string');
      assert.deepEqual([r.status, r.type, r.body], [200, 'text/plain;charset=UTF-8', 'text é']);
      r = await get('/bytes');
      assert.deepEqual([r.status, r.type, r.body], [201, 'application/x-b', 'bytes']);
      r = await get('/arraybuffer');
      assert.deepEqual([r.status, r.type, r.body], [200, null, 'ab']);
      r = await get('/blob');
      assert.deepEqual([r.type, r.body], ['text/x-blob', 'blob']);
      r = await get('/params');
      assert.deepEqual([r.type, r.body], ['application/x-www-form-urlencoded;charset=UTF-8', 'a=1']);
      r = await get('/stream');
      assert.deepEqual([r.status, r.type, r.body], [200, null, 'stream']);
      r = await get('/json');
      assert.deepEqual([r.status, r.type, r.body, r.headers.get('x-a')], [202, 'application/json', '{"ok":true}', 'b']);
      r = await get('/redirect');
      assert.deepEqual([r.status, r.headers.get('location'), r.body], [307, 'http://h.test/there', '']);
      r = await get('/null');
      assert.deepEqual([r.status, r.body], [204, '']);
      r = await get('/native');
      assert.deepEqual([r.type, r.body], ['text/plain;charset=UTF-8', 'native']);
      r = await get('/mutated');
      assert.deepEqual([r.headers.get('x-later'), r.type], ['set after', 'text/plain;charset=UTF-8']);
    });

    test('every Set-Cookie is a field line of its own; other repeats are joined', async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, (r) => KINDS[new URL(r.url).pathname](), { mode, backend });
      let r = await ask(scope, port, req('/cookies', { headers: [['Connection', 'close']] }));
      assert.deepEqual(
        r.fields.filter(([k]) => k.toLowerCase() === 'set-cookie').map(([, v]) => v),
        ['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT'],
      );
      r = await ask(scope, port, req('/cookie-pairs', { headers: [['Connection', 'close']] }));
      assert.deepEqual(
        r.fields.filter(([k]) => k.toLowerCase() === 'set-cookie').map(([, v]) => v),
        ['x=1', 'y=2'],
      );
      assert.equal(r.headers['x-dup'], 'one, two');
    });

    test('HEAD of an endless stream: the head at once, no body, the stream cancelled', async (t) => {
      const scope = new Scope(t);
      let cancelled = 0;
      const { port } = served(
        scope,
        () =>
          new Response(
            new ReadableStream({
              pull(c) {
                c.enqueue(enc.encode('data: tick\n\n'));
                return new Promise((resolve) => setTimeout(resolve, 10));
              },
              cancel() {
                cancelled++;
              },
            }),
            { headers: { 'content-type': 'text/event-stream' } },
          ),
        { mode, backend },
      );
      const r = await ask(scope, port, req('/events', { method: 'HEAD', headers: [['Connection', 'close']] }), {
        head: true,
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'text/event-stream');
      assert.equal(r.body.length, 0);
      await waitFor(() => cancelled === 1, { message: 'the stream to be cancelled' });
    });

    test("a fetch that throws, rejects or answers no Response: 500 and 'handlerError', the server goes on", async (t) => {
      const scope = new Scope(t);
      const { server, port } = served(
        scope,
        (r) =>
          (
            FAILURES[new URL(r.url).pathname] ??
            (new URL(r.url).pathname === '/bad-stream' ? badStream : null) ??
            (() => new Response('fine'))
          )(),
        { mode, backend },
      );
      const errors = [];
      server.on('handlerError', (err) => errors.push(err));
      for (const path of Object.keys(FAILURES)) {
        const r = await ask(scope, port, req(path, { headers: [['Connection', 'close']] }));
        assert.equal(r.status, 500, path);
      }
      await waitFor(() => errors.length === Object.keys(FAILURES).length, { message: 'a handlerError each' });
      const messages = errors.map((e) => e.message);
      assert.deepEqual(messages.slice(0, 2), ['thrown by fetch', 'rejected by fetch']);
      for (const m of messages.slice(2, 5)) assert.match(m, /fetch must return a Response/);
      assert.match(messages[5], /Response\.error\(\)/);
      // A body stream that fails: a 500 where the server collects it first; where it streams,
      // the head may be out already, and then the body is cut short (no last chunk) and the
      // connection closes: never a complete answer.
      const broken = await exchange(scope, port, req('/bad-stream', { headers: [['Connection', 'close']] }));
      const text = broken.data.toString('latin1');
      if (!/^HTTP\/1\.1 500 /.test(text)) {
        assert.match(text, /^HTTP\/1\.1 200 [^]*\r\ntransfer-encoding: chunked\r\n/i, text);
        assert.doesNotMatch(text, /\r\n0\r\n\r\n$/, 'no last chunk: the client knows the body is cut short');
      }
      await waitFor(() => errors.length === Object.keys(FAILURES).length + 1, { message: "the stream's handlerError" });
      assert.equal(errors.at(-1).message, 'the stream broke');
      const ok = await ask(scope, port, req('/', { headers: [['Connection', 'close']] }));
      assert.deepEqual([ok.status, ok.body.toString()], [200, 'fine']);
    });
  });
}

describe('the light Response the adapter installs, held to undici', () => {
  // serve() or fetchHandler() installs it; this file's servers have run by now, but say so.
  fetchHandler(() => new Response(''));
  const Native = Object.getPrototypeOf(Response);

  test('is the global, instanceof holds both ways, subclasses keep their own instanceof', async () => {
    assert.notEqual(Response, Native);
    assert.equal(Native.name, 'Response');
    const light = new Response('x');
    assert.ok(light instanceof Response && light instanceof Native);
    assert.ok(new Native('y') instanceof Response);
    assert.equal(Object.prototype.toString.call(light), '[object Response]');
    class Mine extends Response {
      get extra() {
        return 'mine';
      }
    }
    const mine = new Mine('sub', { status: 201 });
    assert.ok(mine instanceof Mine && mine instanceof Response);
    assert.equal(light instanceof Mine, false, 'a plain Response is not a Mine');
    assert.deepEqual([mine.extra, mine.status, await mine.text()], ['mine', 201, 'sub']);
  });

  test('status, headers, body readers, clone and the statics as undici has them', async () => {
    for (const [body, init] of [
      ['text', undefined],
      [enc.encode('bytes'), { status: 299, statusText: 'Fine', headers: { 'X-A': ' padded ' } }],
      [null, { status: 404 }],
      [new URLSearchParams({ q: '1' }), undefined],
    ]) {
      const light = new Response(body, init);
      const native = new Native(body, init);
      assert.deepEqual(
        [light.status, light.ok, light.statusText, [...light.headers], light.bodyUsed, light.type],
        [native.status, native.ok, native.statusText, [...native.headers], native.bodyUsed, native.type],
      );
      const copy = light.clone();
      assert.equal(await copy.text(), await native.clone().text());
      assert.equal(await light.text(), await native.text());
      assert.equal(light.bodyUsed, native.bodyUsed);
    }
    const json = Response.json({ a: 1 }, { status: 201 });
    assert.deepEqual(
      [json.status, json.headers.get('content-type'), await json.json()],
      [201, 'application/json', { a: 1 }],
    );
    assert.equal(Response.redirect('http://h.test/x').headers.get('location'), 'http://h.test/x');
    assert.throws(() => Response.redirect('http://h.test/x', 200), RangeError);
    assert.throws(() => Response.redirect('/relative'), TypeError);
    assert.equal(Response.error().type, 'error');
    assert.throws(() => new Response('x', { status: 204 }), TypeError);
    assert.throws(() => new Response('x', { status: 99 }), RangeError);
    assert.throws(() => Response.json(undefined), TypeError);
    const streamed = new Response(new ReadableStream({ start: (c) => (c.enqueue(enc.encode('s')), c.close()) }));
    assert.ok(streamed.body instanceof ReadableStream);
    assert.equal(await streamed.text(), 's');
  });

  test('new Request(request) and fetch(request) accept the adapter request', async (t) => {
    const scope = new Scope(t);
    const { port } = served(scope, async (request) => {
      const copy = new Request(request, { headers: { 'x-copied': 'yes' } });
      return Response.json({
        url: copy.url,
        method: copy.method,
        h: copy.headers.get('x-copied'),
        body: await copy.text(),
      });
    });
    const r = await fetch(`http://${HOST}:${port}/w?x=1`, { method: 'POST', body: 'payload' });
    assert.deepEqual(await r.json(), {
      url: `http://${HOST}:${port}/w?x=1`,
      method: 'POST',
      h: 'yes',
      body: 'payload',
    });
    // fetch(request) as a reverse proxy does: the request names the upstream in its Host.
    const { port: proxyPort } = served(scope, (request) => fetch(request));
    const res = await ask(
      scope,
      proxyPort,
      req('/w?y=2', {
        method: 'PUT',
        host: `${HOST}:${port}`,
        body: 'via',
        length: true,
        headers: [['Connection', 'close']],
      }),
    );
    assert.deepEqual(JSON.parse(res.body.toString()), {
      url: `http://${HOST}:${port}/w?y=2`,
      method: 'PUT',
      h: 'yes',
      body: 'via',
    });
  });
});

describe('serve() and fetchHandler(): the API', () => {
  test('serve: returns the running HttpServer; the listening listener gets { address, family, port }', async (t) => {
    const scope = new Scope(t);
    const { server } = served(scope, () => new Response('ok'));
    assert.ok(server instanceof HttpServer);
    const seen = [];
    const s2 = serve({ fetch: () => new Response('two'), hostname: HOST, port: 0 }, (info) => seen.push(info));
    scope.servers.push(s2);
    await once(s2, 'listening');
    assert.deepEqual(seen, [{ address: HOST, family: 'IPv4', port: s2.address().port }]);
  });

  test('wrong arguments: a TypeError naming them', () => {
    assert.throws(() => serve(), { name: 'TypeError', message: /options/ });
    assert.throws(() => serve({ port: 0 }), { name: 'TypeError', message: /fetch/ });
    assert.throws(() => serve({ fetch: () => {}, port: 0 }, 'nope'), {
      name: 'TypeError',
      message: /listeningListener/,
    });
    assert.throws(() => serve({ fetch: () => {}, port: 0, handler: () => {} }), { code: 'ERR_ETLT_UNKNOWN_OPTION' });
    assert.throws(() => serve({ fetch: () => {}, port: 0, createServer: () => {} }), {
      code: 'ERR_ETLT_UNKNOWN_OPTION',
      message: /createServer/,
    });
    assert.throws(() => fetchHandler(42), { name: 'TypeError', message: /app/ });
    assert.throws(() => fetchHandler({ fetch: 'no' }), { name: 'TypeError', message: /app/ });
    assert.throws(() => fetchHandler(() => {}, { hostname: 1 }), { name: 'TypeError', message: /hostname/ });
  });

  test("fetchHandler(app): a module's { fetch } as a plain HttpServer handler (what etlt serve --app calls)", async (t) => {
    const scope = new Scope(t);
    const app = {
      greeting: 'hello from',
      fetch(request) {
        return new Response(`${this.greeting} ${new URL(request.url).pathname}`);
      },
    };
    const { port } = scope.server({ handler: fetchHandler(app, { hostname: 'app.test' }) });
    const r = await ask(scope, port, 'GET /mod HTTP/1.0\r\n\r\n');
    assert.equal(r.body.toString(), 'hello from /mod', 'called as a method of its object');
    const { port: p2 } = scope.server({
      handler: fetchHandler((request) => new Response(request.url), { hostname: 'app.test' }),
    });
    const r2 = await ask(scope, p2, 'GET /fn HTTP/1.0\r\n\r\n');
    assert.equal(r2.body.toString(), 'http://app.test/fn');
  });

  test("importing etlt changes no global; overrideGlobalObjects: false keeps undici's, and still serves", async () => {
    const r = await runNode(`
      const before = [globalThis.Response, globalThis.Request];
      const { serve } = await import('etlt');
      const same = globalThis.Response === before[0] && globalThis.Request === before[1];
      const server = serve({ fetch: (r) => new Response('native ' + r.method, { headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2']] }), hostname: '127.0.0.1', port: 0, overrideGlobalObjects: false });
      const still = globalThis.Response === before[0];
      const res = await fetch('http://127.0.0.1:' + server.address().port + '/');
      console.log(JSON.stringify([same, still, await res.text(), res.headers.getSetCookie()]));
      await server.close();
    `);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [true, true, 'native GET', ['a=1', 'b=2']]);
  });
});
