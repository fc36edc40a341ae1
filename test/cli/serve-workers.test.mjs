/**
 * `etlt serve --workers N --balance KIND` in both modes and every balance kind: two workers
 * serve real clients (curl, ab), a worker killed with SIGKILL is replaced and serving goes
 * on, SIGTERM stops them all (exit 0, no worker left, the port closed), a parent killed with
 * SIGKILL leaves no worker behind, the counters add up; and the library's WorkerPool. Every
 * process a test starts is marked (TMPDIR) and killed after it, pass or fail.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { WorkerPool } from '../../dist/src/cluster/pool.js';
import { CLI, HOST, MODES, ab, run } from '../lib/http.mjs';
import { childrenOf, etlt, family, killFamily, listeningPorts, stat, waitFor } from '../lib/procs.mjs';

const BALANCES = ['reuseport', 'exclusive', 'shared'];
const START =
  /^etlt: serving on http:\/\/127\.0\.0\.1:(\d+)\/ \((edge|level)-triggered, mode (et|lt), 2 workers, balance (\w+)\)$/m;

/** A private TMPDIR: it marks every process of the test, and holds its files. */
function privateDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-workers-test-'));
  const marker = `TMPDIR=${dir}`;
  t.after(() => {
    killFamily(marker);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, marker };
}

/** Starts `etlt serve --workers 2`; resolves with the process, its port and its two workers' pids. */
async function startWorkers(t, mode, balance, extra = []) {
  const { dir, marker } = privateDir(t);
  const statsFile = join(dir, 'stats.json');
  const args = ['serve', '--mode', mode, '--host', HOST, '--port', '0', '--workers', '2', '--balance', balance];
  const p = etlt([...args, '--quiet', '--stats-json', statsFile, ...extra], { env: { TMPDIR: dir } });
  t.after(() => p.child.kill('SIGKILL'));
  const m = await waitFor(() => START.exec(p.out.stdout), { timeout: 10_000, message: 'the start line' }).catch(
    (err) => {
      err.message += `; stderr: ${p.out.stderr}`;
      throw err;
    },
  );
  assert.equal(m[3], mode);
  assert.equal(m[4], balance);
  const workers = () => childrenOf(p.child.pid).filter((c) => c.cmd.includes('worker-main.js'));
  assert.equal(workers().length, 2, 'two worker processes');
  return { ...p, port: Number(m[1]), workers, statsFile, marker };
}

/**
 * `n` requests with Node's fetch, `c` at a time, each on a new connection; `action` runs once
 * `at` of them have been answered. Resolves with the counts answered in full and failed.
 */
async function fetchLoad(port, n, c, at, action) {
  let started = 0;
  let ok = 0;
  let failed = 0;
  const client = async () => {
    while (started < n) {
      started++;
      try {
        const res = await fetch(`http://${HOST}:${port}/`, {
          headers: { connection: 'close' },
          signal: AbortSignal.timeout(10_000),
        });
        if ((await res.text()) === 'Hello, world!') ok++;
        else failed++;
      } catch {
        failed++;
      }
      if (ok + failed === at) action();
    }
  };
  await Promise.all(Array.from({ length: c }, client));
  return { ok, failed };
}

function connects(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

for (const balance of BALANCES) {
  for (const mode of MODES) {
    test(
      `--workers 2 --balance ${balance} (${mode}): serves, replaces a killed worker, stops on SIGTERM`,
      {
        timeout: 60_000,
      },
      async (t) => {
        const s = await startWorkers(t, mode, balance);
        const curl = await run('curl', ['-s', '--max-time', '5', `http://${HOST}:${s.port}/`]);
        assert.equal(curl.stdout, 'Hello, world!');
        // Enough connections that a hash leaving one worker without any is out of the question.
        const first = await ab(s.port, { n: 600, c: 8 });
        assert.equal(first.complete, 600);
        assert.equal(first.failed, 0);

        // Killed under load: after 200 of 800 requests (fetch, 8 at a time), the first worker;
        // 600 more are served while it is replaced and after.
        const [victim, survivor] = s.workers().map((w) => w.pid);
        const under = await fetchLoad(s.port, 800, 8, 200, () => process.kill(victim, 'SIGKILL'));
        await waitFor(() => /worker \d \(pid \d+\) killed by SIGKILL; replacing it in \d+ ms/.test(s.out.stderr), {
          timeout: 5000,
          message: 'the replacement logged',
        });
        const now = await waitFor(
          () => {
            const pids = s.workers().map((w) => w.pid);
            // Listening: its own socket bound (reuseport), or the inherited one.
            const fresh = pids.find((pid) => pid !== survivor);
            return pids.length === 2 && !pids.includes(victim) && listeningPorts(fresh).includes(s.port) ? pids : null;
          },
          { timeout: 10_000, message: 'a replacement worker' },
        );
        assert.ok(now.includes(survivor), 'the other worker went on');
        assert.equal(under.ok + under.failed, 800);
        // At most the requests in flight at the kill (8 at once) can fail; the rest are served meanwhile.
        assert.ok(under.failed <= 8, `${under.failed} failed requests while a worker was killed`);
        const second = await ab(s.port, { n: 300, c: 8 });
        assert.equal(second.complete, 300);
        assert.equal(second.failed, 0, 'serving goes on after the replacement');

        s.child.kill('SIGTERM');
        const { code, signal } = await s.exited;
        assert.deepEqual({ code, signal }, { code: 0, signal: null }, s.out.stderr);
        for (const pid of now) assert.equal(stat(pid), null, `worker ${pid} has exited`);
        assert.deepEqual(family(s.marker), [], 'no process of the test is left');
        assert.equal(await connects(s.port), false, 'the port is closed');

        const json = JSON.parse(readFileSync(s.statsFile, 'utf8'));
        assert.equal(json.balance, balance);
        assert.equal(json.replaced, 1);
        const sum = (key) => json.workers.reduce((a, w) => a + w.stats[key], 0);
        for (const key of ['requests', 'connections', 'accept', 'wakeups', 'listenerEvents', 'listenerEmpty'])
          assert.equal(json.stats[key], sum(key), `total ${key} is the sum over the workers`);
        // The killed worker's last counters came with its start (zero); the survivor's and its replacement's are final.
        const finals = json.workers.filter((w) => w.pid !== victim);
        assert.equal(finals.length, 2);
        assert.ok(
          finals.reduce((a, w) => a + w.stats.requests, 0) >= 301,
          'the requests after the kill are counted (and the survivor’s before it)',
        );
        if (balance === 'reuseport') {
          const survivorStats = finals.find((w) => w.pid === survivor);
          const replacement = finals.find((w) => w.pid !== survivor);
          assert.ok(survivorStats.stats.connections > 0 && replacement.stats.connections > 0, 'load reached both');
        }
        assert.match(s.out.stderr, /etlt: 3 workers' counters \(balance \w+, replaced 1\), in total:\netlt: mode=/);
      },
    );
  }
}

for (const balance of BALANCES) {
  test(
    `--balance ${balance}: SIGUSR1 gives per-worker and total counters; workers exit when the parent is SIGKILLed`,
    {
      timeout: 30_000,
    },
    async (t) => {
      const s = await startWorkers(t, balance === 'shared' ? 'lt' : 'et', balance);
      const r = await ab(s.port, { n: 200, c: 4 });
      assert.equal(r.complete, 200);
      s.child.kill('SIGUSR1');
      const block = await waitFor(
        () =>
          /((?:etlt: worker \d pid=\d+: .*\netlt: worker \d memory rss=\d+ heap-used=\d+ .*\n){2})etlt: 2 workers' counters .*\netlt: mode=\S+ connections=(\d+) open=\d+ requests=(\d+)/.exec(
            s.out.stderr,
          ),
        { timeout: 5000, message: 'the counters after SIGUSR1' },
      );
      const perWorker = [...block[1].matchAll(/requests=(\d+)/g)].map((m) => Number(m[1]));
      const heaps = [...block[1].matchAll(/heap-used=(\d+)/g)].map((m) => Number(m[1]));
      assert.ok(heaps.length === 2 && heaps.every((h) => h > 0), 'each worker reports its memory');
      assert.equal(Number(block[3]), perWorker[0] + perWorker[1], 'the total is the sum');
      assert.ok(Number(block[3]) >= 200);

      const pids = s.workers().map((w) => w.pid);
      s.child.kill('SIGKILL');
      await s.exited;
      await waitFor(() => pids.every((pid) => stat(pid) === null), {
        timeout: 10_000,
        message: 'every worker to exit after its parent was killed',
      });
      assert.deepEqual(family(s.marker), []);
    },
  );
}

test(
  '--workers 0, --workers x, --balance nope, --trace with workers and exclusive off epoll are usage errors',
  { timeout: 30_000 },
  async () => {
    // The processes run at once: each is a usage error that exits at start.
    const cases = [
      [['--workers', '0'], /--workers must be an integer from 1 to 1024 \(got '0'\)/],
      [['--workers', 'x'], /--workers must be an integer/],
      [['--balance', 'nope'], /--balance must be one of reuseport, exclusive, shared \(got 'nope'\)/],
      [['--workers', '2', '--trace', '5'], /--trace records one event loop: it needs --workers 1/],
      [
        ['--workers', '2', '--balance', 'exclusive', '--mode', 'lt', '--backend', 'poll'],
        /--balance exclusive --backend poll: EPOLLEXCLUSIVE exists only in epoll\(7\)/,
      ],
    ];
    const runs = cases.map(([args]) => etlt(['serve', '--port', '0', '--host', HOST, ...args]));
    const codes = await Promise.all(runs.map((p) => p.exited));
    cases.forEach(([args, message], i) => {
      const p = runs[i];
      assert.equal(codes[i].code, 2, `${args.join(' ')}: ${p.out.stderr}`);
      assert.match(p.out.stderr, message);
      assert.match(p.out.stderr, /Run 'etlt serve --help' for usage/);
    });
  },
);

test('WorkerPool: the library starts workers, counts them and stops them', { timeout: 30_000 }, async (t) => {
  const { dir } = privateDir(t);
  const app = join(dir, 'app.mjs');
  writeFileSync(app, 'export default () => ({ body: `pid ${process.pid}` });\n');
  const pool = new WorkerPool({
    workers: 2,
    balance: 'exclusive',
    server: { host: HOST, port: 0, mode: 'lt' },
    app,
  });
  t.after(() => pool.stop(0));
  const { port } = await pool.start();
  const pids = pool.pids;
  assert.equal(pids.length, 2);
  const seen = new Set();
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`http://${HOST}:${port}/`, { headers: { connection: 'close' } });
    seen.add(await res.text());
  }
  // Every answer came from the app module, in one of the two workers.
  for (const body of seen) assert.ok(pids.map((pid) => `pid ${pid}`).includes(body), body);
  const live = await pool.stats();
  assert.equal(live.total.requests, 50);
  assert.equal(
    live.workers.reduce((a, w) => a + w.stats.requests, 0),
    50,
  );
  const final = await pool.stop();
  assert.equal(final.total.requests, 50);
  for (const pid of pids) assert.equal(stat(pid), null);
  assert.throws(() => new WorkerPool({ workers: 0 }), { code: 'ERR_OUT_OF_RANGE', message: /"workers"/ });
  assert.throws(() => new WorkerPool({ workers: 2, balance: 'nope' }), {
    code: 'ERR_OUT_OF_RANGE',
    message: /"balance"/,
  });
  assert.throws(() => new WorkerPool({ workers: 2, wrokers: 1 }), { code: 'ERR_ETLT_UNKNOWN_OPTION' });
});

test('WorkerPool: a worker that cannot bind rejects start() with the bind error, and leaves nothing running', async (t) => {
  const taken = net.createServer().listen(0, HOST);
  await new Promise((resolve) => taken.once('listening', resolve));
  t.after(() => taken.close());
  const pool = new WorkerPool({ workers: 2, balance: 'shared', server: { host: HOST, port: taken.address().port } });
  await assert.rejects(pool.start(), { code: 'EADDRINUSE', syscall: 'bind' });
  assert.deepEqual(
    pool.pids.filter((pid) => pid !== 0 && stat(pid) !== null),
    [],
  );
});

test(
  'WorkerPool: a worker that keeps dying young is replaced after a growing backoff',
  { timeout: 30_000 },
  async (t) => {
    // Every death counts as young, however slow the machine: the backoff is then certain.
    const pool = new WorkerPool({
      workers: 1,
      balance: 'reuseport',
      server: { host: HOST, port: 0 },
      healthyMs: 600_000,
    });
    t.after(() => pool.stop(0));
    const exits = [];
    pool.on('exit', (e) => exits.push(e));
    const { port } = await pool.start();
    for (let i = 0; i < 3; i++) {
      const pid = await waitFor(() => (pool.pids[0] && stat(pool.pids[0]) ? pool.pids[0] : null), {
        timeout: 10_000,
        message: 'a worker',
      });
      // Serving (its own listener bound) before it is killed: a replacement is only made for a worker that served.
      await waitFor(() => listeningPorts(pid).includes(port), { timeout: 10_000, message: 'the worker listening' });
      process.kill(pid, 'SIGKILL');
      await waitFor(() => exits.length === i + 1, { timeout: 5000, message: 'the exit event' });
    }
    assert.deepEqual(
      exits.map((e) => [e.cause, e.restartInMs]),
      [
        ['killed by SIGKILL', 100],
        ['killed by SIGKILL', 200],
        ['killed by SIGKILL', 400],
      ],
    );
    const res = await waitFor(
      () =>
        fetch(`http://${HOST}:${port}/`, { headers: { connection: 'close' } }).then(
          (r) => r.text(),
          () => null,
        ),
      { timeout: 10_000, message: 'the fourth worker serving' },
    );
    assert.equal(res, 'Hello, world!');
  },
);

test(
  'two unrelated etlt serve --workers 2 on one port: the second fails with EADDRINUSE and the first keeps every request (issue 18 item 5)',
  { timeout: 40_000 },
  async (t) => {
    const first = await startWorkers(t, 'et', 'reuseport');
    const { dir } = privateDir(t);
    for (const balance of ['reuseport', 'exclusive']) {
      const second = etlt(
        ['serve', '--host', HOST, '--port', String(first.port), '--workers', '2', '--balance', balance, '--quiet'],
        { env: { TMPDIR: dir } },
      );
      t.after(() => second.child.kill('SIGKILL'));
      // Bounded: on a kernel or a build that lets it join, it would serve until killed.
      const { code } = await Promise.race([second.exited, delay(10_000).then(() => ({ code: 'still serving' }))]);
      assert.equal(code, 1, `the second pool (${balance}) started: ${second.out.stdout}${second.out.stderr}`);
      assert.match(second.out.stderr, new RegExp(`EADDRINUSE: address already in use ${HOST}:${first.port}`));
    }
    // A single server without SO_REUSEPORT, as before.
    const single = await run(process.execPath, [CLI, 'serve', '--host', HOST, '--port', String(first.port)], {
      timeout: 10_000,
    });
    assert.equal(single.code, 1, single.stderr);
    // The kernel keys a reuseport group by effective uid: another user's SO_REUSEPORT socket
    // cannot join it (checked where the test can become another user).
    if (process.getuid() === 0) {
      const py = [
        'import os, socket, sys',
        'os.setgid(65534); os.setuid(65534)',
        's = socket.socket()',
        's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
        's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)',
        'try:',
        `    s.bind(('${HOST}', ${first.port})); s.listen(); print('joined')`,
        'except OSError as e:',
        '    print(e.errno == 98 and "EADDRINUSE" or e)',
      ].join('\n');
      const other = await run('python3', ['-c', py], { timeout: 10_000 });
      assert.equal(other.stdout.trim(), 'EADDRINUSE', other.stderr);
    }
    // Every request reaches the first pool's two workers.
    const { ok, failed } = await fetchLoad(first.port, 20, 4, -1, () => {});
    assert.deepEqual({ ok, failed }, { ok: 20, failed: 0 });
    const counted = await waitFor(
      () => {
        first.child.kill('SIGUSR1');
        const m = [...first.out.stderr.matchAll(/in total:\netlt: mode=\w+ connections=\d+ open=\d+ requests=(\d+)/g)];
        return m.length > 0 ? Number(m[m.length - 1][1]) : null;
      },
      { timeout: 5000, message: "the first pool's counters" },
    );
    assert.equal(counted, 20);
  },
);

test(
  'a replacement worker that cannot start says what failed, with the path, and its real exit code (issue 18 item 9)',
  { timeout: 40_000 },
  async (t) => {
    const { dir, marker } = privateDir(t);
    const root = join(dir, 'www');
    mkdirSync(root);
    writeFileSync(join(root, 'index.html'), 'hi\n');
    const p = etlt(['serve', '--host', HOST, '--port', '0', '--workers', '2', '--root', root, '--quiet'], {
      env: { TMPDIR: dir },
    });
    t.after(() => p.child.kill('SIGKILL'));
    await waitFor(() => /^etlt: serving the files of/m.test(p.out.stdout), {
      timeout: 10_000,
      message: 'the start line',
    });
    rmSync(root, { recursive: true });
    const victim = childrenOf(p.child.pid).find((c) => c.cmd.includes('worker-main.js'));
    process.kill(victim.pid, 'SIGKILL');
    await waitFor(() => /exit code \d+; replacing it/.test(p.out.stderr), {
      timeout: 10_000,
      message: `the failed replacement's exit; stderr: ${p.out.stderr}`,
    });
    assert.match(
      p.out.stderr,
      new RegExp(`could not start: open ENOENT: no such file or directory \\(root ${root}\\)`),
    );
    assert.match(p.out.stderr, /^etlt: worker \d \(pid \d+\) exit code 1; replacing it in \d+ ms$/m);
    assert.doesNotMatch(p.out.stderr, /exit code 0/);
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0, p.out.stderr);
    assert.deepEqual(family(marker), []);
  },
);
