/**
 * A web ReadableStream answered as a body (a handler's, or a fetch app's Response) and
 * waiting for its next chunk, as server-sent events do between events: when the client
 * leaves (a reset), the stream is cancelled at once, so its source's cancel() frees what
 * it holds (timers, subscriptions), as @hono/node-server cancels its reader. The stream's
 * own async iterator cannot do that: its return() waits for the pending read, which never
 * ends.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';

import { VARIANTS, Scope, connected, req, run, waitFor } from './helpers.mjs';
import { served } from './fetch-helpers.mjs';

before(async () => {
  await run('true', []);
});

/** A stream that gives one event and then waits; `cancelled` records its cancel(). */
function events(cancelled) {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('data: first\n\n'));
    },
    cancel() {
      cancelled.push(true);
    },
  });
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`a waiting ReadableStream body when the client resets, ${label}`, { timeout: 30_000 }, () => {
    test("a handler's ReadableStream is cancelled", async (t) => {
      const scope = new Scope(t);
      const cancelled = [];
      const { port } = scope.server({ mode, backend, handler: () => ({ body: events(cancelled) }) });
      const c = await connected(scope, port);
      await c.write(req('/'));
      await waitFor(() => c.data.includes('data: first'), { timeout: 3000, message: 'the first event' });
      c.reset();
      await waitFor(() => cancelled.length === 1, { timeout: 3000, message: "the stream's cancel()" });
    });

    test("a fetch app's Response stream is cancelled", async (t) => {
      const scope = new Scope(t);
      const cancelled = [];
      const { port } = served(
        scope,
        () => new Response(events(cancelled), { headers: { 'content-type': 'text/event-stream' } }),
        { mode, backend },
      );
      const c = await connected(scope, port);
      await c.write(req('/'));
      await waitFor(() => c.data.includes('data: first'), { timeout: 3000, message: 'the first event' });
      c.reset();
      await waitFor(() => cancelled.length === 1, { timeout: 3000, message: "the stream's cancel()" });
      assert.equal(cancelled.length, 1);
    });

    test("Hono's streamSSE: onAbort runs when the client resets between events", async (t) => {
      const scope = new Scope(t);
      const aborted = [];
      const app = new Hono();
      app.get('/sse', (c) =>
        streamSSE(c, async (stream) => {
          const gone = new Promise((resolve) => stream.onAbort(resolve));
          await stream.writeSSE({ data: 'first' });
          await gone;
          aborted.push(true);
        }),
      );
      const { port } = served(scope, app.fetch, { mode, backend });
      const c = await connected(scope, port);
      await c.write(req('/sse'));
      await waitFor(() => c.data.includes('data: first'), { timeout: 3000, message: 'the first event' });
      c.reset();
      await waitFor(() => aborted.length === 1, { timeout: 3000, message: 'onAbort' });
    });
  });
}
