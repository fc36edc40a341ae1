/**
 * Node's conventions on the server classes: `await using` (Symbol.asyncDispose) closes an
 * HttpServer and stops a WorkerPool; the events are the typed ones (their types are checked
 * by test/binding/subpaths.test.mjs's consumer project).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';

import { HttpServer, WorkerPool } from 'etlt/http';

describe('Symbol.asyncDispose', () => {
  test('HttpServer: disposing closes it (close event, the port refuses)', async () => {
    const server = new HttpServer({ host: '127.0.0.1', port: 0 });
    const { port } = server.listen();
    await once(server, 'listening');
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const closed = once(server, 'close');
    await server[Symbol.asyncDispose]();
    await closed;
    assert.equal(server.listening, false);
    const refused = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('connect', () => (s.destroy(), resolve(false)));
      s.on('error', (err) => resolve(err.code === 'ECONNREFUSED'));
    });
    assert.ok(refused, 'the port no longer accepts');
  });

  test('WorkerPool: disposing stops every worker', { timeout: 30_000 }, async () => {
    const pool = new WorkerPool({ workers: 1, server: { host: '127.0.0.1', port: 0 } });
    const { port } = await pool.start();
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const exited = once(pool, 'exit');
    await pool[Symbol.asyncDispose]();
    const [exit] = await exited;
    assert.equal(typeof exit.pid, 'number');
    await assert.rejects(pool.start(), { code: 'ERR_ETLT_SERVER_CLOSED' });
  });
});
