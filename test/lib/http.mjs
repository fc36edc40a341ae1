/**
 * Helpers for the HTTP server's tests: raw node:net clients that record every byte and how
 * the connection ended, a per-test scope that stops every server, socket and child it was
 * given and then asserts the fd count and the servers' open connections are back to their
 * baseline, the `etlt serve` CLI as a child process, and external clients (curl, ab, wrk).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { HttpServer } from 'etlt';
import { abFields, wrkFields } from '../../bench/lib/tools.mjs';
import { ROOT, fdCount, openFds, waitFor } from './util.mjs';

export { ROOT, fdCount, waitFor };

/** Every integration test runs once per trigger mode. */
export const MODES = ['et', 'lt'];
/** Tests listen on loopback only. */
export const HOST = '127.0.0.1';
/** The seed's response, byte for byte. */
export const SEED_RESPONSE = Buffer.from(
  'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\nContent-Type: text/plain\r\n' +
    'Content-Length: 13\r\n\r\nHello, world!',
  'latin1',
);
/** A plain HTTP/1.0 request. */
export const REQUEST = 'GET / HTTP/1.0\r\n\r\n';
/** The CLI entry point, built by `npm run build`. */
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** The 40 dashes the seed prints before each request. */
export const DASHES = '-'.repeat(40);

/** The seed's response with `body` instead of "Hello, world!" (same headers). */
export function responseFor(body) {
  const head =
    'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Hex SHA-256 of a buffer. */
export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

/** A short, readable rendering of bytes for assertion messages. */
export function show(buf, max = 200) {
  const s = JSON.stringify(buf.subarray(0, max).toString('latin1'));
  return buf.length > max ? `${s}... (${buf.length} bytes)` : s;
}

/** Asserts `got` is exactly `want`, with a readable message (no multi-megabyte diffs). */
export function assertBytes(got, want, what = 'response') {
  if (got.equals(want)) return;
  assert.fail(
    `${what}: got ${got.length} bytes (sha256 ${sha256(got).slice(0, 12)}) ${show(got)}, ` +
      `want ${want.length} bytes (sha256 ${sha256(want).slice(0, 12)}) ${show(want)}`,
  );
}

/** The process's soft limit on open files, from /proc/self/limits. */
export function maxOpenFiles() {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  assert.ok(m, 'no "Max open files" line in /proc/self/limits');
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

// ---------------------------------------------------------------------------------------
// Raw clients
// ---------------------------------------------------------------------------------------

/**
 * A node:net client that records everything it receives and how the connection ended.
 * `done` resolves (never rejects) once the socket is closed: { data, error, code, ended }.
 * `ended` is true when the server's FIN arrived; `code` is the error code (ECONNRESET...).
 */
export class Client {
  constructor(port, { noDelay = true, paused = false } = {}) {
    this.chunks = [];
    this.received = 0;
    this.ended = false;
    this.closed = false;
    this.error = null;
    this.connected = false;
    this.socket = net.connect({ host: HOST, port, noDelay });
    if (paused) this.socket.pause();
    this.socket.on('data', (d) => {
      this.chunks.push(d);
      this.received += d.length;
    });
    this.socket.on('end', () => {
      this.ended = true;
    });
    this.socket.on('error', (err) => {
      this.error = err;
    });
    this.connectedP = new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        this.connected = true;
        resolve(this);
      });
      this.socket.once('close', () => reject(this.error ?? new Error('closed before connecting')));
    });
    this.connectedP.catch(() => {});
    this.done = new Promise((resolve) => {
      this.socket.once('close', () => {
        this.closed = true;
        resolve(this.result());
      });
    });
  }

  /** Everything received so far. */
  get data() {
    return Buffer.concat(this.chunks);
  }

  result() {
    return { data: this.data, error: this.error, code: this.error?.code ?? null, ended: this.ended };
  }

  /** Resolves once connected. */
  connect() {
    return this.connectedP;
  }

  write(bytes) {
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Sends FIN (half-close); node ends our side by itself when the server's FIN arrives. */
  end() {
    this.socket.end();
  }

  /** Closes with RST (SO_LINGER 0). */
  reset() {
    this.socket.resetAndDestroy();
  }

  destroy() {
    this.socket.destroy();
  }

  /** Resolves with the result once the connection is closed, or fails after `timeout` ms. */
  async closedWithin(timeout = 3000, what = 'the server to close the connection') {
    let timer;
    const timedOut = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${timeout} ms waiting for ${what}; got ${show(this.data)}`)),
        timeout,
      );
    });
    try {
      return await Promise.race([this.done, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Connects, sends `request` (a string, a Buffer, or an array of them sent with `gap` ms
 * between), and returns what came back once the server closed the connection.
 */
export async function exchange(scope, port, request = REQUEST, { gap = 0, timeout = 5000 } = {}) {
  const c = scope.client(port);
  await c.connect();
  const parts = Array.isArray(request) ? request : [request];
  for (let i = 0; i < parts.length; i++) {
    if (i > 0 && gap > 0) await delay(gap); // pacing a slow client, not waiting for a condition
    await c.write(parts[i]);
  }
  return c.closedWithin(timeout);
}

// ---------------------------------------------------------------------------------------
// Per-test scope: cleanup and the baseline assertions
// ---------------------------------------------------------------------------------------

/**
 * Everything a test starts goes through its scope; after the test (pass or fail) the scope
 * destroys the clients, waits for each server to have no open connection and closes it,
 * kills leftover children (SIGKILL), then asserts that this process's fd count is back to
 * what it was when the scope was made and that every server had 0 open connections.
 */
export class Scope {
  constructor(t) {
    this.t = t;
    this.servers = [];
    this.clients = new Set();
    this.children = new Set();
    this.baseline = openFds();
    t.after(() => this.dispose());
  }

  /** An HttpServer on 127.0.0.1, port 0, listening; returns { server, port }. */
  server(options) {
    const server = new HttpServer({ host: HOST, port: 0, idleTimeoutMs: 10_000, ...options });
    server.on('error', (err) => {
      this.serverError = err;
    });
    this.servers.push(server);
    const { port } = server.listen();
    return { server, port };
  }

  /** A raw client, destroyed after the test. */
  client(port, options) {
    const c = new Client(port, options);
    this.clients.add(c);
    return c;
  }

  /** Registers a child process: SIGKILLed after the test if it is still running. */
  child(child) {
    this.children.add(child);
    return child;
  }

  async dispose() {
    for (const c of this.clients) c.destroy();
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      // A pipe nobody read stays open in this process until destroyed.
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    const problems = [];
    for (const server of this.servers) {
      try {
        await waitFor(() => server.stats().open === 0, { timeout: 3000, message: 'open connections to reach 0' });
      } catch {
        problems.push(`server (${server.mode}) still has ${server.stats().open} open connections after the test`);
      }
      await server.close(0);
    }
    if (this.serverError) problems.push(`server emitted 'error': ${this.serverError.stack}`);
    const leaked = () => [...openFds()].filter(([fd, target]) => this.baseline.get(fd) !== target);
    try {
      await waitFor(() => leaked().length === 0 && fdCount() <= this.baseline.size, {
        timeout: 3000,
        interval: 10,
        message: 'fds to be back to the baseline',
      });
    } catch {
      problems.push(
        `fd count ${fdCount()} (baseline ${this.baseline.size}); not in the baseline: ${JSON.stringify(leaked())}`,
      );
    }
    assert.deepEqual(problems, [], 'after the test');
  }
}

// ---------------------------------------------------------------------------------------
// Servers' counters
// ---------------------------------------------------------------------------------------

/** epoll_wait calls made so far, libuv's wake-ups included. */
export function waits(stats) {
  return stats.wakeups + stats.epollWait;
}

/**
 * Asserts the server is idle: over `ms` with no traffic, its epoll_wait count (libuv's
 * wake-ups plus its own) grows by at most `slack`. A busy loop grows it by thousands.
 */
export async function assertNoBusyLoop(server, { ms = 200, slack = 3 } = {}) {
  const before = server.stats();
  await delay(ms); // a sampling window, not a wait for a condition
  const after = server.stats();
  const grew = waits(after) - waits(before);
  assert.ok(
    grew <= slack,
    `epoll_wait ran ${grew} times in ${ms} ms with no traffic (busy loop); recv ${after.recv - before.recv}, ` +
      `send ${after.send - before.send}`,
  );
}

// ---------------------------------------------------------------------------------------
// External programs
// ---------------------------------------------------------------------------------------

/**
 * Runs a program; resolves with { code, signal, stdout, stderr } (stdout a Buffer when
 * `buffer`), never rejects for a non-zero exit. Killed after `timeout` ms.
 */
export function run(file, args, { timeout = 15_000, buffer = false, env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: buffer ? 'buffer' : 'utf8', env: env ?? process.env },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number' && !err.killed && err.signal == null) {
          reject(err);
          return;
        }
        resolve({ code: err ? err.code ?? null : 0, signal: err?.signal ?? null, killed: !!err?.killed, stdout, stderr: String(stderr) });
      },
    );
  });
}

/** curl as an HTTP/1.0 client: stdout is the head as received (-D -) then the body. */
export function curl(port, path = '/') {
  return run('curl', ['-s', '-S', '-0', '--noproxy', '*', '--max-time', '5', '-D', '-', '-o', '-', `http://${HOST}:${port}${path}`], {
    buffer: true,
  });
}

/** ApacheBench (HTTP/1.0); returns its output and the parsed counts (NaN when not printed). */
export async function ab(port, { n, c, timeout = 30_000, extra = [] }) {
  const r = await run('ab', ['-q', '-r', '-s', '5', '-n', String(n), '-c', String(c), ...extra, `http://${HOST}:${port}/`], {
    timeout,
  });
  const f = abFields(r.stdout);
  return {
    ...r,
    complete: f.complete ?? NaN,
    failed: f.failed ?? NaN,
    non2xx: f.non2xx ?? NaN,
    totalLength: f.transferred ?? NaN,
  };
}

/** wrk; returns its output, the request count and socket errors (0 when not printed). */
export async function wrk(port, args) {
  const r = await run('wrk', [...args, `http://${HOST}:${port}/`], { timeout: 30_000 });
  const f = wrkFields(r.stdout);
  return {
    ...r,
    requests: f.requests ?? NaN,
    errors: f.socketErrors ?? { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: f.non2xx ?? 0,
  };
}

// ---------------------------------------------------------------------------------------
// The CLI as a child process
// ---------------------------------------------------------------------------------------

/** A port that was free a moment ago (for a child whose stdout is never read). */
export async function freePort() {
  const s = net.createServer();
  s.listen(0, HOST);
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

/**
 * Parses the counters `etlt serve` prints (on exit and SIGUSR1) from the last block in
 * `text`: { mode, connections, open, requests, responses, aborted, rejected, 'timed-out',
 * shed, ... }.
 */
export function parseCounters(text) {
  const starts = [...text.matchAll(/^etlt: mode=/gm)];
  if (starts.length === 0) return null;
  const block = text.slice(starts[starts.length - 1].index);
  const out = {};
  const lines = block.split('\n').slice(0, 4).join(' ');
  for (const m of lines.matchAll(/([a-z_-]+)=([^\s)]+)/g)) {
    const v = Number(m[2]);
    out[m[1]] = Number.isNaN(v) ? m[2] : v;
  }
  const eagain = (name) => {
    const r = new RegExp(`${name}=\\d+ \\(EAGAIN (\\d+)\\)`).exec(lines);
    return r ? Number(r[1]) : NaN;
  };
  out.sendAgain = eagain('send');
  out.recvAgain = eagain('recv');
  out.acceptAgain = eagain('accept');
  return out;
}

/**
 * `etlt serve` in a child process. `args` are appended to `serve --mode MODE --host
 * 127.0.0.1`. Unless `port` is given, `--port 0` is used and the bound port is parsed from
 * the start line on stdout. `readStdout: false` never reads the child's stdout pipe (needs
 * `port`). `ulimit` runs it under bash with that fd limit. SIGKILLed after the test.
 */
export async function startCli(scope, mode, args = [], { port, readStdout = true, ulimit } = {}) {
  const argv = [CLI, 'serve', '--mode', mode, '--host', HOST, '--port', String(port ?? 0), ...args];
  const child =
    ulimit === undefined
      ? spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `ulimit -n ${ulimit} && exec "$0" "$@"`, process.execPath, ...argv], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  scope.child(child);
  const cli = new Cli(child, mode);
  if (readStdout) {
    child.stdout.setEncoding('utf8').on('data', (d) => {
      cli.stdout += d;
    });
  }
  child.stderr.setEncoding('utf8').on('data', (d) => {
    cli.stderr += d;
  });
  if (port === undefined) {
    assert.ok(readStdout, 'port 0 needs the start line from stdout');
    const m = await waitFor(
      () => {
        if (cli.exited) throw new Error(`etlt serve exited early (${cli.exitCode ?? cli.signal}): ${cli.stderr}`);
        return /^etlt: serving on http:\/\/127\.0\.0\.1:(\d+)\/ \((edge|level)-triggered, mode (et|lt)\)$/m.exec(cli.stdout);
      },
      { timeout: 5000, interval: 5, message: 'the start line on stdout' },
    );
    assert.equal(m[3], mode);
    cli.port = Number(m[1]);
  } else {
    // Nothing to parse: ready once it accepts a connection (closed at once; counted as aborted).
    cli.port = port;
    await waitFor(
      () => {
        if (cli.exited) throw new Error(`etlt serve exited early (${cli.exitCode ?? cli.signal}): ${cli.stderr}`);
        return new Promise((resolve) => {
          const s = net.connect({ host: HOST, port }, () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        });
      },
      { timeout: 5000, interval: 20, message: 'etlt serve to accept connections' },
    );
  }
  return cli;
}

/** A running `etlt serve`. */
export class Cli {
  constructor(child, mode) {
    this.child = child;
    this.mode = mode;
    this.stdout = '';
    this.stderr = '';
    this.port = 0;
    this.exitCode = null;
    this.signal = null;
    this.exited = false;
    this.stopSent = false;
    this.exitP = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        this.exited = true;
        resolve({ code, signal });
      });
    });
    // 'close' comes after 'exit' once stdio is flushed: the whole stderr is in.
    this.closeP = new Promise((resolve) => child.on('close', resolve));
  }

  /** Sends SIGUSR1 and resolves with the counters it printed to stderr. */
  async counters() {
    const n = (this.stderr.match(/^etlt: mode=/gm) ?? []).length;
    this.child.kill('SIGUSR1');
    await waitFor(() => (this.stderr.match(/^etlt: per request:/gm) ?? []).length > n, {
      timeout: 3000,
      message: 'the counters after SIGUSR1',
    }).catch((err) => {
      err.message += `; exited: ${this.exited}; stderr so far: ${JSON.stringify(this.stderr)}`;
      throw err;
    });
    return parseCounters(this.stderr);
  }

  /** Sends `signal`, remembering a stop signal so that `stop` does not send a second one. */
  kill(signal) {
    if (signal === 'SIGINT' || signal === 'SIGTERM') this.stopSent = true;
    this.child.kill(signal);
  }

  /**
   * Sends `signal` (unless a stop signal was sent already: a second one means "exit now")
   * and resolves with { code, signal, ms } once the process has exited and closed stdio.
   */
  async stop(signal = 'SIGTERM', timeout = 5000) {
    const t0 = performance.now();
    if (!this.exited && !this.stopSent) this.kill(signal);
    let timer;
    const result = await Promise.race([
      this.exitP,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), timeout);
      }),
    ]);
    clearTimeout(timer);
    if (result === null) {
      this.child.kill('SIGKILL');
      await this.exitP;
      assert.fail(`etlt serve did not exit within ${timeout} ms of ${signal}; stderr: ${this.stderr}`);
    }
    if (this.child.stdout.readableFlowing) await this.closeP;
    else await waitFor(() => this.child.stderr.closed, { timeout: 2000, message: 'stderr to close' });
    return { ...result, ms: performance.now() - t0 };
  }
}
