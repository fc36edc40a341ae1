/**
 * Streamed response bodies (issue 20, item 2), in every server variant, read by real
 * clients: chunks leave as they come (fetch's streaming reader sees the first event while
 * the generator is still held), backpressure bounds what an endless stream costs a client
 * that does not read, a Content-Length the stream does not keep closes the connection, an
 * error after the head truncates the body, HTTP/1.0 ends it with the close, `{ file }`
 * goes out with its range, and a client that resets gets the generator's finally run.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, req, responsesFrom, run, statsReach, waitFor } from './helpers.mjs';

const dir = mkdtempSync(join(tmpdir(), 'etlt-stream-'));
const FILE = join(dir, 'data.bin');
const FILE_BYTES = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
writeFileSync(FILE, FILE_BYTES);

before(async () => {
  await run('true', []);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes of a deterministic body: `n` chunks of `size`, each filled with its index. */
function* pieces(n, size) {
  for (let i = 0; i < n; i++) yield Buffer.alloc(size, i & 0xff);
}
const sha = (buf) => createHash('sha256').update(buf).digest('hex');

const PY_CHUNKED = `
import http.client, hashlib, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)
c.request('GET', '/big')
r = c.getresponse()
print(r.status, r.getheader('Transfer-Encoding'), hashlib.sha256(r.read()).hexdigest())
`;

for (const { mode, backend, label } of VARIANTS) {
  describe(`streamed responses, ${label}`, { timeout: 60_000 }, () => {
    test('server-sent events: the first event reaches fetch while the stream is still held', async (t) => {
      const scope = new Scope(t);
      let release;
      const held = new Promise((r) => (release = r));
      // fetch keeps its connection for later: the keep-alive timeout lets it go after the test.
      const { port } = scope.server({
        mode,
        backend,
        keepAliveTimeoutMs: 200,
        handler: () => ({
          headers: { 'Content-Type': 'text/event-stream' },
          body: (async function* () {
            yield 'data: first\n\n';
            await held;
            yield 'data: last\n\n';
          })(),
        }),
      });
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      const reader = res.body.getReader();
      const first = await reader.read();
      assert.equal(Buffer.from(first.value).toString(), 'data: first\n\n');
      release();
      let rest = '';
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
      assert.equal(rest, 'data: last\n\n');
    });

    test('curl and Python http.client read a 3 MiB chunked stream byte for byte', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        handler: (r) => ({
          body: (async function* () {
            yield* pieces(r.target === '/big' ? 48 : 0, 65536);
          })(),
        }),
      });
      const want = sha(Buffer.concat([...pieces(48, 65536)]));
      const c = await run('curl', ['-s', '--max-time', '20', `http://127.0.0.1:${port}/big`], {
        buffer: true,
        timeout: 25_000,
      });
      assert.equal(c.code, 0, c.stderr);
      assert.equal(sha(c.stdout), want);
      const limited = await run(
        'curl',
        ['-s', '--limit-rate', '3M', '--max-time', '20', `http://127.0.0.1:${port}/big`],
        { buffer: true, timeout: 25_000 },
      );
      assert.equal(sha(limited.stdout), want, 'read at 3 MB/s');
      const py = await run('python3', ['-c', PY_CHUNKED, String(port)], { timeout: 25_000 });
      assert.equal(py.stdout.trim(), `200 chunked ${want}`, py.stderr);
    });

    test('a client that does not read: the stream is not pulled past the high-water mark', async (t) => {
      const scope = new Scope(t);
      let pulled = 0;
      let finallyRan = 0;
      const { server, port } = scope.server({
        mode,
        backend,
        handler: () => ({
          body: (async function* () {
            try {
              for (;;) {
                pulled += 16384;
                yield Buffer.alloc(16384, 120);
              }
            } finally {
              finallyRan++;
            }
          })(),
        }),
      });
      const c = scope.client(port, { paused: true });
      await c.connect();
      await c.write(req('/'));
      // Pulling stops once the kernel's buffers and 64 KiB of ours are full.
      await statsReach(server, (s) => s.sendAgain > 0, 'the socket to be full');
      const settled = pulled;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(pulled, settled, 'no pull while the output is over the high-water mark');
      const sent = server.stats().bytesOut;
      assert.ok(pulled - sent <= 64 * 1024 + 16384 + 64, `${pulled - sent} bytes pulled and unsent`);
      c.reset();
      await waitFor(() => finallyRan === 1, { timeout: 3000, message: "the generator's finally to run" });
    });

    test('a Content-Length the stream does not keep, and an error after the head, end the connection', async (t) => {
      const scope = new Scope(t);
      const errors = [];
      const { server, port } = scope.server({
        mode,
        backend,
        handler: (r) => ({
          headers: r.target === '/error' ? {} : { 'Content-Length': '5' },
          body: (async function* () {
            yield 'abc';
            if (r.target === '/long') yield 'defg';
            if (r.target === '/error') throw new Error('the source failed');
            if (r.target === '/exact') yield 'de';
          })(),
        }),
      });
      server.on('handlerError', (err) => errors.push(err.message));
      for (const target of ['/short', '/long', '/error']) {
        const c = await connected(scope, port);
        await c.write(Buffer.concat([req(target), req('/exact')]));
        const { data } = await c.closedWithin(3000, `the close after ${target}`);
        const text = data.toString('latin1');
        const body = text.slice(text.indexOf('\r\n\r\n') + 4);
        assert.equal(text.match(/HTTP\/1\.1/g).length, 1, `${target}: nothing after the broken response`);
        if (target === '/error') {
          assert.match(text, /Transfer-Encoding: chunked/);
          assert.equal(body, '3\r\nabc\r\n', 'no last chunk');
        } else assert.equal(body, 'abc', `${target}: fewer bytes than promised, never more`);
      }
      assert.equal(errors.length, 3, errors.join('; '));
      const c = await connected(scope, port);
      await c.write(Buffer.concat([req('/exact'), req('/exact')]));
      const rs = await responsesFrom(c, 2);
      assert.deepEqual(
        rs.map((r) => r.body.toString()),
        ['abcde', 'abcde'],
      );
    });

    test('HTTP/1.0 gets the stream until the close; pipelined requests wait their turn', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        handler: (r) =>
          r.target === '/plain'
            ? { body: 'plain' }
            : {
                body: new ReadableStream({
                  start(ctl) {
                    ctl.enqueue(new TextEncoder().encode('web '));
                    setTimeout(() => {
                      ctl.enqueue('stream');
                      ctl.close();
                    }, 20);
                  },
                }),
              },
      });
      const ten = await connected(scope, port);
      await ten.write('GET /s HTTP/1.0\r\n\r\n');
      const { data } = await ten.closedWithin(3000);
      const text = data.toString('latin1');
      assert.match(text, /^HTTP\/1\.0 200 OK\r\n/);
      assert.match(text, /Connection: close\r\n/);
      assert.doesNotMatch(text, /Content-Length|Transfer-Encoding/);
      assert.ok(text.endsWith('\r\n\r\nweb stream'), text);
      const c = await connected(scope, port);
      await c.write(Buffer.concat([req('/s'), req('/plain')]));
      await waitFor(() => c.data.toString().endsWith('plain'), { timeout: 3000, message: 'both responses' });
      const all = c.data.toString('latin1');
      assert.ok(all.indexOf('0\r\n\r\n') < all.indexOf('HTTP/1.1 200 OK', 10), 'the second after the first ended');
    });

    test('{ file } with a range goes out with sendfile; a missing file is a 500', async (t) => {
      const scope = new Scope(t);
      const errors = [];
      const { server, port } = scope.server({
        mode,
        backend,
        handler: (r) =>
          r.target === '/missing'
            ? { body: { file: join(dir, 'nope') } }
            : { headers: { 'Content-Type': 'application/octet-stream' }, body: { file: FILE, start: 10, end: 70_009 } },
      });
      server.on('handlerError', (err) => errors.push(err));
      const got = await run('curl', ['-s', '--max-time', '5', `http://127.0.0.1:${port}/f`], { buffer: true });
      assert.equal(got.stdout.length, 70_000);
      assert.ok(got.stdout.equals(FILE_BYTES.subarray(10, 70_010)));
      const c = await connected(scope, port);
      await c.write(req('/missing'));
      const [r] = await responsesFrom(c, 1);
      assert.equal(r.status, 500);
      assert.match(String(errors[0]), /ENOENT/);
    });
  });
}
