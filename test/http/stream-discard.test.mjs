/**
 * A stream body that is not sent (a HEAD request, a 204 or 304) is let go of: its return()
 * or cancel() runs. A hand-written iterator whose return() answers synchronously (common,
 * though the protocol asks for a Promise), or throws, or a cancel() that returns nothing,
 * must not turn the HEAD into a 500 while the GET succeeds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { VARIANTS, Scope, run } from './helpers.mjs';

/** Bodies whose way of being let go of is unusual; `released` counts the calls. */
function bodies(released) {
  const iterator = (ret) => {
    let i = 0;
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: async () => (i++ < 2 ? { done: false, value: 'x' } : { done: true, value: undefined }),
      return: ret,
    };
  };
  return {
    '/sync-return': () =>
      iterator(() => {
        released.push('sync-return');
        return { done: true, value: undefined };
      }),
    '/throwing-return': () =>
      iterator(() => {
        released.push('throwing-return');
        throw new Error('return() failed');
      }),
    '/void-cancel': () => {
      const stream = new ReadableStream({
        pull(c) {
          c.enqueue(new TextEncoder().encode('xx'));
          c.close();
        },
      });
      // A stream-like object whose cancel() returns nothing.
      return {
        getReader: () => stream.getReader(),
        cancel() {
          released.push('void-cancel');
        },
      };
    },
  };
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`a stream body not sent, ${label}`, { timeout: 30_000 }, () => {
    test('HEAD, 204 and 304 answer as the GET does, and the body is let go of', async (t) => {
      const scope = new Scope(t);
      const released = [];
      const routes = bodies(released);
      const errors = [];
      const { server, port } = scope.server({
        mode,
        backend,
        handler: (r) => {
          const [path, status] = r.target.split('?');
          return { status: Number(status ?? 200), body: routes[path]() };
        },
      });
      server.on('handlerError', (e) => errors.push(e.message));
      for (const path of Object.keys(routes)) {
        const get = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
        assert.equal(get.status, 200, path);
        assert.equal(await get.text(), 'xx', path);
        for (const [method, query, status] of [
          ['HEAD', '', 200],
          ['GET', '?204', 204],
          ['GET', '?304', 304],
        ]) {
          const res = await fetch(`http://127.0.0.1:${port}${path}${query}`, {
            method,
            headers: { connection: 'close' },
          });
          assert.equal(res.status, status, `${method} ${path}${query}: ${errors.join('; ')}`);
          await res.arrayBuffer();
        }
      }
      assert.deepEqual(errors, []);
      for (const path of Object.keys(routes)) assert.ok(released.filter((r) => `/${r}` === path).length >= 3, path);
    });
  });
}

// Builds the addon and the TypeScript when run alone.
await run('true', []);
