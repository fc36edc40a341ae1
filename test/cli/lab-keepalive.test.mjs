/**
 * `etlt lab` on persistent connections: the figures of the new workloads mean what they
 * say. Kept-alive strategies serve a run on one connection per client, with no epoll_ctl
 * per request; the seed's loops, which close after every response, are reconnected to
 * (and counted); et-no-drain stalls on a pipelined batch longer than one recv(1024);
 * lt-always-out pays for every idle connection on every busy request, and the idle
 * connections' own setup is not charged to the busy requests, and no figure is below zero
 * (et-no-drain once showed -18.2 syscalls per request when a baseline run was subtracted).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { assertPossible } from '../lib/figures.mjs';
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
  assertPossible(report.results, (r) => `${r.strategy} × ${r.workload}`, ['counters', 'countersAtStart']);
  for (const r of report.results)
    assert.equal(r.unreliable, undefined, `${r.strategy} × ${r.workload}: ${r.unreliable}`);
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
  // Registrations per connection, not per request: counted exactly, not held against a ratio.
  const ctl = lt.counters.interestAdds + lt.counters.interestMods + lt.counters.interestDels;
  assert.ok(ctl <= 3 * lt.connections, `epoll_ctl calls ${ctl} for ${lt.connections} connections`);

  const seed = get('seed-lt', 'pipelined');
  assert.ok(
    seed.completed > 100 && seed.completed === seed.attempted,
    `seed-lt completed ${seed.completed} of ${seed.attempted}`,
  );
  assert.deepEqual([seed.stalled, seed.errors], [0, 0]);
  assert.equal(seed.requestsPerConnection, 1, 'the seed closes after every response');
  assert.ok(seed.reconnects >= seed.completed - 4, `reconnects ${seed.reconnects}, completed ${seed.completed}`);
  assert.ok(seed.syscallsPerRequest.epoll_ctl >= 2.9, 'and still modifies three times per request');
  // Sixteen requests per write: one read and one send serve many of them, against the seed's
  // connection per request.
  assert.ok(
    4 * lt.syscallsPerRequest.total < seed.syscallsPerRequest.total,
    `syscalls/req: lt ${lt.syscallsPerRequest.total}, seed-lt ${seed.syscallsPerRequest.total}`,
  );

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
    // et-no-drain: its idle connections stall in the accept queue, the case that went below zero.
    const { get } = await lab(t, ['--workloads', 'idle-keepalive', '--strategies', 'lt,lt-always-out,et-no-drain']);
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
      const during = (k) => r.counters[k] - r.countersAtStart[k];
      assert.ok(r.countersAtStart.connections >= 1000, `${s}: the idle connections were open when the count began`);
      // The idle connections' requests and registrations came before the measured load
      // (exact counts: both snapshots are of the one server process).
      assert.equal(during('requests'), r.completed, `${s}: busy requests alone`);
      assert.equal(r.requestsPerConnection, r.completed / 10);
      // One registration per busy connection, none per request: counted, not a ratio against a threshold.
      assert.equal(during('interestAdds'), r.connections, `${s}: epoll_ctl ADD once per busy connection`);
      assert.ok(during('interestDels') <= r.connections, `${s}: at most one DEL per busy connection`);
    }
    const lt = get('lt', 'idle-keepalive');
    const bad = get('lt-always-out', 'idle-keepalive');
    // Strategies against each other, not against fixed numbers: lt-always-out hears from every
    // idle connection on every wait, lt from none.
    assert.ok(
      bad.uselessEventsPerRequest > 10 * lt.uselessEventsPerRequest && bad.uselessEventsPerRequest > 1,
      `useless/req: lt-always-out ${bad.uselessEventsPerRequest}, lt ${lt.uselessEventsPerRequest}`,
    );
    assert.ok(
      bad.eventsPerWait > 10 * lt.eventsPerWait,
      `events/wait: lt-always-out ${bad.eventsPerWait}, lt ${lt.eventsPerWait}`,
    );
    const nd = get('et-no-drain', 'idle-keepalive');
    assert.ok(nd.countersAtStart !== undefined, 'et-no-drain: counted from a snapshot too');
  },
);
