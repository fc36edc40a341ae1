/**
 * Shared helpers for etlt's tests: connected sockets over 127.0.0.1, polling for a
 * condition with a deadline (never a bare sleep), mio-style `expectEvents`, child Node
 * processes, and an fd-leak guard that counts /proc/self/fd.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { Socket, AF_INET, SOCK_STREAM, SOCK_NONBLOCK, EtltSystemError } from 'etlt';

/** The repository root: child processes run there so that `import 'etlt'` resolves. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const O_NONBLOCK_OCTAL = 0o4000;
const O_CLOEXEC_OCTAL = 0o2000000;

// ---------------------------------------------------------------------------------------
// File descriptors
// ---------------------------------------------------------------------------------------

/** The open fds of this process and what each points at (readdir's own fd included, always the same). */
export function openFds() {
  const out = new Map();
  for (const name of readdirSync('/proc/self/fd')) {
    let target = '?';
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      // readdir's own directory fd is gone by now.
      continue;
    }
    out.set(Number(name), target);
  }
  return out;
}

/** How many fds this process has open. */
export function fdCount() {
  return openFds().size;
}

/** The `flags:` field of /proc/self/fdinfo/<fd> (octal open flags). */
export function fdFlags(fd) {
  const text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const m = /^flags:\s*([0-7]+)$/m.exec(text);
  assert.ok(m, `no flags line in fdinfo of ${fd}: ${text}`);
  return parseInt(m[1], 8);
}

/** True when `fd` has close-on-exec set. */
export function isCloexec(fd) {
  return (fdFlags(fd) & O_CLOEXEC_OCTAL) !== 0;
}

/** True when `fd` is in non-blocking mode. */
export function isNonBlocking(fd) {
  return (fdFlags(fd) & O_NONBLOCK_OCTAL) !== 0;
}

/** What /proc/self/fd/<fd> links to ('socket:[123]', 'anon_inode:[eventpoll]'), or null if closed. */
export function fdTarget(fd) {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/**
 * Registers suite hooks asserting that every fd opened by the suite's tests is closed by
 * the end. Closes done by Node asynchronously (fetch's sockets, child pipes) get a deadline.
 * `warmSpawn`: spawn one child first, because libuv opens its SIGCHLD pipes once, on the
 * first spawn, and keeps them for the life of the process.
 */
export function noFdLeak({ warmSpawn = false } = {}) {
  let baseline;
  before(async () => {
    if (warmSpawn) await runNode('');
    baseline = openFds();
  });
  after(async () => {
    const leaked = () => [...openFds()].filter(([fd, target]) => baseline.get(fd) !== target);
    await waitFor(() => leaked().length === 0 && fdCount() <= baseline.size, {
      timeout: 3000,
      message: 'fds to be closed',
    }).catch(() => {});
    assert.deepEqual(leaked(), [], 'fds left open by this suite');
    assert.ok(fdCount() <= baseline.size, `fd count grew from ${baseline.size} to ${fdCount()}`);
  });
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/**
 * Asserts `fn` throws an EtltSystemError shaped like Node's: `code`, negative `errno`,
 * `syscall`, and a message that starts "syscall CODE: ".
 */
export function throwsSys(fn, code, errno, syscall) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof EtltSystemError, `expected EtltSystemError, got ${err}`);
    assert.ok(err instanceof Error);
    assert.equal(err.code, code);
    assert.equal(err.errno, -errno);
    assert.ok(err.errno < 0);
    assert.equal(err.syscall, syscall);
    assert.match(err.message, new RegExp(`^${syscall} ${code}: `));
    return true;
  });
}

/**
 * Asserts `fn` throws a `Type` (TypeError or RangeError) that names the argument `name`, with
 * Node's code for it (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE).
 */
export function throwsArg(fn, Type, name) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof Type, `expected ${Type.name}, got ${err?.constructor?.name}: ${err?.message}`);
    assert.match(err.message, new RegExp(`"${name}"`), `the message should name "${name}": ${err.message}`);
    assert.equal(err.code, Type === TypeError ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE', err.message);
    return true;
  });
}

// ---------------------------------------------------------------------------------------
// Waiting with a deadline
// ---------------------------------------------------------------------------------------

/**
 * Polls `condition` (sync or async) every `interval` ms until it returns a truthy value,
 * which is returned; rejects once `timeout` ms have passed.
 */
export async function waitFor(condition, { timeout = 2000, interval = 2, message = 'condition' } = {}) {
  const deadline = performance.now() + timeout;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message}`);
    await delay(interval);
  }
}

/** Calls `fn` until it stops throwing an error with code EAGAIN, within a deadline. */
export async function retryEagain(fn, { timeout = 2000, message = 'the call to stop failing with EAGAIN' } = {}) {
  let result;
  await waitFor(
    () => {
      try {
        result = fn();
        return true;
      } catch (err) {
        if (err?.code === 'EAGAIN') return false;
        throw err;
      }
    },
    { timeout, message },
  );
  return result;
}

// ---------------------------------------------------------------------------------------
// Events (after mio's `expect_events`)
// ---------------------------------------------------------------------------------------

/** A mask as flag names, for assertion messages. */
export function maskNames(mask, names) {
  const out = [];
  for (const [name, bit] of Object.entries(names)) if (mask & bit) out.push(name);
  return `${out.join('|') || '0'} (0x${(mask >>> 0).toString(16)})`;
}

/**
 * Polls `ep` until, for each `[fd, mask]` in `expected`, an event for fd has arrived
 * whose events contain every bit of mask. Events for other fds, or extra bits, are
 * tolerated (spurious wake-ups are legal). Returns all the events seen, in order.
 * Fails after `timeout` ms, naming what is still missing.
 */
export function expectEvents(ep, expected, { timeout = 2000, names } = {}) {
  const missing = new Map(expected.map(([fd, mask]) => [fd, mask >>> 0]));
  const seen = [];
  const deadline = performance.now() + timeout;
  while (missing.size > 0) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    for (const [fd, events] of ep.poll(Math.min(left, 100) / 1000)) {
      seen.push([fd, events]);
      const want = missing.get(fd);
      if (want !== undefined && (events & want) >>> 0 === want) missing.delete(fd);
    }
  }
  if (missing.size > 0) {
    const fmt = (m) => (names ? maskNames(m, names) : `0x${(m >>> 0).toString(16)}`);
    assert.fail(
      `expected events not seen within ${timeout} ms: ` +
        [...missing].map(([fd, m]) => `fd ${fd} ${fmt(m)}`).join(', ') +
        `; seen: ${JSON.stringify(seen.map(([fd, m]) => [fd, fmt(m)]))}`,
    );
  }
  return seen;
}

/** Polls `ep` for `ms` milliseconds and returns every event seen for `fd` (all fds if omitted). */
export function collectEvents(ep, ms, fd) {
  const out = [];
  const deadline = performance.now() + ms;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return out;
    for (const ev of ep.poll(left / 1000)) if (fd === undefined || ev[0] === fd) out.push(ev);
  }
}

/** Asserts that no event for `fd` (with any bit of `mask`, default all) arrives within `ms`. */
export function expectNoEvents(ep, fd, { ms = 50, mask = 0xffffffff } = {}) {
  const got = collectEvents(ep, ms, fd).filter(([, events]) => (events & mask) !== 0);
  assert.deepEqual(got, [], `fd ${fd} should have had no events for ${ms} ms`);
}

// ---------------------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------------------

/** Registers closing of every object (epoll, socket) with the test, in reverse order. */
export function cleanup(t, ...objects) {
  t.after(() => {
    for (const o of objects.reverse()) {
      try {
        o.close();
      } catch {
        // Already closed, or closing failed: the fd is released either way.
      }
    }
  });
  return objects.length === 1 ? objects[0] : objects;
}

/** A listening socket on 127.0.0.1, port 0 (closed after the test). */
export function listener(t, { family = AF_INET, host = '127.0.0.1', nonBlocking = false, backlog = 16 } = {}) {
  const s = new Socket(family, SOCK_STREAM | (nonBlocking ? SOCK_NONBLOCK : 0));
  cleanup(t, s);
  s.bind([host, 0]);
  s.listen(backlog);
  return s;
}

/**
 * A connected TCP pair over 127.0.0.1: `client` (connected by a blocking connect, which
 * completes on loopback as soon as the listener's backlog takes it) and `server` (the
 * accepted end). Both blocking unless `nonBlocking`; all closed after the test.
 */
export function tcpPair(t, { nonBlocking = false, family = AF_INET, host = '127.0.0.1' } = {}) {
  const l = new Socket(family, SOCK_STREAM);
  try {
    l.bind([host, 0]);
    l.listen(1);
    const client = new Socket(family, SOCK_STREAM);
    cleanup(t, client);
    client.connect(l.getsockname());
    const [server] = l.accept();
    cleanup(t, server);
    if (nonBlocking) {
      client.setBlocking(false);
      server.setBlocking(false);
    }
    return { client, server };
  } finally {
    l.close();
  }
}

/** Reads from a non-blocking socket until it would block; returns what was read. */
export function drain(sock) {
  const parts = [];
  for (;;) {
    try {
      const b = sock.recv(65536);
      if (b.length === 0) break;
      parts.push(b);
    } catch (err) {
      if (err.code === 'EAGAIN') break;
      throw err;
    }
  }
  return Buffer.concat(parts);
}

/** The struct linger { int l_onoff; int l_linger; } bytes for SO_LINGER. */
export function lingerBytes(onoff, seconds) {
  const b = Buffer.alloc(8);
  b.writeInt32LE(onoff, 0);
  b.writeInt32LE(seconds, 4);
  return b;
}

// ---------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------

/**
 * How much longer a child process may take: ETLT_TEST_SLOWDOWN (`npm run test:asan` sets
 * it), since a Node with the sanitizer runtime preloaded starts about 3x slower.
 */
export const SLOWDOWN = Math.max(1, Number(process.env.ETLT_TEST_SLOWDOWN) || 1);

/**
 * Runs `source` as an ES module in a child Node process (cwd: the repository, so `etlt`
 * resolves). Resolves with { code, signal, stdout, stderr, timedOut } when it exits, or
 * kills it after `timeout` ms (times SLOWDOWN; timedOut: true). `onSpawn(child)` sees the process.
 */
export function runNode(source, { args = [], timeout = 10000, onSpawn, nodeArgs = [] } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', source, '--', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout * SLOWDOWN);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, timedOut });
    });
    onSpawn?.(child);
  });
}
