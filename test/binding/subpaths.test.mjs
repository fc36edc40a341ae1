/**
 * The package's entry points: each subpath loads what it names and no more (the binding's
 * entries reach no server module), the root export keeps every name, and a consumer
 * project compiles against all of them with `strict` and `skipLibCheck: false`, using the
 * typed events, the selectors' file object type and the os functions' signatures.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';

import { ROOT } from '../lib/util.mjs';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const SUBPATHS = ['select', 'selectors', 'socket', 'os', 'http', 'constants', 'epoll-compat'];

/** Every module a compiled module imports, transitively (relative imports of dist/). */
function reachable(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g))
    reachable(resolve(dirname(file), spec), seen);
  return seen;
}

describe('subpath exports', () => {
  test('package.json names each subpath with its types', () => {
    for (const sub of SUBPATHS) {
      const entry = pkg.exports[`./${sub}`];
      assert.ok(entry?.types && entry?.default, `./${sub}`);
    }
  });

  test('each subpath loads; the binding ones reach no server module', async () => {
    for (const sub of SUBPATHS) {
      const mod = await import(`etlt/${sub}`);
      assert.ok(Object.keys(mod).length > 0, sub);
      if (sub === 'http') continue;
      const files = [...reachable(join(ROOT, pkg.exports[`./${sub}`].default))].map((f) => f.slice(ROOT.length));
      const server = files.filter((f) => /\/dist\/src\/(http|cluster|reactor|lab|cli)\//.test(f));
      assert.deepEqual(server, [], `etlt/${sub} loads ${server.join(', ')}`);
    }
  });

  test('the root export keeps the subpaths names, the same objects', async () => {
    const root = await import('etlt');
    const { Epoll } = await import('etlt/select');
    const { HttpServer, WorkerPool } = await import('etlt/http');
    const { EPOLLIN } = await import('etlt/constants');
    assert.equal(root.Epoll, Epoll);
    assert.equal(root.HttpServer, HttpServer);
    assert.equal(root.WorkerPool, WorkerPool);
    assert.equal(root.EPOLLIN, EPOLLIN);
    assert.equal(typeof root.os.pipe, 'function');
  });

  test(
    'a consumer project compiles against the subpaths (strict, skipLibCheck false)',
    { timeout: 120_000 },
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'etlt-consumer-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
      symlinkSync(ROOT, join(dir, 'node_modules', 'etlt'));
      symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            skipLibCheck: false,
            noEmit: true,
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            lib: ['es2022'],
            types: ['node'],
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
          },
          files: ['main.ts'],
        }),
      );
      writeFileSync(
        join(dir, 'main.ts'),
        `
import { Epoll as CompatEpoll } from 'etlt/epoll-compat';
import type { EpollCallback } from 'etlt/epoll-compat';
import * as os from 'etlt/os';
import { os as rootOs, HttpServer as RootServer } from 'etlt';
import { DefaultSelector, EpollSelector, EVENT_READ } from 'etlt/selectors';
import type { SelectorKey } from 'etlt/selectors';
import { Socket, create_connection, create_server, socketpair } from 'etlt/socket';
import { Epoll, Poll, select, EPOLLIN } from 'etlt/select';
import { HttpServer, WorkerPool } from 'etlt/http';
import type { HttpServerEvents } from 'etlt/http';
import { EFD_NONBLOCK, SOCK_DGRAM, AF_INET } from 'etlt/constants';

const [r, w]: [number, number] = os.pipe();
const efd: number = rootOs.eventfd(0, EFD_NONBLOCK);
const big: bigint = os.eventfd_read(efd, { bigint: true });
const small: number = os.eventfd_read(efd);
const [next, interval]: [bigint, bigint] = os.timerfd_gettime_ns(os.timerfd_create(os.CLOCK_MONOTONIC, { flags: os.TFD_NONBLOCK }));
os.timerfd_settime(efd, { initial: 0.5, interval: 0 });
// @ts-expect-error keyword-only arguments are an options object
os.timerfd_settime(efd, 0, 0.5);

const sel = new DefaultSelector<string, Socket>();
const [a] = socketpair();
sel.register(a, EVENT_READ, 'a');
for (const [key] of sel.select(0)) {
  const sock: Socket = key.fileobj; // no cast
  const data: string | undefined = key.data;
  void sock.recvfrom(10);
}
// @ts-expect-error a selector of Sockets takes Sockets
sel.register(3, EVENT_READ);
const plain = new EpollSelector();
plain.register(r, EVENT_READ);
const k: SelectorKey<unknown> | undefined = plain.getMap()?.get(r);

const udp = new Socket(AF_INET, SOCK_DGRAM);
const [count, from] = udp.recvfromInto(Buffer.alloc(10));
udp.sendto('x', ['127.0.0.1', 9]);
udp.settimeout(1.5);
const t: number | null = udp.gettimeout();
const srv: Socket = create_server(['127.0.0.1', 0], { backlog: 5, reuse_port: true });
const conn: Socket = create_connection(['127.0.0.1', 1], { timeout: 1, all_errors: true });

const cb: EpollCallback = (err, fd, events) => void [err, fd, events];
const poller = new CompatEpoll(cb).add(r, CompatEpoll.EPOLLIN | CompatEpoll.EPOLLET).modify(r, CompatEpoll.EPOLLPRI);
const closed: boolean = poller.remove(r).close().closed;

const server = new HttpServer({ port: 0 });
server.on('listening', () => {});
server.on('handlerError', (err: unknown) => void err);
server.once('error', (err: Error) => void err.message);
// @ts-expect-error 'listening' carries no argument
server.on('listening', (port: number) => void port);
// @ts-expect-error no such event
server.on('listenning', () => {});
const disposable: AsyncDisposable = server;
const poolDisposable: AsyncDisposable = new WorkerPool({ workers: 1 });
const events: keyof HttpServerEvents = 'close';
const same: typeof HttpServer = RootServer;
const ep: Epoll = new Epoll();
ep.watch(() => {}, (err) => void err.errno);
void [w, big, small, next, interval, k, count, from, t, srv, conn, closed, disposable, poolDisposable, events, same, Poll, select, EPOLLIN];
`,
      );
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = await new Promise((done) =>
        execFile(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 100_000 }, (err, stdout, stderr) =>
          done({ code: err ? (err.code ?? 1) : 0, out: stdout + stderr }),
        ),
      );
      assert.equal(result.code, 0, result.out);
    },
  );
});
