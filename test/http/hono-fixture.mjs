/**
 * The Hono app of the fetch adapter's tests (issue 21): routes, params, query, JSON in and
 * out, forms, cookies, redirects, 204/304, errors through onError and HTTPException,
 * hono/streaming and server-sent events, uploads. The same module runs on etlt's serve and,
 * in a child process (hono-node-child.mjs), on @hono/node-server, so their answers compare.
 */
import { createHash } from 'node:crypto';

import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { etag } from 'hono/etag';
import { HTTPException } from 'hono/http-exception';
import { proxy } from 'hono/proxy';
import { stream, streamSSE } from 'hono/streaming';

/** Counts of what the app saw, for the tests that must know (streams cancelled...). */
export const seen = { cancelled: 0 };

export function makeApp() {
  const app = new Hono();
  app.get('/', (c) => c.text('Hello, world!'));
  app.get('/users/:id/posts/:post', (c) =>
    c.json({ id: c.req.param('id'), post: c.req.param('post'), q: c.req.query('q'), tags: c.req.queries('tag') ?? [] }),
  );
  app.post('/json', async (c) => {
    const body = await c.req.json();
    return c.json({ got: body, type: c.req.header('content-type') }, 201);
  });
  app.post('/form', async (c) => {
    const body = await c.req.parseBody({ all: true });
    return c.json(body);
  });
  app.get('/cookies', (c) => {
    setCookie(c, 'a', '1', { path: '/', httpOnly: true });
    setCookie(c, 'b', '2, with a comma', { path: '/x' });
    setCookie(c, 'c', '3', { maxAge: 60, sameSite: 'Lax' });
    return c.json({ in: getCookie(c) });
  });
  app.get('/redirect', (c) => c.redirect('/target', 301));
  app.get('/redirect-default', (c) => c.redirect('https://example.com/elsewhere'));
  app.get('/empty', (c) => c.body(null, 204));
  app.use('/etag', etag());
  app.get('/etag', (c) => c.text('cacheable body'));
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.get('/teapot', () => {
    throw new HTTPException(418, { message: 'short and stout' });
  });
  app.get('/html', (c) => c.html('<p>hi</p>'));
  app.get('/status', (c) => {
    c.status(202);
    c.header('X-Custom', 'yes');
    c.header('Vary', 'Accept', { append: true });
    c.header('Vary', 'Origin', { append: true });
    return c.text('accepted');
  });
  app.get('/stream', (c) =>
    stream(c, async (s) => {
      s.onAbort(() => seen.cancelled++);
      await s.write('first,');
      await s.sleep(5);
      await s.write(new TextEncoder().encode('second,'));
      await s.write('third');
    }),
  );
  app.get('/sse', (c) =>
    streamSSE(c, async (s) => {
      s.onAbort(() => seen.cancelled++);
      for (let i = 1; i <= 3; i++) await s.writeSSE({ id: String(i), event: 'tick', data: `n=${i}` });
    }),
  );
  app.post('/upload', async (c) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const reader = c.req.raw.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      bytes += value.byteLength;
    }
    return c.json({ bytes, sha256: hash.digest('hex') });
  });
  app.put('/text', async (c) => c.text(`len=${(await c.req.text()).length}`));
  // hono/proxy to this same server: the Request stand-in's body feeds an outgoing fetch.
  app.all('/proxy/*', (c) => {
    const target = new URL(c.req.url);
    target.pathname = target.pathname.slice('/proxy'.length);
    return proxy(target, c.req);
  });
  app.get('/url', (c) => c.text(c.req.url));
  app.get('/page', (c) =>
    c.html(`<!doctype html><title>etlt</title><script>
      window.result = (async () => {
        const json = await (await fetch('/json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"from":"chromium"}' })).json();
        await fetch('/cookies');
        const events = await new Promise((resolve, reject) => {
          const got = [];
          const source = new EventSource('/sse');
          source.addEventListener('tick', (e) => {
            got.push([e.lastEventId, e.data]);
            if (got.length === 3) { source.close(); resolve(got); }
          });
          source.onerror = () => { if (got.length < 3) { source.close(); reject(new Error('EventSource failed')); } };
        });
        return { json, cookie: document.cookie, events };
      })();
    </script>`),
  );
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    return c.text(`handled: ${err.message}`, 500);
  });
  app.notFound((c) => c.text(`no route for ${c.req.path}`, 404));
  return app;
}
