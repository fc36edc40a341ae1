/**
 * A streamed response whose client has gone with a FIN (an EventSource closed, curl
 * stopped, a browser tab closed): the server cannot tell a half-close from a close without
 * writing, and a stream that has nothing to write (server-sent events between events) must
 * not hold the connection for ever. After the peer's FIN, a streamed response that makes no
 * progress for the idle timeout is cut off: the connection closes, the signal aborts and
 * the stream is released. A half-closed client whose stream keeps coming still gets it all.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, req, run, waitFor } from './helpers.mjs';

before(async () => {
  await run('true', []);
});

for (const { mode, backend, label } of VARIANTS) {
  describe(`a streamed response after the client's FIN, ${label}`, { timeout: 30_000 }, () => {
    test('an idle stream is cut off at the idle timeout: connection closed, signal aborted, stream released', async (t) => {
      const scope = new Scope(t);
      const seen = { aborted: null, finallyRan: false };
      const { server, port } = scope.server({
        mode,
        backend,
        idleTimeoutMs: 300,
        handler: (r) => ({
          headers: { 'content-type': 'text/event-stream' },
          body: (async function* () {
            try {
              yield 'data: hello\n\n';
              // The next event never comes; only an abort ends the wait.
              await new Promise((resolve) => r.signal.addEventListener('abort', resolve));
              seen.aborted = r.signal.reason;
            } finally {
              seen.finallyRan = true;
            }
          })(),
        }),
      });
      const c = await connected(scope, port);
      await c.write(req('/events'));
      await waitFor(() => c.data.includes('data: hello'), { timeout: 3000, message: 'the first event' });
      c.end();
      await c.closedWithin(3000, 'the server to let go of the half-closed stream');
      await waitFor(() => seen.finallyRan, { timeout: 3000, message: "the stream's finally" });
      assert.equal(seen.aborted?.code, 'ERR_ETLT_REQUEST_ABORTED');
      assert.equal(seen.aborted?.why, 'peer-closed');
      await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'no open connection' });
    });

    test('a client that stays is not cut off: an event stream may be idle longer than the idle timeout', async (t) => {
      const scope = new Scope(t);
      let release;
      const later = new Promise((resolve) => (release = resolve));
      const { port } = scope.server({
        mode,
        backend,
        idleTimeoutMs: 200,
        handler: () => ({
          body: (async function* () {
            yield 'data: first\n\n';
            await later;
            yield 'data: last\n\n';
          })(),
        }),
      });
      const c = await connected(scope, port);
      await c.write(req('/', { headers: { connection: 'close' } }));
      await waitFor(() => c.data.includes('data: first'), { timeout: 3000, message: 'the first event' });
      // Three idle timeouts of silence (the sweep looks at the held stream each time), then the rest.
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.equal(c.closed, false, 'still open');
      release();
      const { data } = await c.closedWithin(3000, 'the end of the stream');
      assert.match(data.toString('latin1'), /data: last\n\n\r\n0\r\n\r\n$/);
    });

    test('a half-closed client still gets a stream that keeps coming, whole', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        idleTimeoutMs: 300,
        handler: () => ({
          body: (async function* () {
            for (let i = 0; i < 6; i++) {
              yield `${i};`;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          })(),
        }),
      });
      const c = await connected(scope, port);
      await c.write(req('/', { headers: { connection: 'close' } }));
      c.end();
      const { data } = await c.closedWithin(5000, 'the whole stream');
      const text = data.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, /\r\n0\r\n\r\n$/, 'the last chunk arrived');
      for (let i = 0; i < 6; i++) assert.ok(text.includes(`${i};`), `chunk ${i}`);
    });
  });
}
