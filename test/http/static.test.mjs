/**
 * Static files over raw sockets, both trigger modes: the traversal list (clients normalise
 * paths, so it is sent raw), symlinks, dotfiles, FIFOs and devices, directories, methods,
 * HEAD, ranges and conditional requests, pipelining (at most 16 files open per connection), and the ends of a transfer: aborted,
 * timed out, or a file that shrinks while it is sent. Every test's Scope checks that no fd
 * (socket or file) is left open afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  VARIANTS,
  Scope,
  connected,
  req,
  responsesFrom,
  responsesIn,
  run,
  show,
  statsReach,
  waitFor,
} from './helpers.mjs';
import { openFds } from '../lib/util.mjs';
import { SECRET, makeRoot } from './static-fixture.mjs';

let tree;
before(async () => {
  await run('true', []);
  tree = makeRoot();
});
after(() => tree?.remove());

/** One request on its own connection (Connection: close), its one response. */
async function get(scope, port, target, { method = 'GET', headers = [] } = {}) {
  const c = await connected(scope, port);
  await c.write(req(target, { method, headers: [...headers, ['Connection', 'close']] }));
  const r = await c.closedWithin(5000, `the response to ${method} ${target}`);
  const [res] = responsesIn(r.data, { isHead: () => method === 'HEAD' });
  return res;
}

/** Targets that must never reach a file outside the root, nor a hidden one. */
const HOSTILE = [
  '/../secret.txt',
  '/../../../../etc/passwd',
  '/sub/../../secret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E/%2E%2E/etc/passwd',
  '/.%2e/secret.txt',
  '/%2e%2e%2fsecret.txt',
  '/..%2fsecret.txt',
  '/sub%2f..%2f..%2fsecret.txt',
  '/..\\secret.txt',
  '/sub\\..\\..\\secret.txt',
  '/%5c..%5csecret.txt',
  '/hello.txt%00.html',
  '/%00',
  '//etc/passwd',
  '//../secret.txt',
  '/sub//../../secret.txt',
  'http://localhost/../secret.txt',
  'http://localhost/%2e%2e/secret.txt',
  'http://localhost//etc/passwd',
  '/etc/passwd/..',
  '/link-out.txt',
  '/etc-link/passwd',
  '/up/secret.txt',
  '/up/root-sibling.txt',
  '/.env',
  '/.git/config',
  '/%2eenv',
  '/sub/../.env',
  '/%c0%ae%c0%ae/secret.txt',
];

for (const { mode, backend, label } of VARIANTS) {
  describe(`static files, ${label}`, { timeout: 60_000 }, () => {
    test('the traversal list: every target is 400 or 404, none shows a byte outside the root', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, root: tree.root });
      for (const target of HOSTILE) {
        const c = await connected(scope, port);
        await c.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        const r = await c.closedWithin(5000, target);
        const text = r.data.toString('latin1');
        assert.match(text, /^HTTP\/1\.1 (400|404) /, `${target}: ${show(r.data)}`);
        assert.ok(!text.includes(SECRET) && !text.includes('root:x:0') && !text.includes('DOTFILE'), target);
      }
    });

    test('files, types, validators; a directory: 301 to add the slash, its index, or 404', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, root: tree.root });
      const hello = await get(scope, port, '/hello.txt');
      assert.equal(hello.status, 200);
      assert.deepEqual(hello.body, tree.files['hello.txt']);
      assert.equal(hello.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(hello.headers['accept-ranges'], 'bytes');
      assert.match(hello.headers.etag, /^"[0-9a-f]+-15"$/);
      assert.ok(Date.parse(hello.headers['last-modified']) > 0);
      assert.deepEqual((await get(scope, port, '/data.bin')).body, tree.files['data.bin']);
      assert.equal((await get(scope, port, '/data.bin')).headers['content-type'], 'application/octet-stream');
      assert.deepEqual((await get(scope, port, '/with%20space.txt')).body, tree.files['with space.txt']);
      const empty = await get(scope, port, '/empty.txt');
      assert.equal(empty.status, 200);
      assert.equal(empty.headers['content-length'], '0');
      const index = await get(scope, port, '/');
      assert.deepEqual(index.body, tree.files['index.html']);
      assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
      const moved = await get(scope, port, '/sub?x=1');
      assert.equal(moved.status, 301);
      assert.equal(moved.headers.location, '/sub/?x=1');
      assert.deepEqual((await get(scope, port, '/sub/')).body, tree.files['sub/index.html']);
      assert.equal((await get(scope, port, '/noindex/')).status, 404);
      assert.equal((await get(scope, port, '/missing.txt')).status, 404);
      assert.equal((await get(scope, port, '/hello.txt/')).status, 404);
      // A symlink that stays inside the root is followed.
      assert.deepEqual((await get(scope, port, '/link-in.txt')).body, tree.files['hello.txt']);
    });

    test('other methods: 405 with Allow, and the connection goes on', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, root: tree.root });
      const c = await connected(scope, port);
      await c.write(Buffer.concat([req('/hello.txt', { method: 'POST', body: 'x', length: true }), req('/hello.txt')]));
      const [post, getRes] = await responsesFrom(c, 2);
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET, HEAD');
      assert.equal(post.headers.connection, undefined);
      assert.deepEqual(getRes.body, tree.files['hello.txt']);
      for (const method of ['PUT', 'DELETE', 'OPTIONS'])
        assert.equal((await get(scope, port, '/', { method })).status, 405);
    });

    test('a FIFO and a device under the root are refused (403) without blocking the loop', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, root: tree.root });
      assert.equal((await get(scope, port, '/fifo')).status, 403);
      if (tree.device) assert.equal((await get(scope, port, '/null')).status, 403);
      // Beneath the root, a link out is refused before any open; followed, it reaches the device.
      assert.equal((await get(scope, port, '/null-link')).status, 404);
      const following = scope.server({ mode, backend, root: tree.root, followSymlinks: true });
      assert.equal((await get(scope, following.port, '/null-link')).status, 403);
      assert.equal((await get(scope, port, '/hello.txt')).status, 200);
    });

    test('dotfiles: allow serves them; --follow-symlinks follows a link out of the root', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, root: tree.root, dotfiles: 'allow', followSymlinks: true });
      assert.deepEqual((await get(scope, port, '/.env')).body, tree.files['.env']);
      assert.equal((await get(scope, port, '/link-out.txt')).body.toString(), SECRET);
      // Still never through '..' in the path itself.
      assert.equal((await get(scope, port, '/../secret.txt')).status, 400);
      const noIndex = scope.server({ mode, backend, root: tree.root, index: '' });
      assert.equal((await get(scope, noIndex.port, '/')).status, 404);
    });

    test('HEAD: the fields of GET without the content, over keep-alive, pipelined', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, root: tree.root });
      const c = await connected(scope, port);
      await c.write(Buffer.concat([req('/data.bin', { method: 'HEAD' }), req('/hello.txt'), req('/sub/style.css')]));
      const rs = await responsesFrom(c, 3, { isHead: (i) => i === 0 });
      assert.equal(rs[0].status, 200);
      assert.equal(rs[0].headers['content-length'], '100000');
      assert.equal(rs[0].body.length, 0);
      assert.deepEqual(rs[1].body, tree.files['hello.txt']);
      assert.deepEqual(rs[2].body, tree.files['sub/style.css']);
      assert.equal(rs[2].headers['content-type'], 'text/css; charset=utf-8');
      assert.equal(
        c.data.length,
        rs.reduce((n, r) => n + r.raw.length, 0),
        'nothing after the three responses',
      );
    });

    test('tiny files pipelined to a reader that does not read hold at most 16 files open', async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend, root: tree.root, maxRequests: 100_000 });
      const c = await connected(scope, port, { paused: true });
      void c.write(Buffer.concat(Array.from({ length: 20_000 }, () => req('/hello.txt'))));
      // Until the socket is full and the server waits for it (LT: for an EPOLLOUT that the
      // reader's silence withholds, with or without an EAGAIN first).
      let sent = -1;
      await waitFor(
        () => {
          const { bytesOut } = server.stats();
          const still = bytesOut === sent && bytesOut > 0;
          sent = bytesOut;
          return still;
        },
        { timeout: 10_000, interval: 100, message: 'the server to stop sending' },
      );
      const open = [...openFds().values()].filter((target) => target.endsWith('/hello.txt')).length;
      assert.ok(open <= 16, `${open} files open for one connection`);
      c.socket.resume();
      await statsReach(server, (s) => s.responses === 20_000, 'every response', 20_000);
      c.destroy();
    });

    test('ranges: single, open, suffix; 416 with bytes */SIZE; several ranges give the whole file', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, root: tree.root });
      const data = tree.files['data.bin'];
      const range = (v) => get(scope, port, '/data.bin', { headers: [['Range', v]] });
      let r = await range('bytes=10-19');
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], 'bytes 10-19/100000');
      assert.deepEqual(r.body, data.subarray(10, 20));
      r = await range('bytes=99990-');
      assert.deepEqual(r.body, data.subarray(99990));
      r = await range('bytes=-7');
      assert.equal(r.headers['content-range'], 'bytes 99993-99999/100000');
      assert.deepEqual(r.body, data.subarray(99993));
      r = await range('bytes=100000-');
      assert.equal(r.status, 416);
      assert.equal(r.headers['content-range'], 'bytes */100000');
      r = await range('bytes=0-1,5-6');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, data);
      const etag = (await get(scope, port, '/data.bin', { method: 'HEAD' })).headers.etag;
      r = await get(scope, port, '/data.bin', {
        headers: [
          ['Range', 'bytes=0-3'],
          ['If-Range', etag],
        ],
      });
      assert.equal(r.status, 206);
      r = await get(scope, port, '/data.bin', {
        headers: [
          ['Range', 'bytes=0-3'],
          ['If-Range', '"stale"'],
        ],
      });
      assert.equal(r.status, 200);
      assert.equal(r.body.length, data.length);
    });

    test('conditional requests: 304 without a body, 412 when a precondition fails', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, root: tree.root });
      const first = await get(scope, port, '/hello.txt');
      const { etag } = first.headers;
      const lastModified = first.headers['last-modified'];
      let r = await get(scope, port, '/hello.txt', { headers: [['If-None-Match', etag]] });
      assert.equal(r.status, 304);
      assert.equal(r.headers.etag, etag);
      assert.equal(r.body.length, 0);
      r = await get(scope, port, '/hello.txt', { headers: [['If-Modified-Since', lastModified]] });
      assert.equal(r.status, 304);
      r = await get(scope, port, '/hello.txt', { headers: [['If-Match', '"nope"']] });
      assert.equal(r.status, 412);
      r = await get(scope, port, '/hello.txt', { headers: [['If-Unmodified-Since', 'Mon, 01 Jan 1990 00:00:00 GMT']] });
      assert.equal(r.status, 412);
      r = await get(scope, port, '/hello.txt', { headers: [['If-Match', etag]] });
      assert.equal(r.status, 200);
    });
  });
}

describe('static options', () => {
  test('bad options name themselves; a root that cannot be opened fails listen() with its path', async () => {
    const { HttpServer, EtltSystemError } = await import('../../dist/src/index.js');
    assert.throws(
      () => new HttpServer({ root: 42 }),
      (e) => e instanceof TypeError && /"root"/.test(e.message),
    );
    assert.throws(() => new HttpServer({ root: tree.root, dotfiles: 'yes' }), /"dotfiles" option.*'deny', 'allow'/);
    assert.throws(() => new HttpServer({ root: tree.root, index: '../x' }), /"index" option/);
    assert.throws(() => new HttpServer({ root: tree.root, followSymlinks: 1 }), /"followSymlinks"/);
    const missing = new HttpServer({ host: '127.0.0.1', port: 0, root: `${tree.root}/nope` });
    assert.throws(
      () => missing.listen(),
      (e) => e instanceof EtltSystemError && e.code === 'ENOENT' && e.message.includes(`${tree.root}/nope`),
    );
    assert.equal(missing.listening, false);
    const file = new HttpServer({ host: '127.0.0.1', port: 0, root: `${tree.root}/hello.txt` });
    assert.throws(
      () => file.listen(),
      (e) => e.code === 'ENOTDIR',
    );
  });
});
