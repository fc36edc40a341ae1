/**
 * A fetch app that returns a Response whose body it already read (`await res.text()`, a
 * response cached and served twice) or locked (`res.body.getReader()`): no body can come
 * of it, and the client must get a 500 (as on @hono/node-server), never a 200 whose body
 * breaks off after the head. The server goes on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Scope, VARIANTS, req, waitFor } from './helpers.mjs';
import { ask, served } from './fetch-helpers.mjs';

const ROUTES = {
  '/read': async () => {
    const r = new Response('abc');
    await r.text();
    return r;
  },
  '/locked': () => {
    const r = new Response('abc');
    r.body.getReader();
    return r;
  },
  '/stream-read': async () => {
    const r = new Response(new Blob(['abc']).stream());
    await r.arrayBuffer();
    return r;
  },
  '/native-read': async () => {
    // undici's own Response, whatever the global is.
    const r = await globalThis.fetch('data:,abc');
    await r.text();
    return r;
  },
  '/fine': () => new Response('fine'),
};

for (const { mode, backend, label } of VARIANTS) {
  describe(`a fetch app returns a Response whose body is used, ${label}`, { timeout: 30_000 }, () => {
    test('500 and handlerError for a used or locked body; the server goes on', async (t) => {
      const scope = new Scope(t);
      const errors = [];
      const { server, port } = served(scope, (request) => ROUTES[new URL(request.url).pathname](), { mode, backend });
      server.on('handlerError', (err) => errors.push(err));
      for (const path of ['/read', '/locked', '/stream-read', '/native-read']) {
        const res = await ask(scope, port, req(path, { headers: { connection: 'close' } }));
        assert.equal(res.status, 500, `${path}: ${res.raw?.toString('latin1')}`);
      }
      await waitFor(() => errors.length === 4, { message: 'four handlerErrors' });
      for (const err of errors) assert.match(err.message, /body/);
      const ok = await ask(scope, port, req('/fine', { headers: { connection: 'close' } }));
      assert.equal(ok.status, 200);
      assert.equal(ok.body.toString(), 'fine');
    });
  });
}
