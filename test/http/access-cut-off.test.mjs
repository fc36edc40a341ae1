/**
 * The 'access' event for a streamed response the client cut off (a reset mid-download, the
 * very case an operator looks in the access log for): its head went out, so it is a
 * response, and it gets its entry, with the content bytes queued until the cut and the
 * client's address, once, when the connection goes. A request whose client resets while
 * its handler works gets one too, with nginx's 499 (client closed request).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, req, run, statsReach, waitFor } from './helpers.mjs';

before(async () => {
  await run('true', []);
});

/** A server in `scope` whose handler answers with the stream `body()` makes; its access entries as they come. */
function streaming(scope, mode, backend, body) {
  const entries = [];
  const { server, port } = scope.server({ mode, backend, handler: () => ({ body: body() }) });
  server.on('access', (e) => entries.push(e));
  return { server, port, entries };
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`access log of a cut-off stream, ${label}`, { timeout: 30_000 }, () => {
    test('a reset during an endless stream: one entry, status 200, the bytes so far, the address', async (t) => {
      const scope = new Scope(t);
      const { server, port, entries } = streaming(scope, mode, backend, async function* () {
        for (;;) yield Buffer.alloc(16384, 97);
      });
      // A client that does not read: the stream waits for room, then the client resets.
      const c = scope.client(port, { paused: true });
      await c.connect();
      const localPort = c.socket.localPort;
      await c.write(req('/endless'));
      await statsReach(server, (s) => s.sendAgain > 0, 'the socket to be full');
      c.reset();
      await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'the connection to close' });
      await waitFor(() => entries.length === 1, { timeout: 3000, message: 'the access entry' });
      const [e] = entries;
      assert.equal(e.method, 'GET');
      assert.equal(e.target, '/endless');
      assert.equal(e.status, 200);
      assert.ok(e.bytes > 16384, `${e.bytes} bytes`);
      assert.equal(e.remoteAddress, '127.0.0.1');
      assert.equal(e.remotePort, localPort);
    });

    test('a reset while the handler works: one entry, 499, no bytes, the address; its late answer adds none', async (t) => {
      const scope = new Scope(t);
      let answer;
      const answered = new Promise((resolve) => (answer = resolve));
      const entries = [];
      const { server, port } = scope.server({
        mode,
        backend,
        handler: () => answered.then(() => ({ body: 'late' })),
      });
      server.on('access', (e) => entries.push(e));
      const c = await connected(scope, port);
      const localPort = c.socket.localPort;
      await c.write(req('/slow?x=1', { method: 'POST', body: 'abc', length: true }));
      await statsReach(server, (s) => s.requests >= 1, 'the handler to be called');
      c.reset();
      await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'the connection to close' });
      await waitFor(() => entries.length === 1, { timeout: 3000, message: 'the access entry' });
      const [e] = entries;
      assert.equal(e.method, 'POST');
      assert.equal(e.target, '/slow?x=1');
      assert.equal(e.status, 499);
      assert.equal(e.bytes, 0);
      assert.equal(e.remoteAddress, '127.0.0.1');
      assert.equal(e.remotePort, localPort);
      answer();
      await answered;
      // The answer has nobody to go to: no response, no second entry, the server goes on.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(entries.length, 1);
      assert.equal(server.stats().responses, 0);
    });

    test('the idle timeout while the handler works is no 499: a cut-off is one 503, a stalled body no client close', async (t) => {
      const scope = new Scope(t);
      const entries = [];
      const { server, port } = scope.server({
        mode,
        backend,
        idleTimeoutMs: 300,
        requestBody: 'stream',
        handler: async (r) => {
          if (r.target === '/hang') return new Promise(() => {});
          for await (const chunk of r.stream()) void chunk;
          return { body: 'read' };
        },
      });
      server.on('access', (e) => entries.push(e));
      // A handler that never answers: the 503 in its place is the request's one entry.
      const hung = await connected(scope, port);
      await hung.write(req('/hang'));
      await hung.closedWithin(3000, 'the cut-off');
      await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'the connection to close' });
      assert.deepEqual(
        entries.map((e) => [e.target, e.status]),
        [['/hang', 503]],
      );
      // A body that stops arriving while its handler reads it: the server gives up with a 408
      // (the client did not leave: no "client closed request"), its one entry.
      const stalled = await connected(scope, port);
      await stalled.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
      const r = await stalled.closedWithin(3000, 'the idle timeout');
      assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 408 /);
      await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'the connection to close' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        entries.slice(1).map((e) => [e.method, e.target, e.status]),
        [['POST', '/upload', 408]],
      );
    });

    test('a reset behind pipelined requests, or mid streamed body: one entry per request read, never two', async (t) => {
      const scope = new Scope(t);
      const entries = [];
      const { server, port } = scope.server({
        mode,
        backend,
        requestBody: 'stream',
        handler: async (r) => {
          if (r.target === '/a') return { body: 'a' };
          // /slow never answers; /upload reads its body, which never ends.
          if (r.target === '/upload') for await (const chunk of r.stream()) void chunk;
          return new Promise(() => {});
        },
      });
      server.on('access', (e) => entries.push(e));
      // Three pipelined: /a answered, /slow pending, /c never read (no entry for it).
      const piped = await connected(scope, port);
      await piped.write(req('/a') + req('/slow') + req('/c'));
      await statsReach(server, (s) => s.requests >= 2, 'the second handler to be called');
      await waitFor(() => entries.length === 1, { timeout: 3000, message: "/a's entry" });
      piped.reset();
      await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'the connection to close' });
      const uploading = await connected(scope, port);
      await uploading.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc');
      await statsReach(server, (s) => s.requests >= 3, 'the upload handler to be called');
      uploading.reset();
      await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'the connection to close' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        entries.map((e) => [e.target, e.status, e.bytes]),
        [
          ['/a', 200, 1],
          ['/slow', 499, 0],
          ['/upload', 499, 0],
        ],
      );
    });

    test('a head cut off by the idle timeout: its 408 has an entry, with "-" for the unread request', async (t) => {
      const scope = new Scope(t);
      const entries = [];
      const { server, port } = scope.server({ mode, backend, idleTimeoutMs: 300, handler: () => ({ body: 'x' }) });
      server.on('access', (e) => entries.push(e));
      const c = await connected(scope, port);
      const localPort = c.socket.localPort;
      await c.write(Buffer.from('GET /slow HTTP/1.1\r\nHo', 'latin1'));
      const r = await c.closedWithin(5000, 'the idle timeout to close the connection');
      assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 408 /);
      await waitFor(() => entries.length === 1, { timeout: 3000, message: 'the access entry' });
      const [e] = entries;
      assert.deepEqual([e.method, e.target, e.version, e.status], ['-', '-', '1.1', 408]);
      assert.equal(e.remoteAddress, '127.0.0.1');
      assert.equal(e.remotePort, localPort);
    });

    test('a collected body that stops arriving: a 408 before the handler, with its entry', async (t) => {
      const scope = new Scope(t);
      const entries = [];
      let called = 0;
      const { server, port } = scope.server({
        mode,
        backend,
        idleTimeoutMs: 300,
        handler: () => ({ body: `called ${++called}` }),
      });
      server.on('access', (e) => entries.push(e));
      const c = await connected(scope, port);
      await c.write('POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
      const r = await c.closedWithin(5000, 'the idle timeout');
      assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 408 [^]*\r\nconnection: close\r\n/i);
      await waitFor(() => entries.length === 1, { timeout: 3000, message: 'the access entry' });
      assert.deepEqual(
        entries.map((e) => [e.method, e.target, e.status]),
        [['POST', '/form', 408]],
      );
      assert.equal(called, 0, 'the handler never saw the partial body');
    });

    test('a stream that ends normally still has exactly one entry', async (t) => {
      const scope = new Scope(t);
      const { server, port, entries } = streaming(scope, mode, backend, async function* () {
        yield 'abc';
      });
      const c = await connected(scope, port);
      await c.write(req('/', { headers: { connection: 'close' } }));
      await c.closedWithin(3000);
      await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'the connection to close' });
      assert.deepEqual(
        entries.map((e) => [e.target, e.status]),
        [['/', 200]],
      );
    });
  });
}
