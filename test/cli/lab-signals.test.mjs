/**
 * `etlt lab` and `etlt serve` as processes: signals stop the lab with its children and its
 * files; SIGUSR1 prints and never opens Node's inspector; a report on stdout arrives in
 * full to a slow reader and fails loudly to a gone one; bad output paths and usage errors
 * fail at once. Each test runs the built CLI and stops every process it started.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { native } from '../../dist/src/binding/index.js';
import {
  childrenOf,
  etlt,
  family,
  killFamily,
  listeningPorts,
  staysFalse,
  tcpSockets,
  waitFor,
} from '../lib/procs.mjs';

const F_SETPIPE_SZ = 1031;
const F_GETFL = 3;
const F_SETFL = 4;
/** A stack trace line, or the EPIPE of a write to a child that is gone. */
const NOISE = /^\s+at |write EPIPE/m;

/** A private TMPDIR for one test: the lab's own temp dir goes in it, and it marks the lab's processes. */
function privateTmp(t) {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-signals-test-'));
  const marker = `TMPDIR=${dir}`;
  t.after(() => {
    killFamily(marker);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, marker, labDirs: () => readdirSync(dir).filter((n) => n.startsWith('etlt-lab-')) };
}

/** Starts `etlt ...args` with the private TMPDIR; killed after the test if still running. */
function start(t, tmp, args, options = {}) {
  const run = etlt(args, { env: { TMPDIR: tmp.dir }, ...options });
  t.after(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });
  return run;
}

/** Waits until the lab has a server and a load generator running, and its temp dir. */
async function midRun(lab, tmp) {
  return waitFor(
    () => {
      const kids = childrenOf(lab.child.pid);
      const serve = kids.find((k) => k.kind === 'serve');
      const loadgen = kids.find((k) => k.kind === 'loadgen');
      return serve && loadgen && tmp.labDirs().length > 0 ? { serve, loadgen } : null;
    },
    { timeout: 20_000, interval: 10, message: 'the lab to have a server, a load generator and its temp dir' },
  );
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(
    `etlt lab --quick stopped by ${signal} to its pid: children gone, temp dir removed, exit 130`,
    { timeout: 60_000 },
    async (t) => {
      const tmp = privateTmp(t);
      const lab = start(t, tmp, ['lab', '--quick']);
      await midRun(lab, tmp);
      assert.ok(family(tmp.marker).length >= 3, 'the lab and its two children carry the marker');
      process.kill(lab.child.pid, signal);
      const { code, signal: killedBy } = await lab.exited;
      assert.equal(code, 130, `exit code (signal ${killedBy}); stderr:\n${lab.out.stderr}`);
      await waitFor(() => family(tmp.marker).length === 0, {
        timeout: 5000,
        interval: 20,
        message: 'every child of the lab to exit',
      });
      await waitFor(() => tmp.labDirs().length === 0, {
        timeout: 5000,
        interval: 20,
        message: "the lab's temp dir to be removed",
      });
      assert.match(lab.out.stderr, new RegExp(`etlt lab: ${signal}: stopping`));
      assert.doesNotMatch(lab.out.stderr, NOISE);
    },
  );
}

test('etlt lab killed with SIGKILL: its children see their stdin end and exit', { timeout: 60_000 }, async (t) => {
  const tmp = privateTmp(t);
  const lab = start(t, tmp, ['lab', '--quick']);
  const { serve, loadgen } = await midRun(lab, tmp);
  process.kill(lab.child.pid, 'SIGKILL');
  assert.equal((await lab.exited).signal, 'SIGKILL');
  await waitFor(() => family(tmp.marker).length === 0, {
    timeout: 5000,
    interval: 20,
    message: `the orphaned children (${serve.pid}, ${loadgen.pid}) to exit`,
  });
});

/** Fails unless SIGUSR1 to `pid` leaves it with exactly the listening ports `expected`, for a while. */
async function noInspector(pid, expected, what) {
  await staysFalse(
    () => {
      const extra = listeningPorts(pid).filter((p) => !expected.includes(p));
      return extra.length > 0 ? extra : null;
    },
    1000,
    `${what} opened a listening socket after SIGUSR1 (the inspector: 9229)`,
  );
}

test('the detector itself: SIGUSR1 opens the inspector of a plain node process', { timeout: 20_000 }, async (t) => {
  // Port 0: whatever else listens on 9229 here, this process's inspector gets a port.
  const child = spawn(
    process.execPath,
    ['--inspect-port=0', '-e', 'setInterval(() => {}, 1000); process.stdout.write("ready\\n")'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  // Before Node is up, SIGUSR1's default action would just kill it.
  await waitFor(() => stdout.includes('ready'), { timeout: 10_000, message: 'the node process to start' });
  process.kill(child.pid, 'SIGUSR1');
  await waitFor(() => listeningPorts(child.pid).length > 0 && /Debugger listening/.test(stderr), {
    timeout: 5000,
    message: 'the inspector to open',
  });
});

/**
 * Sends SIGUSR1 to the lab's server and load generator while both are at work (the server
 * listening, the load generator connected to it): Node 20 opens the inspector on a SIGUSR1
 * that comes before any JS handler exists (its bootstrap), which no code can prevent.
 * Tries again if a pair ended in between. Returns them, and the server's port.
 */
async function signalAtWork(lab) {
  for (let attempt = 0; ; attempt++) {
    const { serve, loadgen, ports } = await waitFor(
      () => {
        const kids = childrenOf(lab.child.pid);
        const serve = kids.find((k) => k.kind === 'serve');
        const loadgen = kids.find((k) => k.kind === 'loadgen');
        if (!serve || !loadgen || !tcpSockets(loadgen.pid).some((s) => s.state === 'established')) return null;
        const ports = listeningPorts(serve.pid);
        return ports.length === 1 ? { serve, loadgen, ports } : null;
      },
      { timeout: 20_000, interval: 5, message: 'a server and a load generator at work' },
    );
    try {
      process.kill(serve.pid, 'SIGUSR1');
      process.kill(loadgen.pid, 'SIGUSR1');
      return { serve, loadgen, ports };
    } catch (e) {
      if (e.code !== 'ESRCH' || attempt >= 5) throw e;
    }
  }
}

test(
  'SIGUSR1 to etlt lab, its server and its load generator: progress, no inspector',
  { timeout: 60_000 },
  async (t) => {
    const tmp = privateTmp(t);
    const lab = start(t, tmp, ['lab', '--quick', '--workloads', 'keep-alive', '--strategies', 'et,lt']);
    await midRun(lab, tmp);
    process.kill(lab.child.pid, 'SIGUSR1');
    await waitFor(() => /^etlt lab: \[\d\/2\] (et|lt) × keep-alive: /m.test(lab.out.stderr), {
      timeout: 5000,
      message: 'the progress line on stderr',
    });
    const { serve, loadgen, ports } = await signalAtWork(lab);
    await Promise.all([
      noInspector(lab.child.pid, [], 'etlt lab'),
      noInspector(serve.pid, ports, "the lab's server"),
      noInspector(loadgen.pid, [], 'the load generator'),
    ]);
    const { code } = await lab.exited;
    assert.equal(code, 0, `the run survived the signals; stderr:\n${lab.out.stderr}`);
    assert.match(lab.out.stdout, /^et\s+\d/m);
    assert.match(lab.out.stdout, /^lt\s+\d/m);
    assert.doesNotMatch(lab.out.stderr, /Debugger listening/);
  },
);

test('SIGUSR1 to etlt serve: counters on stderr, no inspector', { timeout: 30_000 }, async (t) => {
  const tmp = privateTmp(t);
  const serve = start(t, tmp, ['serve', '--host', '127.0.0.1', '--port', '0', '--quiet']);
  const port = Number(
    (
      await waitFor(() => /serving on http:\/\/127\.0\.0\.1:(\d+)\//.exec(serve.out.stdout), {
        timeout: 10_000,
        message: 'the start line',
      })
    )[1],
  );
  assert.deepEqual(listeningPorts(serve.child.pid), [port]);
  process.kill(serve.child.pid, 'SIGUSR1');
  await waitFor(() => /^etlt: mode=et connections=0 /m.test(serve.out.stderr), {
    timeout: 5000,
    message: 'the counters on stderr',
  });
  await noInspector(serve.child.pid, [port], 'etlt serve');
  process.kill(serve.child.pid, 'SIGTERM');
  assert.equal((await serve.exited).code, 0);
  assert.doesNotMatch(serve.out.stderr, /Debugger listening/);
});

/** The slow reader: opens the FIFO, shrinks it to one page, waits, then copies it to stdout until EOF. */
const READER = `
import { openSync, readSync, writeSync } from 'node:fs';
import { native } from ${JSON.stringify(new URL('../../dist/src/binding/index.js', import.meta.url).href)};
const [fifo, waitMs] = process.argv.slice(1);
const fd = openSync(fifo, 'r');
process.stderr.write('pipe size ' + native.fcntl(fd, ${F_SETPIPE_SZ}, 4096) + '\\n');
setTimeout(() => {
  process.stderr.write('reading at ' + Date.now() + '\\n');
  const buf = Buffer.alloc(65536);
  for (let n; (n = readSync(fd, buf)) > 0; ) writeSync(1, buf, 0, n);
}, Number(waitMs));
`;

/**
 * Runs the lab with stdout into a real pipe (a FIFO: Node's own stdio pipes are socket
 * pairs) of one page, whose reader, another process, waits `waitMs` before reading.
 * Resolves with the lab's exit, what the reader got, and when (Date.now()) the lab had
 * exited and the reader began to read.
 */
async function labToSlowReader(t, tmp, name, args, waitMs) {
  const fifo = join(tmp.dir, `${name}.fifo`);
  execFileSync('mkfifo', [fifo]);
  const reader = spawn(process.execPath, ['--input-type=module', '-e', READER, fifo, String(waitMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => reader.kill('SIGKILL'));
  let readerErr = '';
  reader.stderr.setEncoding('utf8').on('data', (d) => (readerErr += d));
  let got = '';
  reader.stdout.setEncoding('utf8').on('data', (d) => (got += d));
  const readerDone = new Promise((resolve) => reader.once('close', resolve));
  // Non-blocking, so that this waits (polling) for the reader to open its end: ENXIO until then.
  const fd = await waitFor(
    () => {
      try {
        return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (e) {
        if (e.code === 'ENXIO') return null;
        throw e;
      }
    },
    { timeout: 10_000, message: 'the reader to open the FIFO' },
  );
  let lab;
  try {
    native.fcntl(fd, F_SETFL, native.fcntl(fd, F_GETFL, 0) & ~constants.O_NONBLOCK);
    lab = start(t, tmp, args, { stdio: ['ignore', fd, 'pipe'] });
  } finally {
    // The lab holds the write end now: the reader sees EOF when the lab exits.
    closeSync(fd);
  }
  const exit = await lab.exited;
  const exitAt = Date.now();
  await readerDone;
  assert.match(readerErr, /^pipe size 4096$/m, `the reader shrank the pipe: ${readerErr}`);
  const readingAt = Number(/^reading at (\d+)$/m.exec(readerErr)?.[1]);
  return { exit, stderr: lab.out.stderr, got, exitAt, readingAt };
}

test(
  'etlt lab --json - to a reader that waits 5 s: all of the JSON arrives, exit 0, tables on stderr',
  { timeout: 60_000 },
  async (t) => {
    const tmp = privateTmp(t);
    const base = ['lab', '--quick', '--strategies', 'et', '--json', '-'];
    // sequential: as asked (its report fits in one pipe page); big-head: a report larger than the pipe, so the lab must wait for the reader.
    const [small, large] = await Promise.all([
      labToSlowReader(t, tmp, 'sequential', [...base, '--workloads', 'sequential'], 5500),
      labToSlowReader(t, tmp, 'big-head', [...base, '--workloads', 'big-head'], 5500),
    ]);
    for (const [name, r] of [
      ['sequential', small],
      ['big-head', large],
    ]) {
      assert.equal(r.exit.code, 0, `${name}: exit code; stderr:\n${r.stderr}`);
      const report = JSON.parse(r.got);
      assert.equal(report.results.length, 1, `${name}: one result`);
      assert.equal(report.results[0].workload, name);
      assert.match(r.stderr, new RegExp(`^workload ${name}:`, 'm'), `${name}: the tables went to stderr`);
      assert.doesNotMatch(r.stderr, NOISE);
    }
    assert.ok(
      Buffer.byteLength(large.got) > 4096,
      `the big-head report (${Buffer.byteLength(large.got)} bytes) is larger than the pipe`,
    );
    assert.ok(
      large.exitAt > large.readingAt,
      `the lab waited for the reader (it exited ${large.exitAt - large.readingAt} ms after the reading began)`,
    );
  },
);

test(
  'etlt lab --json - to a reader that closed the pipe: non-zero exit, one error line',
  { timeout: 60_000 },
  async (t) => {
    const tmp = privateTmp(t);
    const lab = start(t, tmp, ['lab', '--quick', '--workloads', 'sequential', '--strategies', 'et', '--json', '-']);
    lab.child.stdout.destroy();
    const { code, signal } = await lab.exited;
    assert.equal(signal, null);
    assert.notEqual(code, 0, `stderr:\n${lab.out.stderr}`);
    const errors = lab.out.stderr.split('\n').filter((l) => l.startsWith('etlt:'));
    assert.equal(errors.length, 1, `one error line: ${JSON.stringify(errors)}`);
    assert.match(errors[0], /standard output.*EPIPE/);
    assert.doesNotMatch(lab.out.stderr, NOISE);
  },
);

for (const [args, path, what] of [
  [['lab', '--json', '/nonexistent/x.json'], '/nonexistent/x.json', 'lab --json'],
  [['lab', '--out', '/nonexistent/x.html'], '/nonexistent/x.html', 'lab --out'],
  [
    ['serve', '--host', '127.0.0.1', '--port', '0', '--stats-json', '/nonexistent/x.json'],
    '/nonexistent/x.json',
    'serve --stats-json',
  ],
]) {
  test(
    `etlt ${what} into a missing directory fails at once, exit 1 (it cannot run; the command line is right), naming the path`,
    { timeout: 30_000 },
    async (t) => {
      const tmp = privateTmp(t);
      const run = start(t, tmp, args);
      const { code, ms } = await run.exited;
      assert.equal(code, 1, `stderr:\n${run.out.stderr}`);
      assert.ok(ms < 2500, `failed within ${ms | 0} ms`);
      assert.ok(run.out.stderr.includes(path), `names ${path}: ${run.out.stderr}`);
      assert.doesNotMatch(run.out.stdout, /serving on/);
      assert.doesNotMatch(run.out.stderr, /\[1\//, 'nothing was measured');
      assert.deepEqual(tmp.labDirs(), [], 'no run was started');
    },
  );
}

test(
  'a failing --json does not keep --out from being written, and the other way round: exit 1',
  { timeout: 60_000 },
  async (t) => {
    assert.ok(existsSync('/dev/full'), '/dev/full (every write fails with ENOSPC)');
    const tmp = privateTmp(t);
    const base = ['lab', '--quick', '--workloads', 'sequential', '--strategies', 'et'];
    const html = join(tmp.dir, 'report.html');
    const json = join(tmp.dir, 'report.json');
    const a = start(t, tmp, [...base, '--json', '/dev/full', '--out', html]);
    const b = start(t, tmp, [...base, '--json', json, '--out', '/dev/full']);
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    assert.equal(ea.code, 1, a.out.stderr);
    assert.match(a.out.stderr, /^etlt: --json \/dev\/full: .*ENOSPC$/m);
    assert.match(readFileSync(html, 'utf8'), /^<!doctype html>/i);
    assert.match(a.out.stderr, /report written to/);
    assert.equal(eb.code, 1, b.out.stderr);
    assert.match(b.out.stderr, /^etlt: --out \/dev\/full: .*ENOSPC$/m);
    assert.equal(JSON.parse(readFileSync(json, 'utf8')).results[0].strategy, 'et');
    for (const r of [a, b]) {
      assert.match(r.out.stdout, /^workload sequential:/m, 'the tables were printed too');
      assert.doesNotMatch(r.out.stderr, NOISE);
    }
  },
);

for (const [args, command] of [
  [['lab', '--workloads', 'nope'], 'lab'],
  [['lab', '--port', '1'], 'lab'],
  [['serve', '--quick'], 'serve'],
]) {
  test(
    `etlt ${args.join(' ')}: a usage error, exit 2, one line and a pointer to --help`,
    { timeout: 20_000 },
    async (t) => {
      const tmp = privateTmp(t);
      const run = start(t, tmp, args);
      const { code, ms } = await run.exited;
      assert.equal(code, 2);
      assert.ok(ms < 2500, `failed within ${ms | 0} ms`);
      assert.equal(run.out.stdout, '');
      const lines = run.out.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, `one error line and the pointer: ${JSON.stringify(lines)}`);
      assert.match(lines[0], /^etlt: \S/);
      assert.match(lines[0], new RegExp(args[1].replace(/^--/, '--?')));
      assert.equal(lines[1], `Run 'etlt ${command} --help' for usage.`);
    },
  );
}
