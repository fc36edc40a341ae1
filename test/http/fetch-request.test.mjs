/**
 * The web `Request` a fetch app gets from `serve({ fetch })` (issue 21), in every server
 * variant: `request.url` for odd targets and Host fields (as `new Request(url).url` would
 * say it), duplicate fields and `Headers` iteration order, non-ASCII in query strings, the
 * body as text, JSON, bytes, a form or a ReadableStream (read once), `instanceof Request`,
 * and a plain fetch handler with no framework.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { HOST, Scope, VARIANTS, chunked, req } from './helpers.mjs';
import { ask, served } from './fetch-helpers.mjs';

/** A plain fetch handler that answers with what it saw of the request, as JSON. */
async function describeRequest(request) {
  const url = new URL(request.url);
  return Response.json({
    isRequest: request instanceof Request,
    method: request.method,
    url: request.url,
    query: Object.fromEntries(url.searchParams),
    headers: [...request.headers],
    signal: request.signal instanceof AbortSignal && !request.signal.aborted,
  });
}

/** `request.url` for raw requests: [what is sent, the URL the app must see]. */
const URLS = [
  ['GET /a/./b/../c?x=1 HTTP/1.1\r\nHost: Example.COM:80\r\n', 'http://example.com/a/c?x=1'],
  ['GET /sp%20ace/%7e?q=%zz HTTP/1.1\r\nHost: h.test:8080\r\n', 'http://h.test:8080/sp%20ace/%7e?q=%zz'],
  ['GET //double//slash HTTP/1.1\r\nHost: h.test\r\n', 'http://h.test//double//slash'],
  ['GET http://other.test:81/abs?q HTTP/1.1\r\nHost: ignored.test\r\n', 'http://other.test:81/abs?q'],
  ['GET HTTP://Other.TEST:80/Up HTTP/1.1\r\nHost: h.test\r\n', 'http://other.test/Up'],
  ['OPTIONS * HTTP/1.1\r\nHost: h.test\r\n', 'http://h.test/*'],
  ["GET /it's?a='b' HTTP/1.1\r\nHost: h.test\r\n", "http://h.test/it's?a=%27b%27"],
  ['GET / HTTP/1.1\r\nHost: [::1]:8080\r\n', 'http://[::1]:8080/'],
  ['GET /ip HTTP/1.1\r\nHost: 127.1\r\n', 'http://127.0.0.1/ip'],
  ['GET /p HTTP/1.1\r\nHost: h.test:0080\r\n', 'http://h.test/p'],
];

for (const { mode, backend, label } of VARIANTS) {
  describe(`fetch adapter requests, ${label}`, { timeout: 60_000 }, () => {
    test('request.url: absolute, normalized as a Request would have it, for odd targets', async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, describeRequest, { mode, backend });
      for (const [head, want] of URLS) {
        const r = await ask(scope, port, `${head}Connection: close\r\n\r\n`);
        assert.equal(r.status, 200, `${JSON.stringify(head)}: ${r.body}`);
        const seen = JSON.parse(r.body.toString());
        assert.equal(seen.url, want, JSON.stringify(head));
        assert.equal(new Request(want).url, want, 'the expectation is what undici says too');
      }
      // HTTP/1.0 without Host: the address the request reached.
      const r = await ask(scope, port, 'GET /old HTTP/1.0\r\n\r\n');
      assert.equal(JSON.parse(r.body.toString()).url, `http://${HOST}:${port}/old`);
    });

    test('non-ASCII in the query: sent raw (UTF-8 bytes) or percent-encoded, the app reads the same', async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, describeRequest, { mode, backend });
      const raw = Buffer.concat([
        Buffer.from('GET /q?name='),
        Buffer.from('é 日本', 'utf8').subarray(0, 2),
        Buffer.from('&city='),
        Buffer.from('Zürich', 'utf8'),
        Buffer.from(' HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n'),
      ]);
      const r = await ask(scope, port, raw);
      const seen = JSON.parse(r.body.toString());
      assert.equal(seen.url, 'http://h.test/q?name=%C3%A9&city=Z%C3%BCrich');
      assert.deepEqual(seen.query, { name: 'é', city: 'Zürich' });
      const res = await fetch(`http://${HOST}:${port}/q?name=${encodeURIComponent('日本')}&x=%E2%82%AC`);
      assert.deepEqual((await res.json()).query, { name: '日本', x: '€' });
    });

    test('a Host that is not a host is 400 and the app never runs; a bad absolute target too', async (t) => {
      const scope = new Scope(t);
      let calls = 0;
      const { port } = served(
        scope,
        () => {
          calls++;
          return new Response('app');
        },
        { mode, backend },
      );
      for (const head of [
        'GET /x HTTP/1.1\r\nHost: evil.test/path?\r\n',
        'GET /x HTTP/1.1\r\nHost: user@h.test\r\n',
        'GET /x HTTP/1.1\r\nHost: h.test:99999\r\n',
        'GET ftp://h.test/x HTTP/1.1\r\nHost: h.test\r\n',
        'GET http://user:pw@h.test/x HTTP/1.1\r\nHost: h.test\r\n',
      ]) {
        const r = await ask(scope, port, `${head}Connection: close\r\n\r\n`);
        assert.equal(r.status, 400, JSON.stringify(head));
      }
      assert.equal(calls, 0);
    });

    test('request.headers: get() before and after a write, has(), bad names, Cookie lines joined with "; "', async (t) => {
      const scope = new Scope(t);
      const { port } = served(
        scope,
        (request) => {
          const h = request.headers;
          const out = {
            isHeaders: h instanceof Headers,
            tag: Object.prototype.toString.call(h),
            dup: h.get('X-DUP'),
            missing: h.get('x-missing'),
            has: [h.has('cookie'), h.has('nope')],
            cookie: h.get('cookie'),
            bad: (() => {
              try {
                h.get('bad name');
                return 'no error';
              } catch (e) {
                return e.constructor.name;
              }
            })(),
          };
          h.set('x-dup', 'replaced');
          h.append('x-new', 'added');
          out.after = [h.get('x-dup'), h.get('x-new'), h.has('x-new')];
          out.entries = [...h].filter(([k]) => k.startsWith('x-') || k === 'cookie');
          out.copied = new Headers(h).get('x-new');
          return Response.json(out);
        },
        { mode, backend },
      );
      const r = await ask(
        scope,
        port,
        req('/h', {
          headers: [
            ['X-Dup', 'one'],
            ['Cookie', 'a=1'],
            ['x-dup', ' two '],
            ['cookie', 'b=2'],
            ['Connection', 'close'],
          ],
        }),
      );
      assert.deepEqual(JSON.parse(r.body.toString()), {
        isHeaders: true,
        tag: '[object Headers]',
        dup: 'one, two',
        missing: null,
        has: [true, false],
        cookie: 'a=1; b=2',
        bad: 'TypeError',
        after: ['replaced', 'added', true],
        entries: [
          ['cookie', 'a=1; b=2'],
          ['x-dup', 'replaced'],
          ['x-new', 'added'],
        ],
        copied: 'added',
      });
    });

    test('duplicate fields joined in order; Headers iterates sorted; Cookie lines kept', async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, describeRequest, { mode, backend });
      const r = await ask(
        scope,
        port,
        req('/h', {
          host: 'h.test',
          headers: [
            ['Z-Last', 'z'],
            ['X-Dup', 'first'],
            ['A-First', 'a'],
            ['x-dup', 'second'],
            ['X-Dup', 'third, fourth'],
            ['Cookie', 'a=1'],
            ['Connection', 'close'],
          ],
        }),
      );
      const { headers } = JSON.parse(r.body.toString());
      assert.deepEqual(
        headers.map(([k]) => k),
        ['a-first', 'connection', 'cookie', 'host', 'x-dup', 'z-last'],
      );
      assert.deepEqual(Object.fromEntries(headers)['x-dup'], 'first, second, third, fourth');
      assert.equal(Object.fromEntries(headers).cookie, 'a=1');
    });

    test('a plain fetch handler: instanceof Request, method, the body read once in any of its forms', async (t) => {
      const scope = new Scope(t);
      const seen = [];
      const { port } = served(
        scope,
        async (request) => {
          const how = new URL(request.url).pathname.slice(1);
          const out = { method: request.method, isRequest: request instanceof Request, bodyUsed: request.bodyUsed };
          if (how === 'text') out.value = await request.text();
          else if (how === 'json') out.value = await request.json();
          else if (how === 'bytes')
            out.value = createHash('sha256')
              .update(Buffer.from(await request.arrayBuffer()))
              .digest('hex');
          else if (how === 'blob') out.value = [(await request.blob()).type, await request.blob().catch((e) => e.name)];
          else if (how === 'form') out.value = Object.fromEntries(await request.formData());
          else if (how === 'clone') out.value = [await request.clone().text(), await request.text()];
          else if (how === 'wrap') out.value = await new Request(request).text();
          else if (how === 'stream') {
            const chunks = [];
            for await (const c of request.body) chunks.push(Buffer.from(c));
            out.value = Buffer.concat(chunks).toString();
          } else out.value = request.body;
          out.bodyUsedAfter = request.bodyUsed;
          out.again = await request.text().then(
            () => 'read twice',
            (e) => e.constructor.name,
          );
          seen.push(out);
          return Response.json(out);
        },
        { mode, backend },
      );
      const post = (path, body, headers) =>
        fetch(`http://${HOST}:${port}${path}`, { method: 'POST', body, headers }).then((r) => r.json());
      assert.deepEqual(await post('/text', 'héllo'), {
        method: 'POST',
        isRequest: true,
        bodyUsed: false,
        value: 'héllo',
        bodyUsedAfter: true,
        again: 'TypeError',
      });
      assert.deepEqual((await post('/json', '{"a":[1,2]}')).value, { a: [1, 2] });
      const big = randomBytes(300_000);
      assert.equal((await post('/bytes', big)).value, createHash('sha256').update(big).digest('hex'));
      assert.deepEqual((await post('/blob', 'b', { 'content-type': 'text/x-b' })).value, ['text/x-b', 'TypeError']);
      assert.deepEqual((await post('/form', new URLSearchParams({ k: 'v', u: 'ü' }))).value, { k: 'v', u: 'ü' });
      assert.deepEqual((await post('/clone', 'twice')).value, ['twice', 'twice']);
      assert.equal((await post('/wrap', 'wrapped')).value, 'wrapped');
      assert.equal((await post('/stream', 'streamed')).value, 'streamed');
      const get = await (await fetch(`http://${HOST}:${port}/none`)).json();
      // No body (GET): null, and reads as empty as often as asked.
      assert.deepEqual([get.method, get.value, get.again], ['GET', null, 'read twice']);
      // A chunked body, sent raw: the stream gets the decoded bytes.
      const r = await ask(
        scope,
        port,
        Buffer.concat([
          req('/stream', {
            method: 'PUT',
            host: 'h.test',
            headers: [
              ['Transfer-Encoding', 'chunked'],
              ['Connection', 'close'],
            ],
          }),
          chunked(['chu', 'nked ', 'body']),
        ]),
      );
      assert.deepEqual(JSON.parse(r.body.toString()).value, 'chunked body');
    });
  });
}
