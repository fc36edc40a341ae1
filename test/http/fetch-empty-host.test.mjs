/**
 * `Host:` with an empty value (RFC 9112 section 3.2: what a client sends when the target
 * URI has no authority) must not give a fetch app a relative `request.url`: routers
 * (Hono's getPath, `new URL(request.url)`) need an absolute one. The request is answered as
 * one without Host is, from the address it reached, both as the first request the process
 * serves and after others.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Scope, VARIANTS, req } from './helpers.mjs';
import { ask, served } from './fetch-helpers.mjs';

for (const { mode, backend, label } of VARIANTS) {
  describe(`an empty Host, ${label}`, { timeout: 30_000 }, () => {
    test('request.url is absolute, from the address the request reached', async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, (request) => new Response(new URL(request.url).href), { mode, backend });
      const empty = await ask(scope, port, req('/path?q=1', { host: '', headers: { connection: 'close' } }));
      assert.equal(empty.status, 200, empty.body.toString());
      assert.equal(empty.body.toString(), `http://127.0.0.1:${port}/path?q=1`);
      const named = await ask(scope, port, req('/path', { host: 'h.test', headers: { connection: 'close' } }));
      assert.equal(named.body.toString(), 'http://h.test/path');
      const again = await ask(scope, port, req('/again', { host: '', headers: { connection: 'close' } }));
      assert.equal(again.body.toString(), `http://127.0.0.1:${port}/again`);
    });
  });
}
