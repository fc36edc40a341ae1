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

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
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
      ['lab', '--quick', '--strategies', 'et,lt,et-no-drain,lt-always-out,seed-lt', '--workloads', 'sequential,big-head', '--json', json],
      110_000,
    );
    const report = JSON.parse(readFileSync(json, 'utf8'));
    const get = (s, w) => {
      const r = report.results.find((x) => x.strategy === s && x.workload === w);
      assert.ok(r, `no result for ${s} × ${w}`);
      return r;
    };
    // Plain progress lines when piped, and a table with a row per strategy.
    assert.match(stderr, /\[1\/10\] et × sequential: \d+ done/);
    assert.match(stdout, /workload big-head/);
    for (const s of ['et', 'lt', 'et-no-drain', 'lt-always-out', 'seed-lt']) assert.match(stdout, new RegExp(`^${s}\\s+\\d`, 'm'));

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
    assert.ok(wasted.uselessEventsPerRequest > 1 && wasted.uselessEventsPerRequest > 5 * get('lt', 'big-head').uselessEventsPerRequest);
    assert.ok(wasted.syscallsPerRequest.epoll_wait > 3 * get('lt', 'big-head').syscallsPerRequest.epoll_wait);
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

function straceCounts(file) {
  const counts = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (m) counts[m[3]] = Number(m[1]);
  }
  return counts;
}

function childPid(parent) {
  for (const tid of readdirSync(`/proc/${parent}/task`)) {
    const kids = readFileSync(`/proc/${parent}/task/${tid}/children`, 'utf8').trim();
    if (kids) return Number(kids.split(' ')[0]);
  }
  return 0;
}

/** Runs the server under `strace -f -c` for `requests` requests; returns strace's counts and the server's. */
async function straced(mode, requests) {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-strace-'));
  const summary = join(dir, 'strace.txt');
  const stats = join(dir, 'stats.json');
  const strace = spawn('strace', ['-f', '-c', '-o', summary, process.execPath, CLI, 'serve', '--mode', mode,
    '--host', '127.0.0.1', '--port', '0', '--quiet', '--stats-json', stats], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
      const ab = execFileSync('ab', ['-q', '-n', String(requests), '-c', '2', `http://127.0.0.1:${port}/`], { encoding: 'utf8', timeout: 30_000 });
      assert.match(ab, /Failed requests:\s+0/);
    }
    const pid = childPid(strace.pid);
    assert.ok(pid > 0, 'found the server under strace');
    process.kill(pid, 'SIGTERM');
    await new Promise((res) => strace.on('exit', res));
    const s = JSON.parse(readFileSync(stats, 'utf8')).stats;
    const k = straceCounts(summary);
    const ours = {
      accept4: s.accept, recvfrom: s.recv, sendto: s.send, shutdown: s.shutdown, close: s.close,
      epoll_ctl: s.ctlAdd + s.ctlMod + s.ctlDel, epoll_wait: s.wakeups + s.readyTurns + s.timerTurns + s.epollWait,
    };
    const theirs = {
      accept4: k.accept4 ?? 0, recvfrom: k.recvfrom ?? 0, sendto: k.sendto ?? 0, shutdown: k.shutdown ?? 0,
      close: k.close ?? 0, epoll_ctl: k.epoll_ctl ?? 0, epoll_wait: (k.epoll_wait ?? 0) + (k.epoll_pwait ?? 0),
    };
    return { ours, theirs, requests: s.requests };
  } finally {
    if (strace.exitCode === null) strace.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const mode of ['et', 'lt', 'seed-lt']) {
  test(`server counters agree with strace -c -f (${mode})`, { timeout: 60_000 }, async () => {
    execFileSync('strace', ['-V']);
    // Node's own start-up and shutdown make syscalls of the same kinds: measured with no load, then subtracted.
    const idle = await straced(mode, 0);
    const run = await straced(mode, 2000);
    assert.equal(run.requests, 2000);
    for (const name of Object.keys(run.ours)) {
      const ours = run.ours[name] - idle.ours[name];
      const theirs = run.theirs[name] - idle.theirs[name];
      // epoll_wait: strace also counts libuv's loop turns that are not the server's (a dozen or
      // two per run, whatever the load), so it gets a fixed allowance on top of the 3%.
      const tolerance = name === 'epoll_wait' ? Math.max(25, 0.03 * theirs) : Math.max(5, 0.03 * theirs);
      assert.ok(Math.abs(ours - theirs) <= tolerance, `${name}: counters ${ours}, strace ${theirs} (beyond idle start-up and shutdown)`);
    }
    assert.ok(run.ours.accept4 >= 2000 && run.ours.sendto >= 2000, 'the counters saw the load');
  });
}
