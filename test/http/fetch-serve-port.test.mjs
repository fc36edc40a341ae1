/**
 * `serve({ fetch, port: process.env.PORT })`: the environment gives a string, which
 * @hono/node-server passes to node's listen(), which takes a string of digits as a port.
 * etlt's serve() takes it too (a move from node-server is one line), and refuses anything
 * else that is not a port as HttpServer does, by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Scope } from './helpers.mjs';
import { served } from './fetch-helpers.mjs';

test('a port given as a string of digits is a port', async (t) => {
  const scope = new Scope(t);
  const { server, port } = served(scope, () => new Response('from a string port'), { port: '0' });
  assert.equal(typeof server.address().port, 'number');
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
  assert.equal(await res.text(), 'from a string port');
});

test('a string that is not a port is refused, naming the option', () => {
  for (const port of ['', 'http', '80a', '-1', ' 80', '1e3'])
    assert.throws(
      () => served(new Scope({ after() {} }), () => new Response(''), { port }),
      (err) => err instanceof TypeError && /port/.test(err.message),
      JSON.stringify(port),
    );
});
