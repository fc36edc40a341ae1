/**
 * `HttpServer({ path })`: HTTP over a Unix domain socket, as nginx or a container runtime
 * talks to an upstream: curl --unix-socket, Python's http.client over an AF_UNIX socket and
 * Node's http with socketPath, in every mode and backend; the file's mode; a stale file from
 * a crashed run replaced, while a live server's socket and a file that is not a socket are
 * left alone (EADDRINUSE); the file removed on close; the abstract namespace.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { AF_UNIX, HttpServer, SOCK_STREAM, Socket } from 'etlt';
import { VARIANTS, Scope, run } from '../lib/http.mjs';

/** A fresh directory for socket files, removed after the test. */
function socketDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A server on `path` (not yet listening), closed by the scope. */
function unixServer(scope, options) {
  const server = new HttpServer({ idleTimeoutMs: 10_000, ...options });
  server.on('error', (err) => {
    scope.serverError = err;
  });
  scope.servers.push(server);
  return server;
}

/** GET `target` with Node's http over the socket: { status, body, headers }. */
function nodeGet(socketPath, target, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: target, headers, agent: false, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString(), headers: res.headers }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** Python's http.client over an AF_UNIX socket: two requests on one kept-alive connection. */
const PYTHON = `
import http.client, socket, sys
class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__('localhost', timeout=5)
        self.unix_path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.unix_path)
c = UnixConnection(sys.argv[1])
for target in ('/py1', '/py2'):
    c.request('POST', target, body=b'abc')
    r = c.getresponse()
    print(r.status, r.read().decode())
c.close()
`;

const echo = (req) => ({ headers: { 'x-method': req.method }, body: `${req.method} ${req.target} ${req.body.length}` });

for (const v of VARIANTS) {
  test(`unix socket (${v.label}): curl, Python http.client and Node http are served; the file goes on close`, async (t) => {
    const scope = new Scope(t);
    const path = join(socketDir(t), 'http.sock');
    const server = unixServer(scope, { mode: v.mode, backend: v.backend, path, handler: echo });
    assert.deepEqual(server.listen(), { host: `unix:${path}`, port: 0, path });
    assert.ok(lstatSync(path).isSocket());

    const c = await run('curl', ['-s', '-S', '--max-time', '5', '--unix-socket', path, '-i', 'http://localhost/curl']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(c.stdout, /\r\n\r\nGET \/curl 0$/);

    const py = await run('python3', ['-c', PYTHON, path]);
    assert.equal(py.code, 0, py.stderr);
    assert.equal(py.stdout, '200 POST /py1 3\n200 POST /py2 3\n');

    const n = await nodeGet(path, '/node', { connection: 'close' });
    assert.deepEqual([n.status, n.body, n.headers['x-method']], [200, 'GET /node 0', 'GET']);

    // The seed's fixed response and HTTP/1.0 too, over a raw socket.
    const raw = net.connect(path);
    raw.end('GET / HTTP/1.0\r\n\r\n');
    const chunks = [];
    raw.on('data', (d) => chunks.push(d));
    await once(raw, 'close');
    assert.match(Buffer.concat(chunks).toString('latin1'), /^HTTP\/1\.0 200 OK\r\n[\s\S]*\r\n\r\nGET \/ 0$/);

    await server.close();
    assert.equal(existsSync(path), false, 'the socket file is removed on close');
  });
}

test('unix socket: socketMode sets the file mode before clients can connect', async (t) => {
  const scope = new Scope(t);
  const dir = socketDir(t);
  for (const mode of [0o600, 0o660, 0o777]) {
    const path = join(dir, `m${mode.toString(8)}.sock`);
    const server = unixServer(scope, { path, socketMode: mode });
    server.listen();
    assert.equal(statSync(path).mode & 0o777, mode);
    await server.close();
  }
});

test('unix socket: a stale file from a crashed run is replaced; a live server keeps its socket (EADDRINUSE)', async (t) => {
  const scope = new Scope(t);
  const path = join(socketDir(t), 'stale.sock');
  // A crashed run: bound and listened once, then gone without removing its file.
  const crashed = new Socket(AF_UNIX, SOCK_STREAM);
  crashed.bind(path);
  crashed.listen(1);
  crashed.close();
  assert.ok(lstatSync(path).isSocket(), 'the stale file is there');
  const first = unixServer(scope, { path, body: 'first' });
  first.listen();
  assert.equal((await nodeGet(path, '/')).body, 'first');

  const inode = lstatSync(path).ino;
  const second = unixServer(scope, { path, body: 'second' });
  assert.throws(
    () => second.listen(),
    (err) => {
      assert.equal(err.code, 'EADDRINUSE');
      assert.equal(err.address, path);
      assert.match(err.message, /a server is listening on it/);
      return true;
    },
  );
  assert.equal(lstatSync(path).ino, inode, "the live server's file is untouched");
  assert.equal((await nodeGet(path, '/')).body, 'first', 'the first server still answers');

  // A live listener that is not ours (Node's net), with a full queue or not: still live.
  await first.close();
  // The probe connects and closes at once: that peer's write may fail, which is no failure here.
  const other = net.createServer((s) =>
    s.on('error', () => {}).once('data', () => s.end('HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nnode')),
  );
  other.listen(path);
  await once(other, 'listening');
  try {
    assert.throws(() => unixServer(scope, { path }).listen(), { code: 'EADDRINUSE' });
    assert.equal((await nodeGet(path, '/')).body, 'node');
  } finally {
    other.close();
    await once(other, 'close');
  }
});

test('unix socket: a path that is not a socket is never removed (EADDRINUSE)', (t) => {
  const scope = new Scope(t);
  const path = join(socketDir(t), 'precious.txt');
  writeFileSync(path, 'keep me');
  assert.throws(() => unixServer(scope, { path }).listen(), {
    code: 'EADDRINUSE',
    message: /is not a socket; not removed/,
  });
  assert.equal(readFileSync(path, 'utf8'), 'keep me');
});

test('unix socket: a file of another server that replaced ours is left alone on close', async (t) => {
  const scope = new Scope(t);
  const path = join(socketDir(t), 'replaced.sock');
  const server = unixServer(scope, { path });
  server.listen();
  // Someone removed our file and another server bound the name.
  rmSync(path);
  const other = net.createServer((s) => s.on('error', () => {}).end());
  other.listen(path);
  await once(other, 'listening');
  try {
    await server.close();
    assert.ok(lstatSync(path).isSocket(), "the other server's socket file is still there");
  } finally {
    other.close();
    await once(other, 'close');
  }
});

test('unix socket: the abstract namespace (a leading NUL) has no file', async (t) => {
  const scope = new Scope(t);
  const name = `\0etlt-test-${process.pid}`;
  const server = unixServer(scope, { path: name, body: 'abstract' });
  assert.equal(server.listen().path, name);
  // Python's address is the name's exact length, as Linux compares it (libuv pads it to sun_path's size).
  const py = await run('python3', [
    '-c',
    'import socket,sys; s=socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(b"\\0" + sys.argv[1].encode()); ' +
      's.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n"); d=b""\nwhile True:\n  b=s.recv(4096)\n  if not b: break\n  d+=b\nprint(d.decode())',
    name.slice(1),
  ]);
  assert.equal(py.code, 0, py.stderr);
  assert.match(py.stdout, /^HTTP\/1\.0 200 OK\r\n[\s\S]*\r\n\r\nabstract\n$/);
  await server.close();
});

test('unix socket: options that cannot go with path are refused, naming them', () => {
  const long = `/tmp/${'x'.repeat(120)}`;
  assert.throws(() => new HttpServer({ path: '' }), { code: 'ERR_OUT_OF_RANGE', message: /"path" option/ });
  assert.throws(() => new HttpServer({ path: long }), { code: 'ERR_OUT_OF_RANGE', message: /1 to 107 bytes/ });
  assert.throws(() => new HttpServer({ path: '/tmp/a\0b' }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new HttpServer({ path: 42 }), { code: 'ERR_INVALID_ARG_TYPE', message: /"path" option/ });
  for (const extra of [{ port: 80 }, { host: '127.0.0.1' }, { fd: 3 }, { reusePort: true }]) {
    const name = Object.keys(extra)[0];
    assert.throws(() => new HttpServer({ path: '/tmp/x.sock', ...extra }), {
      code: 'ERR_OUT_OF_RANGE',
      message: new RegExp(`without "${name}"`),
    });
  }
  assert.throws(() => new HttpServer({ socketMode: 0o600 }), { message: /"socketMode" option/ });
  assert.throws(() => new HttpServer({ path: '\0abstract', socketMode: 0o600 }), { message: /"socketMode" option/ });
  assert.throws(() => new HttpServer({ path: '/tmp/x.sock', socketMode: 0o1777 }), { code: 'ERR_OUT_OF_RANGE' });
});
