/**
 * A Hono app moved from @hono/node-server to etlt's `serve` by changing one import (issue 21):
 * the same app (hono-fixture.mjs) answers the same requests on both, compared answer by
 * answer (framing aside: Content-Length against chunked, Connection, Keep-Alive, Date), over
 * Node's fetch, curl and Python's http.client, in every server variant.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { chromium } from 'playwright-core';
import { HOST, ROOT, Scope, VARIANTS, run, waitFor } from './helpers.mjs';
import { served } from './fetch-helpers.mjs';
import { makeApp } from './hono-fixture.mjs';

/** The app on @hono/node-server, in a child process (its serve replaces the globals too). */
let nodePort;
let nodeChild;
let browser;
const CHROMIUM = '/usr/bin/chromium';
before(async () => {
  // Launched before any test's scope takes its fd baseline: the browser's pipes stay open.
  if (!existsSync(CHROMIUM)) assert.fail(`${CHROMIUM} is missing: this test needs Chromium; it does not skip`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  nodeChild = spawn(process.execPath, [join(ROOT, 'test', 'http', 'hono-node-child.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  nodeChild.stdout.setEncoding('utf8');
  nodeChild.stdout.on('data', (d) => (out += d));
  await waitFor(() => /^\d+\n/.test(out), { timeout: 10_000, message: '@hono/node-server to print its port' });
  nodePort = Number(out.trim());
});
after(async () => {
  await browser?.close();
  if (nodeChild.exitCode === null && nodeChild.signalCode === null) {
    const exited = once(nodeChild, 'exit');
    nodeChild.kill('SIGKILL');
    await exited;
  }
});

const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

/**
 * What must be the same on both servers: status, body, and the fields but framing. The media
 * type is compared without spaces (undici's 'text/plain;charset=UTF-8' against
 * @hono/node-server's 'text/plain; charset=UTF-8', which differ only there).
 */
async function answerOf(res) {
  const fields = {};
  for (const [name, value] of res.headers) {
    if (FRAMING.has(name) || name === 'set-cookie') continue;
    fields[name] = name === 'content-type' ? value.replace(/;\s*/g, ';') : value;
  }
  return {
    status: res.status,
    fields,
    cookies: res.headers.getSetCookie(),
    location: res.headers.get('location'),
    body: Buffer.from(await res.arrayBuffer()).toString('utf8'),
  };
}

/** The requests both servers answer, with what etlt must say whatever node-server says. */
const UPLOAD = randomBytes(3 << 20);
const CASES = [
  { path: '/', want: { status: 200, body: 'Hello, world!', type: 'text/plain;charset=UTF-8' } },
  {
    path: '/users/42/posts/7?q=h%C3%A9llo&tag=a&tag=b',
    want: { status: 200, json: { id: '42', post: '7', q: 'héllo', tags: ['a', 'b'] } },
  },
  {
    path: '/json',
    init: { method: 'POST', body: JSON.stringify({ n: 1, s: 'é' }), headers: { 'content-type': 'application/json' } },
    want: { status: 201, json: { got: { n: 1, s: 'é' }, type: 'application/json' } },
  },
  {
    path: '/form',
    init: { method: 'POST', body: new URLSearchParams({ a: '1', b: 'x y', c: 'é' }) },
    want: { status: 200, json: { a: '1', b: 'x y', c: 'é' } },
  },
  {
    path: '/form',
    init: () => {
      const form = new FormData();
      form.append('name', 'etlt');
      form.append('file', new Blob(['file body'], { type: 'text/plain' }), 'f.txt');
      return { method: 'POST', body: form };
    },
    want: { status: 200, json: { name: 'etlt', file: {} } },
  },
  {
    path: '/cookies',
    init: { headers: { cookie: 'in=yes; other=2' } },
    want: {
      status: 200,
      json: { in: { in: 'yes', other: '2' } },
      cookies: ['a=1; Path=/; HttpOnly', 'b=2%2C%20with%20a%20comma; Path=/x', 'c=3; Max-Age=60; Path=/; SameSite=Lax'],
    },
  },
  { path: '/redirect', init: { redirect: 'manual' }, want: { status: 301, location: '/target', body: '' } },
  {
    path: '/redirect-default',
    init: { redirect: 'manual' },
    want: { status: 302, location: 'https://example.com/elsewhere' },
  },
  { path: '/empty', want: { status: 204, body: '' } },
  { path: '/etag', want: { status: 200, body: 'cacheable body' } },
  { path: '/boom', want: { status: 500, body: 'handled: boom' } },
  { path: '/teapot', want: { status: 418, body: 'short and stout' } },
  { path: '/html', want: { status: 200, body: '<p>hi</p>', type: 'text/html;charset=UTF-8' } },
  { path: '/status', want: { status: 202, body: 'accepted', fields: { 'x-custom': 'yes', vary: 'Accept, Origin' } } },
  { path: '/stream', untyped: true, want: { status: 200, body: 'first,second,third' } },
  {
    path: '/sse',
    want: {
      status: 200,
      type: 'text/event-stream',
      body: [1, 2, 3].map((i) => `event: tick\ndata: n=${i}\nid: ${i}\n\n`).join(''),
    },
  },
  {
    path: '/upload',
    init: { method: 'POST', body: UPLOAD, headers: { 'content-type': 'application/octet-stream' } },
    want: { status: 200, json: { bytes: UPLOAD.length, sha256: createHash('sha256').update(UPLOAD).digest('hex') } },
  },
  { path: '/text', init: { method: 'PUT', body: 'x'.repeat(1000) }, want: { status: 200, body: 'len=1000' } },
  {
    path: '/proxy/json',
    init: { method: 'POST', body: '{"via":"proxy"}', headers: { 'content-type': 'application/json' } },
    want: { status: 201, json: { got: { via: 'proxy' }, type: 'application/json' } },
  },
  { path: '/proxy/users/1/posts/2?q=p', want: { status: 200, json: { id: '1', post: '2', q: 'p', tags: [] } } },
  { path: '/nowhere?x=1', want: { status: 404, body: 'no route for /nowhere' } },
];

function check(got, want, what) {
  assert.equal(got.status, want.status, `${what}: status`);
  if (want.body !== undefined) assert.equal(got.body, want.body, `${what}: body`);
  if (want.json !== undefined) assert.deepEqual(JSON.parse(got.body), want.json, `${what}: JSON body`);
  if (want.type !== undefined) assert.equal(got.fields['content-type'], want.type.replace(/;\s*/g, ';'), what);
  if (want.cookies !== undefined) assert.deepEqual(got.cookies, want.cookies, `${what}: Set-Cookie lines`);
  if (want.location !== undefined) assert.equal(got.location, want.location, `${what}: Location`);
  for (const [k, v] of Object.entries(want.fields ?? {})) assert.equal(got.fields[k], v, `${what}: ${k}`);
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`Hono on serve({ fetch }), ${label}`, { timeout: 60_000 }, () => {
    test('answers as on @hono/node-server, and as the app says (Node fetch)', { timeout: 30_000 }, async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, makeApp().fetch, { mode, backend, maxBodyBytes: 16 << 20 });
      for (const c of CASES) {
        const init = typeof c.init === 'function' ? c.init() : c.init;
        const init2 = typeof c.init === 'function' ? c.init() : c.init;
        const ours = await answerOf(await fetch(`http://${HOST}:${port}${c.path}`, init));
        // Connection: close: no connection to the child outlives the test (the scope counts fds).
        const theirs = await answerOf(
          await fetch(`http://${HOST}:${nodePort}${c.path}`, {
            ...init2,
            headers: { ...init2?.headers, connection: 'close' },
          }),
        );
        const what = `${init?.method ?? 'GET'} ${c.path}`;
        check(ours, c.want, `etlt: ${what}`);
        check(theirs, c.want, `@hono/node-server: ${what}`);
        if (c.path === '/etag') {
          const etag = ours.fields.etag;
          assert.ok(etag, 'the etag middleware set an ETag');
          const again = await fetch(`http://${HOST}:${port}/etag`, { headers: { 'if-none-match': etag } });
          assert.equal(again.status, 304, 'If-None-Match with the ETag: 304');
          assert.equal(await again.text(), '');
          assert.equal(again.headers.get('content-length'), null, 'a 304 has no Content-Length of its own');
        }
        if (c.untyped) {
          // A stream body has no Content-Type (as `new Response(stream)`); @hono/node-server
          // labels every body without one 'text/plain; charset=UTF-8'.
          assert.equal(ours.fields['content-type'], undefined, `${what}: no Content-Type on etlt`);
          assert.equal(theirs.fields['content-type'], 'text/plain;charset=UTF-8', `${what}: node-server's`);
          delete theirs.fields['content-type'];
        }
        assert.deepEqual(ours, theirs, `${what}: etlt and @hono/node-server answer alike`);
      }
    });

    test('curl: cookies as separate lines, a redirect, HEAD, a form, an upload', { timeout: 30_000 }, async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, makeApp().fetch, { mode, backend, maxBodyBytes: 16 << 20 });
      const base = `http://${HOST}:${port}`;
      const curl = (args) =>
        run('curl', ['-s', '-S', '--noproxy', '*', '--max-time', '10', '-D', '-', ...args], { buffer: true });
      const cookies = await curl([`${base}/cookies`, `${base}/redirect`, '-o', '/dev/null', '-o', '/dev/null']);
      assert.equal(cookies.code, 0, String(cookies.stderr));
      const text = cookies.stdout.toString('latin1');
      assert.equal((text.match(/^set-cookie: /gim) ?? []).length, 3, `three Set-Cookie lines: ${text}`);
      assert.match(text, /^set-cookie: b=2%2C%20with%20a%20comma; Path=\/x\r$/im);
      assert.match(text, /HTTP\/1\.1 301 Moved Permanently\r\n/);
      assert.match(text, /^location: \/target\r$/im);
      const head = await curl(['-I', `${base}/`]);
      assert.match(head.stdout.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head.stdout.toString('latin1'), /^content-type: text\/plain;charset=UTF-8\r$/im);
      const form = await curl(['-o', '-', '-F', 'name=curl', '-F', 'file=@package.json', `${base}/form`]);
      const body = form.stdout.toString('utf8').split('\r\n\r\n').slice(1).join('\r\n\r\n');
      assert.equal(JSON.parse(body).name, 'curl');
      const file = join(mkdtempSync(join(tmpdir(), 'etlt-fetch-')), 'upload.bin');
      writeFileSync(file, UPLOAD);
      try {
        const up = await curl(['-o', '-', '--data-binary', `@${file}`, `${base}/upload`]);
        const answer = JSON.parse(up.stdout.toString('utf8').split('\r\n\r\n').pop());
        assert.deepEqual(answer, { bytes: UPLOAD.length, sha256: createHash('sha256').update(UPLOAD).digest('hex') });
      } finally {
        rmSync(dirname(file), { recursive: true, force: true });
      }
    });

    test("Python's http.client: one connection, JSON, chunked SSE, a 404, an error", { timeout: 30_000 }, async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, makeApp().fetch, { mode, backend });
      const script = `
import http.client, json, sys
c = http.client.HTTPConnection('${HOST}', ${port}, timeout=10)
out = []
for method, path, body, headers in [
    ('GET', '/users/1/posts/2?q=x', None, {}),
    ('POST', '/json', json.dumps({'py': True}), {'Content-Type': 'application/json'}),
    ('GET', '/sse', None, {}),
    ('GET', '/cookies', None, {'Cookie': 'in=py'}),
    ('GET', '/boom', None, {}),
    ('GET', '/missing', None, {}),
]:
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    out.append([r.status, r.getheader('content-type'), len(r.headers.get_all('set-cookie') or []), r.read().decode()])
print(json.dumps(out))
`;
      const r = await run('python3', ['-c', script]);
      assert.equal(r.code, 0, r.stderr);
      const got = JSON.parse(r.stdout);
      assert.deepEqual(got[0], [200, 'application/json', 0, '{"id":"1","post":"2","q":"x","tags":[]}']);
      assert.deepEqual(got[1], [201, 'application/json', 0, '{"got":{"py":true},"type":"application/json"}']);
      assert.equal(got[2][0], 200);
      assert.match(got[2][3], /^event: tick\ndata: n=1\nid: 1\n\n/);
      assert.deepEqual(got[3].slice(0, 3), [200, 'application/json', 3]);
      assert.deepEqual(got[4], [500, 'text/plain; charset=UTF-8', 0, 'handled: boom']);
      assert.deepEqual(got[5], [404, 'text/plain; charset=UTF-8', 0, 'no route for /missing']);
    });

    test(
      'Chromium: fetch with JSON, cookies from separate Set-Cookie lines, EventSource',
      { timeout: 30_000 },
      async (t) => {
        const scope = new Scope(t);
        const { port } = served(scope, makeApp().fetch, { mode, backend });
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await page.goto(`http://${HOST}:${port}/page`);
          const result = await page.evaluate(() => globalThis.result);
          assert.deepEqual(result, {
            json: { got: { from: 'chromium' }, type: 'application/json' },
            cookie: 'c=3',
            events: [
              ['1', 'n=1'],
              ['2', 'n=2'],
              ['3', 'n=3'],
            ],
          });
        } finally {
          await context.close();
        }
      },
    );

    test("HEAD of a streamed answer (Hono answers GET's head with a null body), the connection kept", async (t) => {
      const scope = new Scope(t);
      const { port } = served(scope, makeApp().fetch, { mode, backend });
      const r = await fetch(`http://${HOST}:${port}/sse`, { method: 'HEAD' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/event-stream');
      assert.equal(await r.text(), '');
      const next = await fetch(`http://${HOST}:${port}/`);
      assert.equal(await next.text(), 'Hello, world!');
    });
  });
}
