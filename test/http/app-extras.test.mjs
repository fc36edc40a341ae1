/**
 * What an application needs around its handler (issue 20, item 5), in every server
 * variant: a root and a handler on one server (files first, the handler for the rest), and
 * the 'access' event; and `etlt serve --access-log` in the common log format.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, curl, req, responsesFrom, run, startCli, waitFor } from './helpers.mjs';
import { makeRoot } from './static-fixture.mjs';

const tree = makeRoot();
after(() => tree.remove());

before(async () => {
  await run('true', []);
});

for (const { mode, backend, label } of VARIANTS) {
  describe(`root and handler, access log, ${label}`, { timeout: 30_000 }, () => {
    test('files first; the handler gets what is not a file, and other methods', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({
        mode,
        backend,
        root: tree.root,
        handler: (r) => ({
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([r.method, r.target]),
        }),
      });
      const c = await connected(scope, port);
      await c.write(
        Buffer.concat([
          req('/hello.txt'),
          req('/api/items'),
          req('/hello.txt', { method: 'POST', body: 'x', length: true }),
          req('/data.bin', { headers: [['Range', 'bytes=10-19']] }),
          req('/sub/'),
          req('/.hidden'),
        ]),
      );
      const [file, api, post, range, index, dot] = await responsesFrom(c, 6);
      assert.equal(file.body.toString(), 'Hello, static world!\n');
      assert.ok(file.headers.etag, 'validators kept');
      assert.deepEqual(JSON.parse(api.body), ['GET', '/api/items']);
      assert.deepEqual(JSON.parse(post.body), ['POST', '/hello.txt']);
      assert.equal(range.status, 206);
      assert.ok(range.body.equals(tree.files['data.bin'].subarray(10, 20)));
      assert.equal(index.body.toString(), '<p>sub index</p>\n');
      assert.deepEqual(JSON.parse(dot.body), ['GET', '/.hidden'], 'a denied dotfile is a 404, so the handler answers');
      const curled = await curl(port, '/hello.txt');
      assert.match(curled.stdout.toString(), /\r\n\r\nHello, static world!\n$/);
    });

    test("'access': one entry per response, recorded only while someone listens", async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({
        mode,
        backend,
        handler: async (r) =>
          r.target === '/stream'
            ? {
                body: (async function* () {
                  yield 'ab';
                  yield 'cde';
                })(),
              }
            : { status: 201, body: 'hello' },
      });
      const entries = [];
      const listener = (e) => entries.push(e);
      server.on('access', listener);
      const c = await connected(scope, port);
      await c.write(Buffer.concat([req('/x?y=1', { method: 'PUT' }), req('/stream')]));
      await waitFor(() => entries.length === 2 && c.data.toString().endsWith('0\r\n\r\n'), { message: 'two entries' });
      const [a, s] = entries;
      assert.deepEqual(
        { ...a, durationMs: typeof a.durationMs, time: typeof a.time },
        {
          method: 'PUT',
          target: '/x?y=1',
          version: '1.1',
          status: 201,
          bytes: 5,
          durationMs: 'number',
          remoteAddress: '127.0.0.1',
          remotePort: c.socket.localPort,
          time: 'number',
        },
      );
      assert.ok(a.durationMs >= 0 && a.durationMs < 5000);
      assert.equal(s.target, '/stream');
      assert.equal(s.bytes, '2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n'.length);
      server.off('access', listener);
      await c.write(req('/after'));
      await waitFor(() => c.data.toString().endsWith('hello'), { message: 'the third response' });
      assert.equal(entries.length, 2, 'nothing once nobody listens');
    });
  });
}

test('etlt serve --access-log FILE writes the common log format', { timeout: 30_000 }, async (t) => {
  const scope = new Scope(t);
  const dir = mkdtempSync(join(tmpdir(), 'etlt-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.log');
  const cli = await startCli(scope, 'et', ['--quiet', '--access-log', file]);
  const c = await connected(scope, cli.port);
  await c.write(Buffer.concat([req('/a%20b?q="x"'), Buffer.from('GET /zero HTTP/1.0\r\n\r\n')]));
  await c.closedWithin(3000);
  await cli.stop();
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines.length, 2, lines.join('\n'));
  const clf = /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "([^"]*)" (\d{3}) (\d+|-)$/;
  const [first, second] = lines.map((l) => clf.exec(l));
  assert.ok(first && second, lines.join('\n'));
  assert.equal(first[1], 'GET /a%20b?q=\\x22x\\x22 HTTP/1.1', 'a quote from the client cannot end the field');
  assert.deepEqual([first[2], first[3]], ['200', '13']);
  assert.equal(second[1], 'GET /zero HTTP/1.0');
});
