/**
 * Helpers for the HTTP server's tests: raw node:net clients that record every byte and how
 * the connection ended, a per-test scope that stops every server, socket and child it was
 * given and then asserts the fd count and the servers' open connections are back to their
 * baseline; and, re-exported, the seed's bytes (bytes.mjs), external clients (tools.mjs) and
 * the `etlt serve` CLI as a child process (cli.mjs).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

import { HttpServer } from 'etlt';
import { HOST, REQUEST, show } from './bytes.mjs';
import { ROOT, fdCount, openFds, waitFor } from './util.mjs';

export { ROOT, fdCount, waitFor };
export * from './bytes.mjs';
export * from './tools.mjs';
export * from './cli.mjs';

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

/** Waits until a server's counters satisfy `check`, naming them on failure; returns them. */
export async function statsReach(server, check, message, timeout = 5000) {
  try {
    return await waitFor(() => (check(server.stats()) ? server.stats() : null), { timeout, message });
  } catch (err) {
    err.message += `; stats: ${JSON.stringify(server.stats())}`;
    throw err;
  }
}

/**
 * epoll_wait calls made so far, libuv's wake-ups included. On poll and select, the waits
 * that found nothing of the server's (turnWaits: one per turn of Node's loop, which the
 * test's own clients and timers make) are left out, as libuv's waits for them are on epoll;
 * backends.test.mjs checks those for a spin on their own.
 */
export function waits(stats) {
  return stats.wakeups + stats.waits;
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
