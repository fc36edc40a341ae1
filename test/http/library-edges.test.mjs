/**
 * The library at its edges, in both modes where a server is involved: HEAD through Node's
 * own client, the server-wide budget for partial heads, options that explain themselves,
 * objects dropped without close(), and idle turns kept out of the per-request counters.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';

import { EtltError, HttpServer, syscallsByKind } from 'etlt';
import { HOST, VARIANTS, Scope, waitFor } from '../lib/http.mjs';
import { runNode } from '../lib/util.mjs';

for (const { mode, backend, label } of VARIANTS) {
  describe(`library edges, ${label}`, () => {
    test(
      "HEAD through Node's http.request: the GET's headers, no content, no client error",
      { timeout: 10_000 },
      async (t) => {
        const scope = new Scope(t);
        const { port } = scope.server({ mode, backend, keepAliveTimeoutMs: 300 });
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        t.after(() => agent.destroy());
        const ask = (method) =>
          new Promise((resolve, reject) => {
            const req = http.request({ host: HOST, port, method, path: '/', agent }, (res) => {
              const chunks = [];
              res.on('data', (d) => chunks.push(d));
              res.on('end', () =>
                resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
              );
            });
            req.on('error', reject);
            req.end();
          });
        // HEAD, then GET on the same kept-alive connection: a body after HEAD would be taken
        // for the next response (HPE_CLOSED_CONNECTION or a parse error in Node's client).
        const head = await ask('HEAD');
        const get = await ask('GET');
        const again = await ask('HEAD');
        assert.equal(head.status, 200);
        assert.equal(head.body, '');
        assert.equal(head.headers['content-length'], '13');
        assert.equal(get.body, 'Hello, world!');
        assert.equal(again.body, '');
      },
    );

    test(
      'all partial heads together stay within inputBudgetBytes: the oldest are closed',
      { timeout: 20_000 },
      async (t) => {
        const scope = new Scope(t);
        const budget = 1 << 20;
        const { server, port } = scope.server({
          mode,
          backend,
          maxHeadBytes: 1 << 20,
          inputBudgetBytes: budget,
          idleTimeoutMs: 15_000,
        });
        // 12 slow heads of 200 KB each would hold 2.4 MB: over the budget of 1 MiB.
        const clients = [];
        for (let i = 0; i < 12; i++) {
          const c = scope.client(port);
          await c.connect();
          await c.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(200_000)}`);
          clients.push(c);
          await waitFor(() => server.stats().bytesIn >= (i + 1) * 200_000, {
            timeout: 5000,
            message: `head ${i} to be read`,
          });
        }
        const s = server.stats();
        assert.ok(s.headsShed >= 6, `only ${s.headsShed} partial heads shed`);
        // The oldest went first; the newest is still open and completes.
        assert.equal(clients[0].closed || (await clients[0].closedWithin(2000).then(() => true)), true);
        const last = clients.at(-1);
        await last.write('\r\n\r\n');
        await waitFor(() => last.data.toString('latin1').startsWith('HTTP/1.1 200 OK'), {
          timeout: 3000,
          message: 'the newest head answered',
        });
        for (const c of clients) c.destroy();
      },
    );
  });
}

describe('options and lifecycle', () => {
  test('an unknown option names itself and the one meant', () => {
    assert.throws(
      () => new HttpServer({ idleTimeout: 5 }),
      (err) =>
        err instanceof TypeError &&
        err instanceof EtltError &&
        err.code === 'ERR_ETLT_UNKNOWN_OPTION' &&
        /"idleTimeout".*"idleTimeoutMs"/.test(err.message),
    );
  });

  test('a string body is sent as UTF-8; a wrong body names the option', async (t) => {
    const scope = new Scope(t);
    const { port } = scope.server({ body: 'héllo' });
    const res = await fetch(`http://${HOST}:${port}/`, { headers: { connection: 'close' } });
    assert.equal(await res.text(), 'héllo');
    assert.throws(
      () => new HttpServer({ body: 5 }),
      (err) => err instanceof TypeError && /The "body" option must be/.test(err.message),
    );
  });

  test('listen() after close() says the server is closed; twice says it is listening; address() before, not listening', async () => {
    const server = new HttpServer({ host: HOST, port: 0 });
    assert.throws(() => server.address(), { code: 'ERR_SERVER_NOT_RUNNING' });
    const listening = new Promise((resolve) => server.once('listening', resolve));
    server.listen();
    await listening;
    assert.equal(server.listening, true);
    assert.throws(() => server.listen(), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    const closed = new Promise((resolve) => server.once('close', resolve));
    await server.close();
    await closed;
    assert.equal(server.listening, false);
    assert.throws(() => server.listen(), { code: 'ERR_ETLT_SERVER_CLOSED' });
  });

  test('idle timer turns are counted apart from the per-request syscalls', async (t) => {
    const scope = new Scope(t);
    const { server, port } = scope.server({ idleTimeoutMs: 100 });
    await fetch(`http://${HOST}:${port}/`, { headers: { connection: 'close' } }).then((r) => r.text());
    await waitFor(() => server.stats().open === 0, { message: 'the connection to close' });
    const before = syscallsByKind(server.stats()).epoll_wait;
    await waitFor(() => server.stats().timerTurns >= 8, { timeout: 3000, message: 'idle sweep turns' });
    const s = server.stats();
    assert.equal(syscallsByKind(s).epoll_wait, before, 'idle turns do not count as serving');
    assert.ok(s.timerTurns >= 8);
  });
});

describe('objects dropped without close()', () => {
  test(
    '500 Epoll and 500 Socket objects collected: their fds are closed, with a warning',
    { timeout: 20_000 },
    async () => {
      const r = await runNode(
        `
      import { Epoll, Socket } from 'etlt';
      import { readdirSync } from 'node:fs';
      const count = () => readdirSync('/proc/self/fd').length;
      let warnings = 0;
      process.on('warning', (w) => { if (w.code === 'ETLT_CLOSED_ON_GC') warnings++; });
      const before = count();
      for (let i = 0; i < 500; i++) { new Epoll(); new Socket(); }
      const held = count() - before;
      for (let i = 0; i < 10 && count() > before; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      // A detached socket's fd is the caller's: collecting the object leaves it open.
      const s = new Socket(); const fd = s.detach();
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      const detachedOpen = readdirSync('/proc/self/fd').includes(String(fd));
      console.log(JSON.stringify({ held, left: count() - before, warnings, detachedOpen }));
      `,
        { args: [], timeout: 15_000, nodeArgs: ['--expose-gc', '--no-warnings'] },
      );
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
      assert.equal(out.held, 1000);
      assert.ok(out.left <= 1, `fds left open after collection: ${out.left}`);
      assert.ok(out.warnings >= 999, `warnings: ${out.warnings}`);
      assert.equal(out.detachedOpen, true);
    },
  );
});
