/**
 * Streaming through `serve({ fetch })` both ways, and a client that leaves (issue 21 on the
 * application path of issue 20, CONTRACT.md), in every server variant. These need the
 * server's streaming: `req.stream()` and `requestBody: 'stream'` (the adapter asks for it),
 * stream response bodies sent as they come, and `req.signal`. On a server without them the
 * adapter still works (it collects a stream body, and reads the whole request body), but
 * these tests fail, as they must: a response that waits for its stream's end, an app that
 * runs only once the upload is over, a signal that never aborts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import { HOST, Scope, VARIANTS, chunked, connected, req, run, waitFor } from './helpers.mjs';
import { served } from './fetch-helpers.mjs';

const enc = new TextEncoder();

/** A promise with its resolve. */
function deferred() {
  let resolve;
  const promise = new Promise((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`fetch adapter streaming, ${label}`, { timeout: 60_000 }, () => {
    test('server-sent events: the first event reaches fetch before the stream ends', { timeout: 15_000 }, async (t) => {
      const scope = new Scope(t);
      const release = deferred();
      const { port } = served(
        scope,
        () =>
          new Response(
            new ReadableStream({
              async start(c) {
                c.enqueue(enc.encode('data: one\n\n'));
                await release.promise;
                c.enqueue(enc.encode('data: two\n\n'));
                c.close();
              },
            }),
            { headers: { 'content-type': 'text/event-stream' } },
          ),
        { mode, backend },
      );
      const res = await fetch(`http://${HOST}:${port}/events`);
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      const reader = res.body.getReader();
      let text = '';
      while (!text.includes('data: one\n\n')) {
        const { value, done } = await reader.read();
        assert.equal(done, false, 'the stream ended before its first event arrived alone');
        text += Buffer.from(value).toString();
      }
      assert.equal(text, 'data: one\n\n', 'only the first event, while the app holds the second');
      release.resolve();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      assert.equal(text, 'data: one\n\ndata: two\n\n');
    });

    test('curl -N gets a Hono-style stream chunk by chunk', { timeout: 15_000 }, async (t) => {
      const scope = new Scope(t);
      const { port } = served(
        scope,
        () =>
          new Response(
            new ReadableStream({
              async pull(c) {
                for (let i = 0; i < 3; i++) {
                  c.enqueue(enc.encode(`event ${i}\n`));
                  await new Promise((resolve) => setTimeout(resolve, 30));
                }
                c.close();
              },
            }),
          ),
        { mode, backend },
      );
      const r = await run('curl', [
        '-s',
        '-N',
        '--noproxy',
        '*',
        '--max-time',
        '5',
        '-D',
        '-',
        `http://${HOST}:${port}/`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /transfer-encoding: chunked/i);
      assert.match(r.stdout, /\r\n\r\nevent 0\nevent 1\nevent 2\n$/);
    });

    test(
      'request.body streams: the app reads the first chunk before the upload is over',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const first = deferred();
        const { port } = served(
          scope,
          async (request) => {
            const reader = request.body.getReader();
            let total = '';
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              total += Buffer.from(value).toString();
              first.resolve(total);
            }
            return new Response(`got ${total}`);
          },
          { mode, backend },
        );
        const c = await connected(scope, port);
        await c.write(
          req('/up', {
            method: 'POST',
            headers: [
              ['Transfer-Encoding', 'chunked'],
              ['Connection', 'close'],
            ],
          }),
        );
        await c.write(Buffer.from('5\r\nfirst\r\n'));
        assert.equal(await first.promise, 'first', 'the app saw the first chunk while the rest was unsent');
        await c.write(chunked([' second']));
        const r = await c.closedWithin(5000);
        assert.match(r.data.toString(), /\r\n\r\ngot first second$/);
      },
    );

    test(
      'a 32 MiB upload streams through request.body without raising maxBodyBytes',
      { timeout: 30_000 },
      async (t) => {
        const scope = new Scope(t);
        const { port } = served(
          scope,
          async (request) => {
            const hash = createHash('sha256');
            let n = 0;
            for await (const chunk of request.body) {
              hash.update(chunk);
              n += chunk.byteLength;
            }
            return Response.json({ n, sha256: hash.digest('hex') });
          },
          { mode, backend },
        );
        const body = Buffer.alloc(32 << 20, 'abcdefgh');
        const res = await fetch(`http://${HOST}:${port}/big`, { method: 'POST', body });
        assert.equal(res.status, 200, 'a streamed body is held to maxStreamBodyBytes, not maxBodyBytes (1 MiB)');
        assert.deepEqual(await res.json(), { n: body.length, sha256: createHash('sha256').update(body).digest('hex') });
      },
    );

    test(
      'a client that leaves while the app awaits: request.signal aborts, the server lets go',
      { timeout: 15_000 },
      async (t) => {
        const scope = new Scope(t);
        const started = deferred();
        const aborted = deferred();
        const { server, port } = served(
          scope,
          async (request) => {
            started.resolve();
            await new Promise((resolve) => request.signal.addEventListener('abort', resolve, { once: true }));
            aborted.resolve(request.signal.reason);
            return new Response('too late');
          },
          { mode, backend },
        );
        const c = await connected(scope, port);
        await c.write(req('/slow'));
        await started.promise;
        c.reset();
        const reason = await aborted.promise;
        assert.ok(reason !== undefined, 'the signal says why');
        await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'the connection to be closed' });
      },
    );

    test('a client that leaves mid-stream: the response stream is cancelled', { timeout: 15_000 }, async (t) => {
      const scope = new Scope(t);
      const cancelled = deferred();
      let sent = 0;
      const { port } = served(
        scope,
        () =>
          new Response(
            new ReadableStream({
              async pull(c) {
                c.enqueue(enc.encode(`data: ${sent++}\n\n`));
                await new Promise((resolve) => setTimeout(resolve, 5));
              },
              cancel(reason) {
                cancelled.resolve(reason ?? 'cancelled');
              },
            }),
            { headers: { 'content-type': 'text/event-stream' } },
          ),
        { mode, backend },
      );
      const c = await connected(scope, port);
      await c.write(req('/endless'));
      await waitFor(() => c.received > 0, { message: 'the first event' });
      c.destroy();
      await cancelled.promise;
      const at = sent;
      await new Promise((resolve) => setTimeout(resolve, 50)); // a window in which nothing more may be pulled
      assert.ok(sent <= at + 1, `the stream was pulled ${sent - at} more times after it was cancelled`);
    });
  });
}
