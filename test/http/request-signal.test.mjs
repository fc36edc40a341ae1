/**
 * A client that leaves is noticed (issue 20, items 4 and 5), in every server variant:
 * req.signal aborts on a reset, at the idle timeout (where a handler that never answers is
 * cut off with a 503) and at close()'s deadline, each with its reason; a half-close after
 * a complete request is not an abort; a streaming generator's finally runs within the turn
 * of the abort. And what the request tells of its connection: the addresses, header(),
 * rawHeaders.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, req, responsesFrom, run, statsReach, waitFor } from './helpers.mjs';

before(async () => {
  await run('true', []);
});

/** A handler that never answers and records its request's abort (reason, and whether the stream's finally had run). */
function hanging(record) {
  return (r) => {
    r.signal.addEventListener('abort', () => record.push(r.signal.reason));
    return new Promise(() => {});
  };
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`request signal, ${label}`, { timeout: 30_000 }, () => {
    test('a reset aborts the signal with why "reset"', async (t) => {
      const scope = new Scope(t);
      const reasons = [];
      const { port } = scope.server({ mode, backend, handler: hanging(reasons) });
      const c = await connected(scope, port);
      await c.write(req('/'));
      await waitFor(() => reasons.length === 0 && c.connected, { message: 'connected' });
      // The handler has run once the server has read the request.
      await new Promise((r) => setTimeout(r, 30));
      c.reset();
      await waitFor(() => reasons.length === 1, { timeout: 3000, message: 'the abort' });
      assert.equal(reasons[0].code, 'ERR_ETLT_REQUEST_ABORTED');
      assert.equal(reasons[0].why, 'reset');
    });

    test('a handler that never answers gets a 503 at the idle timeout, its signal "timeout"', async (t) => {
      const scope = new Scope(t);
      const reasons = [];
      const { server, port } = scope.server({ mode, backend, idleTimeoutMs: 300, handler: hanging(reasons) });
      const c = await connected(scope, port);
      await c.write(req('/'));
      const { data } = await c.closedWithin(3000, 'the cut-off');
      assert.match(data.toString('latin1'), /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*Connection: close\r\n/);
      assert.deepEqual(
        reasons.map((r) => r.why),
        ['timeout'],
      );
      assert.equal(server.stats().handlerTimeouts, 1);
    });

    test('close() deadline aborts a pending handler with why "shutdown"', async (t) => {
      const scope = new Scope(t);
      const reasons = [];
      const { server, port } = scope.server({ mode, backend, handler: hanging(reasons) });
      const c = await connected(scope, port);
      await c.write(req('/'));
      await statsReach(server, (s) => s.requests === 1, 'the request');
      await server.close(100);
      assert.deepEqual(
        reasons.map((r) => r.why),
        ['shutdown'],
      );
    });

    test('a half-close after a complete request is not an abort: the answer arrives', async (t) => {
      const scope = new Scope(t);
      let signal;
      const { port } = scope.server({
        mode,
        backend,
        handler: async (r) => {
          signal = r.signal;
          await new Promise((resolve) => setTimeout(resolve, 100));
          return { body: 'late but wanted' };
        },
      });
      const c = await connected(scope, port);
      await c.write(req('/'));
      c.end();
      const [res] = await responsesFrom(c, 1);
      assert.equal(res.body.toString(), 'late but wanted');
      assert.equal(signal.aborted, false);
    });

    test("a reset during a held-back stream: the signal aborts and the generator's finally runs in that turn", async (t) => {
      const scope = new Scope(t);
      let finallyRan = 0;
      let seenAtAbort = -1;
      const { server, port } = scope.server({
        mode,
        backend,
        handler: (r) => {
          r.signal.addEventListener('abort', () => setImmediate(() => (seenAtAbort = finallyRan)));
          return {
            body: (async function* () {
              try {
                for (;;) yield Buffer.alloc(16384, 97);
              } finally {
                finallyRan++;
              }
            })(),
          };
        },
      });
      // A client that does not read: the generator waits at its yield, for the socket to drain.
      const c = scope.client(port, { paused: true });
      await c.connect();
      await c.write(req('/'));
      await statsReach(server, (s) => s.sendAgain > 0, 'the socket to be full');
      c.reset();
      await waitFor(() => seenAtAbort >= 0, { timeout: 3000, message: 'the abort' });
      assert.equal(seenAtAbort, 1, 'finally had run by the next turn of the loop');
    });

    test('addresses, header() and rawHeaders, as the client sent them', async (t) => {
      const scope = new Scope(t);
      const seen = [];
      const { port } = scope.server({
        mode,
        backend,
        handler: (r) => {
          seen.push({
            remote: [r.remoteAddress, r.remotePort],
            local: [r.localAddress, r.localPort],
            accept: r.header('ACCEPT'),
            cookie: r.header('cookie'),
            missing: r.header('x-none'),
            raw: r.rawHeaders,
          });
          return { body: 'ok' };
        },
      });
      const c = await connected(scope, port);
      await c.write(
        req('/', {
          headers: [
            ['Accept', 'a/b'],
            ['Cookie', 'x=1'],
            ['cookie', 'y=2'],
          ],
        }),
      );
      await responsesFrom(c, 1);
      const [s] = seen;
      assert.deepEqual(s.remote, ['127.0.0.1', c.socket.localPort]);
      assert.deepEqual(s.local, ['127.0.0.1', port]);
      assert.equal(s.accept, 'a/b');
      assert.equal(s.cookie, 'x=1; y=2');
      assert.equal(s.missing, undefined);
      assert.deepEqual(s.raw.slice(-6), ['Accept', 'a/b', 'Cookie', 'x=1', 'cookie', 'y=2']);
    });
  });
}
