/**
 * Helpers for the select, poll and selectors tests (ported from CPython's test_select,
 * test_poll and test_selectors): socketpairs closed after the test, a second thread that
 * writes (or signals) while the main thread blocks in a wait, and a Python child that
 * writes lines to a socket.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

import { socketpair, sys } from 'etlt';
import { cleanup } from './util.mjs';

/** A connected AF_UNIX pair (Python's socket.socketpair()), both closed after the test. */
export function pair(t) {
  const [a, b] = socketpair();
  cleanup(t, a, b);
  return [a, b];
}

/** The soft RLIMIT_NOFILE of this process (Node raises it to the hard limit at start). */
export function softFdLimit() {
  const m = readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+(\d+)/);
  assert.ok(m, '/proc/self/limits has no "Max open files" row');
  return Number(m[1]);
}

/*
 * The helper thread: it waits to be told to start, sleeps `ms` (Atomics.wait, not a timer:
 * it must act while the main thread is blocked in a syscall and runs no JavaScript), then
 * sends `signal` to the process and/or writes `data` to `fd`.
 */
const HELPER = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const flag = new Int32Array(workerData.sab);
parentPort.postMessage('ready');
Atomics.wait(flag, 0, 0);
const nap = new Int32Array(new SharedArrayBuffer(4));
if (workerData.signal) {
  Atomics.wait(nap, 0, 0, workerData.ms);
  process.kill(process.pid, workerData.signal);
}
if (workerData.fd >= 0) {
  Atomics.wait(nap, 0, 0, workerData.ms);
  writeSync(workerData.fd, workerData.data);
}
Atomics.store(flag, 1, 1);
`;

/**
 * A second thread that, once `go()` is called, waits `ms` and then sends `signal` (if any)
 * and waits `ms` again and writes `data` to `fd` (if fd >= 0). `go()` returns at once, so
 * the caller can block in select/poll while the thread acts. `done()` waits for its end.
 */
export async function helperThread(t, { ms = 100, fd = -1, data = 'x', signal } = {}) {
  const sab = new SharedArrayBuffer(8);
  const flag = new Int32Array(sab);
  const worker = new Worker(HELPER, { eval: true, workerData: { sab, ms, fd, data, signal } });
  t.after(() => worker.terminate());
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  return {
    go() {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    },
    /** Whether the thread has done all it was asked (read without waiting). */
    finished: () => Atomics.load(flag, 1) === 1,
    done: () => exited,
  };
}

/**
 * Python writing "testing...\n" ten times, 50 ms apart, to `sock` as its stdout (CPython's
 * test_select and test_poll2 read such a child). Returns the child's exit as a promise.
 */
export function pythonLines(t, sock) {
  const code = 'import time\nfor i in range(10):\n    print("testing...", flush=True)\n    time.sleep(0.050)\n';
  const child = spawn('python3', ['-I', '-c', code], { stdio: ['ignore', sock.fileno(), 'inherit'] });
  t.after(() => child.kill());
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

/** Makes `count` socketpairs; the caller closes them with `closeAll`. */
export function manyPairs(count) {
  const pairs = [];
  try {
    for (let i = 0; i < count; i++) pairs.push(socketpair());
  } catch (err) {
    closeAll(pairs);
    throw err;
  }
  return pairs;
}

/** Closes every socket of `pairs`. */
export function closeAll(pairs) {
  for (const p of pairs) for (const s of p) s.close();
}

/** An fd number that was open a moment ago and is closed now (inside the fd table). */
export function closedFd() {
  const [a, b] = socketpair();
  const fd = a.fileno();
  a.close();
  b.close();
  return fd;
}

/** Duplicates `fd` onto the free number `target` (dup2 for a number known to be free). */
export function dupOnto(fd, target, F_DUPFD_CLOEXEC) {
  const got = sys.fcntl(fd, F_DUPFD_CLOEXEC, target);
  assert.equal(got, target, `fd ${target} should have been free for reuse`);
  return got;
}
