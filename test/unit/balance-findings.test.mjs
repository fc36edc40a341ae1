/**
 * The balance report's claims are checked against the run's own numbers: a claim the rows
 * bear out is printed as shown, one they do not as "not shown in this run", beside the row
 * concerned (issue 18, item 15: a 2-core run where exclusive had more empty wake-ups than
 * shared, and excl-hold sent 75% of connections to one worker).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { balanceFindings } from '../../dist/src/lab/balance-findings.js';
import { renderBalanceHtml } from '../../dist/src/lab/report/balance.js';
import { formatBalanceTables } from '../../dist/src/cli/lab-balance.js';

const worker = (index, accepted) => ({
  index,
  accepted,
  wakeups: accepted,
  acceptEagain: 0,
  p50Ms: 1,
  p99Ms: 2,
  maxMs: 3,
  cpuMs: 1,
});
function row(scenario, balance, perWorker, { eagain = 0, wakeups = 1.27, p99 = 10 } = {}) {
  return {
    scenario,
    balance,
    serveBalance: balance,
    mode: 'et',
    workers: 2,
    perWorker,
    wakeupsPerAccept: wakeups,
    acceptEagain: eagain,
    p50Ms: 1,
    p99Ms: p99,
    maxMs: p99 + 1,
    stdevMs: 1,
    completed: 1000,
    errors: 0,
    stalled: 0,
    rps: 1000,
    cpuUsPerRequest: 50,
    detail: perWorker.map((n, i) => worker(i, n)),
  };
}
const report = (rows) => ({
  experiment: 'balance',
  version: '0',
  startedAt: '2026-01-01T00:00:00Z',
  machine: { cpus: 2, node: 'v20', kernel: '6' },
  workers: 2,
  concurrency: 32,
  requests: 1000,
  scenarios: [
    { name: 'even', description: 'every worker equal', busyMs: 0 },
    { name: 'slow-worker', description: 'worker 0 slow', busyMs: 2 },
  ],
  balances: [],
  rows,
});

// The 2-core run of the issue: exclusive no better than shared, excl-hold lopsided.
const twoCores = report([
  row('even', 'shared-lt', [520, 480], { eagain: 20 }),
  row('even', 'shared-et', [510, 490], { eagain: 10 }),
  row('even', 'exclusive', [530, 470], { eagain: 25 }),
  row('even', 'excl-hold', [750, 250], { eagain: 2, wakeups: 0.1 }),
  row('even', 'reuseport', [495, 505]),
  row('slow-worker', 'shared-lt', [60, 940], { p99: 50 }),
  row('slow-worker', 'reuseport', [500, 500], { p99: 400 }),
]);

test('claims the run bears out are shown; the others say "not shown in this run"', () => {
  const f = Object.fromEntries(balanceFindings(twoCores).map((x) => [x.id, x]));
  assert.equal(f.herd.shown, true);
  assert.equal(f['exclusive-fewer'].shown, false, 'exclusive had more empty wake-ups than shared');
  assert.match(f['exclusive-fewer'].evidence, /exclusive 25 of 1000/);
  assert.match(f['exclusive-fewer'].why, /nested in libuv's epoll/);
  assert.equal(f['shared-wakes-more'].shown, false, 'both at 1.27 wake-ups per accept');
  assert.equal(f['hold-fewer'].shown, true);
  assert.equal(f['hold-skew'].shown, true, '75% to one worker, the most of any kind');
  assert.match(f['hold-skew'].why, /added/);
  assert.equal(f['reuseport-even'].shown, true);
  assert.equal(f['slow-takes-less'].shown, true);
  assert.equal(f['reuseport-slow'].shown, true);
});

test('a finding flips with the numbers: even shares for excl-hold are not a skew', () => {
  const even = report([row('even', 'excl-hold', [505, 495]), row('even', 'reuseport', [500, 500])]);
  const f = Object.fromEntries(balanceFindings(even).map((x) => [x.id, x]));
  assert.equal(f['hold-skew'].shown, false);
  assert.equal(f['exclusive-fewer'].shown, false);
  assert.match(f['exclusive-fewer'].evidence, /the run has no exclusive, shared-lt, shared-et row/);
  const lopsided = report([row('even', 'reuseport', [800, 200])]);
  assert.equal(balanceFindings(lopsided).find((x) => x.id === 'reuseport-even').shown, false);
});

test('the page prints each finding under its row, the nested-set finding beside exclusive', () => {
  const page = renderBalanceHtml(twoCores);
  const afterExclusive = /<tr data-balance="exclusive">.*?<\/tr>(.*?)<tr data-balance="excl-hold">/s.exec(page)[1];
  assert.match(afterExclusive, /data-finding="exclusive-fewer" data-shown="false"/);
  assert.match(afterExclusive, /not shown in this run/);
  assert.match(afterExclusive, /nested in libuv/);
  const afterHold = /<tr data-balance="excl-hold">.*?<\/tr>(.*?)<tr data-balance="reuseport">/s.exec(page)[1];
  assert.match(afterHold, /data-finding="hold-skew" data-shown="true"/);
  const text = formatBalanceTables(twoCores);
  assert.match(text, /exclusive {2}not shown in this run: EPOLLEXCLUSIVE wakes one worker/);
});
