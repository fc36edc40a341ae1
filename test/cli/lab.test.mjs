/**
 * `etlt lab`: the report's numbers mean what they say (pitfalls visible, counters exact),
 * and the server's own syscall counters agree with strace on the same run.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { assertPossible } from '../lib/figures.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function run(args, timeoutMs) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise({ stdout, stderr });
      else reject(new Error(`etlt ${args.join(' ')} exited ${code ?? signal}\n${stderr}`));
    });
  });
}

test('etlt lab --quick measures the strategies and shows both pitfalls', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-lab-test-'));
  try {
    const json = join(dir, 'report.json');
    const { stdout, stderr } = await run(
      [
        'lab',
        '--quick',
        '--strategies',
        'et,lt,et-no-drain,lt-always-out,seed-lt',
        '--workloads',
        'sequential,big-head',
        '--json',
        json,
      ],
      110_000,
    );
    const report = JSON.parse(readFileSync(json, 'utf8'));
    // A lab figure must be true: none below zero, no share above 100%, none marked unreliable.
    assertPossible(report.results, (r) => `${r.strategy} × ${r.workload}`, ['counters', 'countersAtStart']);
    for (const r of report.results) assert.equal(r.unreliable, undefined, `${r.strategy} × ${r.workload}`);
    const get = (s, w) => {
      const r = report.results.find((x) => x.strategy === s && x.workload === w);
      assert.ok(r, `no result for ${s} × ${w}`);
      return r;
    };
    // Plain progress lines when piped, and a table with a row per strategy.
    assert.match(stderr, /\[1\/10\] et × sequential: \d+ done/);
    assert.match(stdout, /workload big-head/);
    for (const s of ['et', 'lt', 'et-no-drain', 'lt-always-out', 'seed-lt'])
      assert.match(stdout, new RegExp(`^${s}\\s+\\d`, 'm'));

    for (const s of ['et', 'lt', 'seed-lt']) {
      for (const w of ['sequential', 'big-head']) {
        const r = get(s, w);
        assert.equal(r.stalled, 0, `${s} × ${w} stalled`);
        assert.equal(r.completed, r.attempted, `${s} × ${w} completed all`);
        assert.ok(r.cpuUsPerRequest > 0 && r.syscallsPerRequest.total >= 3, `${s} × ${w} measured`);
      }
    }
    // The seed's modify pattern: three epoll_ctl per request (add, to OUT, to 0) against at most one.
    assert.ok(get('seed-lt', 'sequential').syscallsPerRequest.epoll_ctl >= 2.9);
    assert.ok(get('lt', 'sequential').syscallsPerRequest.epoll_ctl <= 1.01);
    assert.ok(get('et', 'sequential').syscallsPerRequest.epoll_ctl <= 1.01);
    // et-no-drain loses the rest of a head longer than one recv(1024): requests stall.
    assert.ok(get('et-no-drain', 'big-head').stalled > 0, 'et-no-drain stalls on big heads');
    // lt-always-out wakes up for nothing, many times per request.
    const wasted = get('lt-always-out', 'big-head');
    assert.ok(
      wasted.uselessEventsPerRequest > 1 &&
        wasted.uselessEventsPerRequest > 5 * get('lt', 'big-head').uselessEventsPerRequest,
    );
    assert.ok(
      wasted.syscallsPerRequest.epoll_wait > 1.5 * get('lt', 'big-head').syscallsPerRequest.epoll_wait,
      'lt-always-out waits more',
    );
    // The timelines (big-head) hold real epoll_wait returns, and show the modes apart: the
    // seed's LT loop, reading 1024 bytes per wake-up, is told again that the same connection
    // is readable on consecutive waits; the seed's ET loop, draining, hears of each edge once.
    const EPOLLIN = 1;
    const streak = (waits) => {
      let best = 0;
      let run = 0;
      let last = -1;
      for (const w of waits) {
        const conn = w.events.find(([, ev]) => ev & EPOLLIN);
        if (conn && conn[0] === last) run++;
        else run = 1;
        last = conn ? conn[0] : -1;
        best = Math.max(best, run);
      }
      return best;
    };
    for (const s of ['lt-always-out', 'seed-lt', 'et']) {
      const tl = report.timelines[s];
      assert.ok(Array.isArray(tl) && tl.length > 5, `timeline of ${s}`);
      assert.ok(tl.every((w) => typeof w.t === 'number' && w.events.length > 0));
    }
    assert.ok(streak(report.timelines['seed-lt']) >= 3, 'seed-lt re-reports the unread head');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Counts from a full `strace -f` log, attributed: calls of each kind, our own epoll_wait
 * (plain epoll_wait: libuv uses epoll_pwait) and epoll_ctl on our set, and libuv's waits
 * that returned our set's fd (its private duplicate, made with F_DUPFD_CLOEXEC, which the
 * watcher also drains through).
 */
function straceCounts(file) {
  const text = readFileSync(file, 'utf8');
  const calls = {};
  for (const m of text.matchAll(/^\d+\s+([a-z_0-9]+)\(/gm)) calls[m[1]] = (calls[m[1]] ?? 0) + 1;
  // Our set: a duplicated fd that epoll_ctl also registers fds with.
  const duplicated = [...text.matchAll(/^\d+\s+fcntl\((\d+), F_DUPFD_CLOEXEC, \d+\)\s*= (\d+)/gm)].find((m) =>
    new RegExp(`^\\d+\\s+epoll_ctl\\(${m[1]}, EPOLL_CTL_ADD,`, 'm').test(text),
  );
  const ourSet = duplicated?.[1];
  const dup = duplicated?.[2];
  const ctlOnOurSet = ourSet ? (text.match(new RegExp(`^\\d+\\s+epoll_ctl\\(${ourSet},`, 'gm')) ?? []).length : 0;
  const wakeups = dup ? (text.match(new RegExp(`epoll_pwait.*u32=${dup}[,}]`, 'gm')) ?? []).length : 0;
  return { calls, ourSet, dup, ctlOnOurSet, wakeups };
}

function childPid(parent) {
  for (const tid of readdirSync(`/proc/${parent}/task`)) {
    const kids = readFileSync(`/proc/${parent}/task/${tid}/children`, 'utf8').trim();
    if (kids) return Number(kids.split(' ')[0]);
  }
  return 0;
}

/** Runs the server under `strace -f` for `requests` requests; returns strace's counts and the server's. */
async function straced(mode, requests) {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-strace-'));
  const log = join(dir, 'strace.txt');
  const stats = join(dir, 'stats.json');
  const strace = spawn(
    'strace',
    [
      '-f',
      '-e',
      'trace=epoll_wait,epoll_pwait,epoll_ctl,accept4,recvfrom,sendto,shutdown,close,fcntl',
      '-o',
      log,
      process.execPath,
      CLI,
      'serve',
      '--mode',
      mode,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--quiet',
      '--stats-json',
      stats,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const port = await new Promise((res, rej) => {
      let out = '';
      const t = setTimeout(() => rej(new Error('server did not start under strace')), 20_000);
      strace.stdout.on('data', (d) => {
        out += d;
        const m = /serving on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) {
          clearTimeout(t);
          res(Number(m[1]));
        }
      });
    });
    if (requests > 0) {
      const ab = execFileSync('ab', ['-q', '-n', String(requests), '-c', '4', `http://127.0.0.1:${port}/`], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.match(ab, /Failed requests:\s+0/);
    }
    const pid = childPid(strace.pid);
    assert.ok(pid > 0, 'found the server under strace');
    process.kill(pid, 'SIGTERM');
    await new Promise((res) => strace.on('exit', res));
    return { stats: JSON.parse(readFileSync(stats, 'utf8')).stats, strace: straceCounts(log) };
  } finally {
    if (strace.exitCode === null) strace.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const mode of ['et', 'lt', 'seed-lt']) {
  test(`server counters agree with strace -f (${mode})`, { timeout: 60_000 }, async () => {
    execFileSync('strace', ['-V']);
    // close(2) is also Node's own (start-up, shutdown): measured with no load and subtracted.
    const idle = await straced(mode, 0);
    const { stats: s, strace: k } = await straced(mode, 2000);
    assert.equal(s.requests, 2000);
    assert.ok(k.ourSet && k.dup, `found our epoll set (${k.ourSet}) and libuv's copy of it (${k.dup}) in the trace`);
    const near = (name, ours, theirs) => {
      assert.ok(Math.abs(ours - theirs) <= Math.max(3, 0.03 * theirs), `${name}: counters ${ours}, strace ${theirs}`);
    };
    near('accept4', s.accept, k.calls.accept4 ?? 0);
    near('recvfrom', s.recv, k.calls.recvfrom ?? 0);
    near('sendto', s.send, k.calls.sendto ?? 0);
    near('shutdown', s.shutdown, k.calls.shutdown ?? 0);
    near('epoll_ctl on our set', s.interestAdds + s.interestMods + s.interestDels, k.ctlOnOurSet);
    near('our epoll_wait', s.waits, k.calls.epoll_wait ?? 0);
    near("libuv's wake-ups for our set", s.wakeups, k.wakeups);
    near('close', s.close - idle.stats.close, (k.calls.close ?? 0) - (idle.strace.calls.close ?? 0));
    assert.ok(s.accept >= 2000 && s.send >= 2000, 'the counters saw the load');
  });
}
