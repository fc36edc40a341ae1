/**
 * `etlt lab` on persistent connections: the figures of the new workloads mean what they
 * say. Kept-alive strategies serve a run on one connection per client, with no epoll_ctl
 * per request; the seed's loops, which close after every response, are reconnected to
 * (and counted); et-no-drain stalls on a pipelined batch longer than one recv(1024);
 * lt-always-out pays for every idle connection on every busy request, and the idle
 * connections' own setup is not charged to the busy requests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { etlt, family, killFamily } from '../lib/procs.mjs';

/** Runs `etlt lab --quick ...args --json FILE`; resolves with the report. */
async function lab(t, args) {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-keepalive-test-'));
  const marker = `TMPDIR=${dir}`;
  t.after(() => {
    killFamily(marker);
    rmSync(dir, { recursive: true, force: true });
  });
  const json = join(dir, 'report.json');
  const run = etlt(['lab', '--quick', ...args, '--json', json], { env: { TMPDIR: dir } });
  t.after(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });
  const { code } = await run.exited;
  assert.equal(code, 0, `etlt lab ${args.join(' ')}: exit ${code}\n${run.out.stderr}`);
  assert.deepEqual(family(marker), [], 'no process of the run is left');
  const report = JSON.parse(readFileSync(json, 'utf8'));
  return {
    report,
    stdout: run.out.stdout,
    get(s, w) {
      const r = report.results.find((x) => x.strategy === s && x.workload === w);
      assert.ok(r, `no result for ${s} × ${w}`);
      return r;
    },
  };
}

test('pipelined: kept alive, the seed reconnected to, et-no-drain stalled', { timeout: 90_000 }, async (t) => {
  const { get, stdout, report } = await lab(t, ['--workloads', 'pipelined', '--strategies', 'lt,seed-lt,et-no-drain']);
  assert.match(stdout, /^workload pipelined: /m);
  const lt = get('lt', 'pipelined');
  assert.equal(lt.completed, lt.attempted);
  assert.deepEqual([lt.stalled, lt.errors, lt.reconnects], [0, 0, 0]);
  assert.equal(lt.connections, 4, 'one connection per client');
  assert.ok(lt.requestsPerConnection >= 100, `requests per connection: ${lt.requestsPerConnection}`);
  // Sixteen requests per write: one read and one send serve many of them.
  assert.ok(lt.syscallsPerRequest.total < 1, `syscalls/req ${lt.syscallsPerRequest.total}`);
  assert.ok(lt.syscallsPerRequest.epoll_ctl < 0.01, `epoll_ctl/req ${lt.syscallsPerRequest.epoll_ctl}`);

  const seed = get('seed-lt', 'pipelined');
  assert.ok(
    seed.completed > 100 && seed.completed === seed.attempted,
    `seed-lt completed ${seed.completed} of ${seed.attempted}`,
  );
  assert.deepEqual([seed.stalled, seed.errors], [0, 0]);
  assert.equal(seed.requestsPerConnection, 1, 'the seed closes after every response');
  assert.ok(seed.reconnects >= seed.completed - 4, `reconnects ${seed.reconnects}, completed ${seed.completed}`);
  assert.ok(seed.syscallsPerRequest.epoll_ctl >= 2.9, 'and still modifies three times per request');

  const nd = get('et-no-drain', 'pipelined');
  assert.ok(nd.stalled > 0, 'et-no-drain leaves the rest of a 2.8 KB batch unread');
  assert.ok(
    report.connectionsByWorkload.pipelined.lt.every((c) => c.requests > 1),
    'per-connection records: many requests each',
  );
});

test(
  'idle-keepalive: 1,000 idle connections held; lt-always-out pays for them on every busy request',
  { timeout: 90_000 },
  async (t) => {
    const { get } = await lab(t, ['--workloads', 'idle-keepalive', '--strategies', 'lt,lt-always-out']);
    for (const s of ['lt', 'lt-always-out']) {
      const r = get(s, 'idle-keepalive');
      assert.deepEqual(
        r.idle,
        { opened: 1000, held: 1000, closedByServer: 0, failed: 0 },
        `${s}: the idle connections`,
      );
      assert.equal(r.completed, r.attempted, `${s}: every busy request answered`);
      assert.deepEqual(
        [r.stalled, r.errors, r.reconnects, r.connections],
        [0, 0, 0, 10],
        `${s}: ten busy connections, kept`,
      );
      assert.ok(r.baselineCounters.connections >= 1000, `${s}: a baseline with the idle connections alone`);
      assert.ok(r.counters.connections >= 1010);
      // The idle connections' requests and registrations are the baseline's, not the busy
      // requests' (those two counts are exact; accept4's EAGAINs and the events vary from run to run).
      assert.equal(r.counters.requests - r.baselineCounters.requests, r.completed, `${s}: busy requests alone`);
      assert.equal(r.requestsPerConnection, r.completed / 10);
      assert.ok(
        r.syscallsPerRequest.epoll_ctl < 0.01,
        `${s}: epoll_ctl ${r.syscallsPerRequest.epoll_ctl} per busy request`,
      );
    }
    const lt = get('lt', 'idle-keepalive');
    const bad = get('lt-always-out', 'idle-keepalive');
    assert.ok(Math.abs(lt.uselessEventsPerRequest) < 0.1, `lt: useless/req ${lt.uselessEventsPerRequest}`);
    assert.ok(bad.uselessEventsPerRequest > 50, `lt-always-out: useless/req ${bad.uselessEventsPerRequest}`);
    assert.ok(
      bad.eventsPerWait > 50,
      `lt-always-out: every wait reports the idle connections (${bad.eventsPerWait} events/wait)`,
    );
  },
);
