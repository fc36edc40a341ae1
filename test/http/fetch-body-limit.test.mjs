/**
 * A fetch app that reads a request body whole (`text()`, `json()`, `formData()`, Hono's
 * `c.req.json()`) on a server that streams bodies: the server's `maxBodyBytes` bounds what
 * the reader collects (a 413, the rest of the upload read and dropped), while the same body
 * read piece by piece from `request.body` is bounded only by `maxStreamBodyBytes`. Without
 * this a hostile 2 GB POST to a JSON route took 2 GB of memory.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import { Hono } from 'hono';

import { Scope, VARIANTS } from './helpers.mjs';
import { served } from './fetch-helpers.mjs';

const LIMIT = 64 * 1024;
const BIG = Buffer.alloc(1024 * 1024, 'x');

function plainApp(request) {
  const path = new URL(request.url).pathname;
  if (path === '/text') return request.text().then((t) => new Response(`${t.length}`));
  if (path === '/json') return request.json().then((j) => Response.json({ n: j.length }));
  if (path === '/form') return request.formData().then((f) => new Response(`${f.get('a')?.length}`));
  if (path === '/stream')
    return (async () => {
      const hash = createHash('sha256');
      let n = 0;
      for await (const chunk of request.body) {
        hash.update(chunk);
        n += chunk.length;
      }
      return new Response(`${n} ${hash.digest('hex')}`);
    })();
  return new Response('not found', { status: 404 });
}

const hono = new Hono();
hono.post('/json', async (c) => c.json({ n: (await c.req.json()).length }));

/** A POST; a FormData body brings its own multipart Content-Type. */
const post = (port, path, body, type = body instanceof FormData ? undefined : 'application/octet-stream') =>
  fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    body,
    headers: type === undefined ? {} : { 'content-type': type },
  });

for (const { mode, backend, label } of VARIANTS) {
  describe(`whole-body readers within maxBodyBytes, ${label}`, { timeout: 60_000 }, () => {
    test('text(), json() and formData() past maxBodyBytes: 413; under it, and streamed, served', async (t) => {
      const scope = new Scope(t);
      const errors = [];
      const { server, port } = served(scope, plainApp, { mode, backend, maxBodyBytes: LIMIT });
      server.on('handlerError', (err) => errors.push(err));
      const json = JSON.stringify('y'.repeat(2 * LIMIT));
      const form = new FormData();
      form.set('a', 'z'.repeat(2 * LIMIT));
      for (const [path, body] of [
        ['/text', BIG],
        ['/json', json],
        ['/form', form],
      ]) {
        const res = await post(port, path, body);
        assert.equal(res.status, 413, `${path}: ${res.status} ${await res.clone().text()}`);
        await res.arrayBuffer();
      }
      assert.deepEqual(errors, [], "a body past the limit is the client's fault, not a handlerError");
      // Under the limit, the same readers answer.
      assert.equal(await (await post(port, '/text', BIG.subarray(0, LIMIT))).text(), String(LIMIT));
      const small = new FormData();
      small.set('a', 'z'.repeat(100));
      assert.equal(await (await post(port, '/form', small)).text(), '100');
      // Piece by piece, 16 times the limit goes through.
      const res = await post(port, '/stream', BIG);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), `${BIG.length} ${createHash('sha256').update(BIG).digest('hex')}`);
    });

    test("Hono's c.req.json() past maxBodyBytes: 413 through its onError, not a 500", async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, hono.fetch, { mode, backend, maxBodyBytes: LIMIT });
      const res = await post(port, '/json', JSON.stringify('y'.repeat(2 * LIMIT)), 'application/json');
      assert.equal(res.status, 413, await res.clone().text());
      await res.arrayBuffer();
      const ok = await post(port, '/json', JSON.stringify('y'.repeat(100)), 'application/json');
      assert.deepEqual(await ok.json(), { n: 100 });
    });
  });
}
