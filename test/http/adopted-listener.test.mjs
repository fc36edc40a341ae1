/**
 * `HttpServer({ fd })` given something other than a non-blocking listening socket: an fd
 * that is not open, not a socket, a socket that does not listen, a datagram socket; each is
 * refused with an error that names `fd` and the cause, and left open. And a blocking
 * listener, as systemd socket activation and most supervisors hand it over: it must be made
 * non-blocking, or the process hangs in accept4(2) after a request or two, deaf to SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  AF_INET,
  AF_UNIX,
  F_GETFL,
  HttpServer,
  O_NONBLOCK,
  SOCK_DGRAM,
  SOCK_STREAM,
  Socket,
  WorkerPool,
  socketpair,
  sys,
} from 'etlt';
import { HOST, ROOT, VARIANTS, Scope, curl, waitFor } from '../lib/http.mjs';

/** Asserts that listen() refuses `fd` naming it, and that the fd is still open afterwards. */
function assertRefused(fd, want) {
  const server = new HttpServer({ fd, deferAccept: false });
  assert.throws(() => server.listen(), want);
  assert.equal(server.listening, false);
  return server;
}

test('fd: an fd that is not open is EBADF from getsockopt, naming the fd (not close EBADF)', () => {
  // Far above any fd table (the server's own epoll fd would take a number just closed).
  const fd = 0x7ffffff0;
  assertRefused(fd, (err) => {
    assert.equal(err.code, 'EBADF');
    assert.equal(err.syscall, 'getsockopt');
    assert.match(
      err.message,
      new RegExp(`fd ${fd} is not an open file descriptor; it must be a listening stream socket`),
    );
    return true;
  });
});

test('fd: a file is ENOTSOCK, naming the fd, and stays open (not epoll_ctl EPERM)', () => {
  const fd = openSync('/dev/null', 'r');
  try {
    assertRefused(fd, (err) => {
      assert.equal(err.code, 'ENOTSOCK');
      assert.equal(err.syscall, 'getsockopt');
      assert.match(err.message, new RegExp(`fd ${fd} is not a socket`));
      return true;
    });
    assert.ok(sys.fcntl(fd, F_GETFL, 0) >= 0, 'the refused fd is still open');
  } finally {
    closeSync(fd);
  }
});

test('fd: sockets that do not listen, and datagram sockets, are a RangeError naming fd and what they are', () => {
  const bound = new Socket(AF_INET, SOCK_STREAM);
  bound.bind([HOST, 0]);
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
  const udp = new Socket(AF_INET, SOCK_DGRAM);
  try {
    assertRefused(bound.fileno(), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: new RegExp(`"fd" option .* ${bound.fileno()} is an AF_INET stream socket that is not listening`),
    });
    assertRefused(a.fileno(), {
      code: 'ERR_OUT_OF_RANGE',
      message: /is an AF_UNIX stream socket that is not listening/,
    });
    assertRefused(udp.fileno(), { code: 'ERR_OUT_OF_RANGE', message: /not SOCK_STREAM/ });
    // Still open and still ours: getsockname works.
    assert.equal(bound.getsockname()[0], HOST);
    assert.equal(udp.getsockname()[0], '0.0.0.0');
  } finally {
    for (const s of [bound, a, b, udp]) s.close();
  }
});

test('fd: an adopted blocking listener is made non-blocking, and its family comes from the socket', async (t) => {
  const scope = new Scope(t);
  const listener = new Socket(AF_INET, SOCK_STREAM);
  listener.bind([HOST, 0]);
  listener.listen(16);
  assert.equal(listener.getBlocking(), true);
  const port = listener.getsockname()[1];
  const fd = listener.detach();
  // host is of another family: ignored, the socket says what it is.
  const server = new HttpServer({ fd, host: '::1', deferAccept: false });
  scope.servers.push(server);
  server.listen();
  assert.notEqual(sys.fcntl(fd, F_GETFL, 0) & O_NONBLOCK, 0, 'O_NONBLOCK set on the adopted listener');
  assert.deepEqual(server.address(), { host: HOST, port });
  const r = await curl(port);
  assert.match(r.stdout.toString('latin1'), /^HTTP\/1\.0 200 OK\r\n[\s\S]*Hello, world!$/);
});

/**
 * The server in a child process, its listener a blocking one given as fd 3 (as systemd
 * socket activation gives it): the child prints 'ready', serves, and stops on SIGTERM.
 */
const CHILD = `
import { HttpServer } from ${JSON.stringify(join(ROOT, 'dist', 'src', 'index.js'))};
const [mode, backend] = process.argv.slice(1);
const server = new HttpServer({ fd: 3, mode, backend, handler: (req) => ({ body: 'served ' + req.target }) });
server.listen();
process.on('SIGTERM', () => server.close(1000).then(() => process.exit(0)));
process.stdout.write('ready\\n');
`;

for (const v of VARIANTS) {
  test(`fd: a blocking inherited listener (${v.label}) serves request after request and stops on SIGTERM`, async (t) => {
    const scope = new Scope(t);
    const listener = new Socket(AF_INET, SOCK_STREAM);
    listener.bind([HOST, 0]);
    listener.listen(64);
    const port = listener.getsockname()[1];
    const child = scope.child(
      spawn(process.execPath, ['--input-type=module', '-e', CHILD, v.mode, v.backend], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe', listener.fileno()],
      }),
    );
    listener.close();
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    await waitFor(() => stdout.includes('ready') || child.exitCode !== null, { message: 'the child to serve' });
    assert.equal(child.exitCode, null, `the child exited: ${stderr}`);
    // One after another, then several at once: a blocking listener hangs in accept4 at the first.
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`http://${HOST}:${port}/${i}`, { signal: AbortSignal.timeout(3000) });
      assert.equal(await r.text(), `served /${i}`);
    }
    const many = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fetch(`http://${HOST}:${port}/m${i}`, { signal: AbortSignal.timeout(3000) }).then((r) => r.text()),
      ),
    );
    assert.deepEqual(
      many,
      Array.from({ length: 8 }, (_, i) => `served /m${i}`),
    );
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 4000);
    const [code, signal] = await exited;
    clearTimeout(timer);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stopped by SIGTERM, not SIGKILL; stderr: ${stderr}`);
  });
}

test('WorkerPool: workers share an inherited fd or a Unix path, never with reuseport', () => {
  for (const options of [{ fd: 3 }, { server: { path: '/tmp/etlt-pool.sock' } }]) {
    assert.throws(() => new WorkerPool({ workers: 2, balance: 'reuseport', ...options }), {
      code: 'ERR_OUT_OF_RANGE',
      message: /"balance" option .* 'exclusive' or 'shared' when the workers share `fd` or a `path`/,
    });
    assert.equal(new WorkerPool({ workers: 2, ...options }).balance, 'exclusive');
    assert.equal(
      new WorkerPool({ workers: 2, ...options, server: { ...options.server, backend: 'poll', mode: 'lt' } }).balance,
      'shared',
    );
  }
});
