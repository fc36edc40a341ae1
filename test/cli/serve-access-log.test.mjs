/**
 * `etlt serve --access-log FILE|-` with `--workers 2` (issue 20): every response curl got
 * is logged exactly once, in the common log format, each line whole (the workers send their
 * lines to the parent, the one writer); '-' is the parent's standard output; a log that
 * cannot be opened stops the command before any worker starts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { CLI, HOST, run } from '../lib/http.mjs';
import { childrenOf, etlt, killFamily, waitFor } from '../lib/procs.mjs';

const START = /^etlt: serving on http:\/\/127\.0\.0\.1:(\d+)\/ .*2 workers/m;
/** host ident authuser [time] "request" status bytes */
const CLF = /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "([^"]*)" (\d{3}) (\d+|-)$/;
/** Parallel curls, and URLs each (one keep-alive connection per curl: both workers get some). */
const CURLS = 16;
const PER_CURL = 20;
/** Targets longer than PIPE_BUF (4096): a line a pipe would not write atomically. */
const LONG = 'q'.repeat(5000);

function privateDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-access-log-test-'));
  t.after(() => {
    killFamily(`TMPDIR=${dir}`);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** An app whose body is the worker's pid, padded to a fixed length: which worker answered, and how many bytes. */
function appIn(dir) {
  const app = join(dir, 'app.mjs');
  writeFileSync(app, 'export default () => ({ body: `${String(process.pid).padStart(10)}\\n` });\n');
  return app;
}

async function started(t, dir, args) {
  const p = etlt(['serve', '--host', HOST, '--port', '0', '--quiet', '--workers', '2', ...args], {
    env: { TMPDIR: dir },
  });
  t.after(() => p.child.kill('SIGKILL'));
  const m = await waitFor(() => START.exec(p.out.stdout), { timeout: 15_000, message: 'the start line' }).catch((e) => {
    e.message += `; stderr: ${p.out.stderr}`;
    throw e;
  });
  return { ...p, port: Number(m[1]) };
}

/**
 * CURLS curls at once, each fetching PER_CURL targets on one connection (every tenth one
 * over 5000 bytes long); resolves with the targets sent and the pids that answered.
 */
async function load(port) {
  const targets = [];
  const runs = [];
  for (let c = 0; c < CURLS; c++) {
    const mine = Array.from({ length: PER_CURL }, (_, i) => `/c${c}/r${i}${i % 10 === 9 ? `?${LONG}` : ''}`);
    targets.push(...mine);
    const args = ['-s', '--noproxy', '*', '--max-time', '20'];
    for (const target of mine) args.push('-o', '-', `http://${HOST}:${port}${target}`);
    runs.push(run('curl', args, { timeout: 30_000 }));
  }
  const pids = new Set();
  for (const r of await Promise.all(runs)) {
    assert.equal(r.code, 0, r.stderr);
    const bodies = r.stdout.split('\n').slice(0, -1);
    assert.equal(bodies.length, PER_CURL, r.stdout.slice(0, 200));
    for (const b of bodies) pids.add(Number(b.trim()));
  }
  return { targets, pids };
}

/** Every line a common log format line for one of `targets`, each target exactly once. */
function assertLogged(lines, targets) {
  const seen = new Map();
  for (const line of lines) {
    const m = CLF.exec(line);
    assert.ok(m, `not a whole common log format line: ${JSON.stringify(line.slice(0, 120))}`);
    const [method, target, version] = m[1].split(' ');
    assert.deepEqual([method, version, m[2], m[3]], ['GET', 'HTTP/1.1', '200', '11'], line.slice(0, 120));
    seen.set(target, (seen.get(target) ?? 0) + 1);
  }
  assert.equal(lines.length, targets.length, `${lines.length} lines for ${targets.length} responses`);
  for (const target of targets)
    assert.equal(seen.get(target), 1, `${target.slice(0, 40)} logged ${seen.get(target)} times`);
}

test(
  '--workers 2 --access-log FILE: each response logged once, whole, by the parent',
  { timeout: 60_000 },
  async (t) => {
    const dir = privateDir(t);
    const file = join(dir, 'access.log');
    // Appended to, as a single server does: a line already there stays.
    writeFileSync(file, 'an earlier line\n');
    const s = await started(t, dir, ['--app', appIn(dir), '--access-log', file]);
    const workers = childrenOf(s.child.pid).map((c) => c.pid);
    assert.equal(workers.length, 2);
    const { targets, pids } = await load(s.port);
    assert.deepEqual(
      [...pids].sort(),
      [...workers].sort(),
      'both workers answered (their lines cross to the parent both ways)',
    );
    s.child.kill('SIGTERM');
    const exit = await s.exited;
    assert.equal(exit.code, 0, s.out.stderr);
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines.shift(), 'an earlier line');
    assert.equal(lines.pop(), '', 'the log ends with a whole line');
    assertLogged(lines, targets);
  },
);

test("--workers 2 --access-log -: the lines on the parent's standard output", { timeout: 60_000 }, async (t) => {
  const dir = privateDir(t);
  const s = await started(t, dir, ['--app', appIn(dir), '--access-log', '-']);
  const { targets } = await load(s.port);
  s.child.kill('SIGTERM');
  const exit = await s.exited;
  assert.equal(exit.code, 0, s.out.stderr);
  const lines = s.out.stdout.split('\n');
  assert.match(lines.shift(), START);
  assert.equal(lines.pop(), '');
  assertLogged(lines, targets);
});

test(
  'an access log that cannot be opened: exit 1 naming it, before any worker starts',
  { timeout: 30_000 },
  async (t) => {
    const dir = privateDir(t);
    for (const workers of ['1', '2']) {
      const r = await run(
        process.execPath,
        [
          CLI,
          'serve',
          '--host',
          HOST,
          '--port',
          '0',
          '--workers',
          workers,
          '--access-log',
          join(dir, 'no', 'such.log'),
        ],
        { timeout: 10_000, env: { ...process.env, TMPDIR: dir } },
      );
      assert.equal(r.code, 1, `--workers ${workers}: exit ${r.code}; ${r.stderr}`);
      assert.match(r.stderr, /^etlt: --access-log .*no\/such\.log: ENOENT/m);
      assert.doesNotMatch(r.stdout, /serving on/);
    }
  },
);
