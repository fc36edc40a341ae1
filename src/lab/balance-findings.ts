/**
 * What the balance report claims, each claim checked against the run's own rows: a claim
 * the numbers bear out is printed as shown, with the numbers; one they do not is printed as
 * "not shown in this run", with the numbers that fail it. Types and arithmetic only, so the
 * report renders from a file (an older report gets its findings too).
 */
import type { BalanceFinding, BalanceReport, BalanceRow } from './balance-types.js';

export type { BalanceFinding } from './balance-types.js';

/** The verdict as the report prints it. */
export const verdict = (f: BalanceFinding) => (f.shown ? 'shown in this run' : 'not shown in this run');

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** Each worker's share of the row's accepted connections, and the count. */
function shares(r: BalanceRow): { shares: number[]; accepted: number } {
  const per = Array.isArray(r.perWorker) ? r.perWorker.map((n) => (Number.isFinite(n) ? n : 0)) : [];
  const accepted = per.reduce((a, b) => a + b, 0);
  return { shares: per.map((n) => (accepted > 0 ? n / accepted : 0)), accepted };
}

/**
 * How far a worker's share may stray from 1/N by chance alone: five standard deviations of
 * a fair draw over `accepted` connections (a binomial share), so that "even" and "less than
 * its share" are judged by the run's own size, not by a fixed margin.
 */
function chance(workers: number, accepted: number): number {
  const p = 1 / Math.max(1, workers);
  return 5 * Math.sqrt((p * (1 - p)) / Math.max(1, accepted));
}

/** Empty listener wake-ups per accepted connection. */
function emptyPerAccept(r: BalanceRow): number {
  return r.acceptEagain / Math.max(1, shares(r).accepted);
}

const emptyText = (r: BalanceRow) =>
  `${r.balance} ${r.acceptEagain} of ${shares(r).accepted} (${(100 * emptyPerAccept(r)).toFixed(1)} per 100 accepts)`;

const NESTED =
  "EPOLLEXCLUSIVE stops waking at the first epoll set that has a thread blocked in epoll_wait on it (ep_poll_callback, fs/eventpoll.c). A worker's set is nested in libuv's epoll, which waits on it only through poll, never in epoll_wait on it: so the kernel goes on to the next exclusive entry, and the next, and plain exclusive wakes like a shared listener (docs/balance.md).";

const FIRST_ADDED =
  'The kernel walks the listener’s wait queue in the order the sets were added and stops at the first exclusive entry whose set has a waiter. A worker holding in epoll_wait on its own set (--hold) is such a waiter whenever it has just served a request, and the one found first wins again and again. nginx deletes and re-adds its exclusive listener every 16 accepts (ngx_reorder_accept_events) for this reason; etlt does not reorder. With fewer cores than workers and load generator, every kind that shares one queue is lopsided too: the worker already running when a connection arrives takes it before a sleeping one is scheduled.';

const HOLD_WAKEUPS =
  "A holding worker is woken in its own epoll_wait, which libuv's wake-up count does not see: excl-hold's wake-ups per accept are low for that reason, not because it does less.";

/** The findings of one scenario's rows. */
function findingsOf(report: BalanceReport, scenario: string, busyMs: number): BalanceFinding[] {
  const rows = report.rows.filter((r) => r.scenario === scenario);
  const get = (name: string) => rows.find((r) => r.balance === name);
  const workers = Math.max(1, report.workers);
  const out: BalanceFinding[] = [];
  const missing = (names: string[]) => `the run has no ${names.filter((n) => get(n) === undefined).join(', ')} row`;
  const add = (f: Omit<BalanceFinding, 'scenario'>) => out.push({ scenario, ...f });

  const sharedLt = get('shared-lt');
  const sharedEt = get('shared-et');
  const excl = get('exclusive');
  const hold = get('excl-hold');
  const reuse = get('reuseport');
  const shared = [sharedLt, sharedEt].filter((r) => r !== undefined);

  if (busyMs === 0) {
    add({
      id: 'herd',
      balance: 'shared-lt',
      claim:
        'A listener shared plainly wakes workers for nothing (the thundering herd): some wake-ups find no connection to accept.',
      shown: shared.some((r) => r.acceptEagain > 0),
      evidence:
        shared.length === 0
          ? missing(['shared-lt', 'shared-et'])
          : `empty listener wake-ups: ${shared.map(emptyText).join('; ')}`,
    });
    add({
      id: 'shared-wakes-more',
      balance: 'shared-lt',
      claim:
        'A shared listener wakes every idle worker for each connection: more wake-ups per accept than EPOLLEXCLUSIVE.',
      shown: sharedLt !== undefined && excl !== undefined && sharedLt.wakeupsPerAccept > excl.wakeupsPerAccept,
      evidence:
        sharedLt === undefined || excl === undefined
          ? missing(['shared-lt', 'exclusive'])
          : `wake-ups per accept: shared-lt ${sharedLt.wakeupsPerAccept}, exclusive ${excl.wakeupsPerAccept}`,
      why: 'A wake-up serves whatever is ready, often several connections, so the count can fall below one per accept; and with every worker busy (few cores) there is no idle worker to wake in vain.',
    });
    add({
      id: 'exclusive-fewer',
      balance: 'exclusive',
      claim: 'EPOLLEXCLUSIVE wakes one worker per connection: fewer empty wake-ups than a shared listener.',
      shown: excl !== undefined && shared.length > 0 && shared.every((r) => emptyPerAccept(excl) < emptyPerAccept(r)),
      evidence:
        excl === undefined || shared.length === 0
          ? missing(['exclusive', 'shared-lt', 'shared-et'])
          : `empty listener wake-ups: ${[excl, ...shared].map(emptyText).join('; ')}`,
      why: NESTED,
    });
    add({
      id: 'hold-fewer',
      balance: 'excl-hold',
      claim:
        'With a waiter in its own set (--hold), the exclusive wake-up stops at one worker: fewer empty wake-ups than plain exclusive.',
      shown: hold !== undefined && excl !== undefined && emptyPerAccept(hold) < emptyPerAccept(excl),
      evidence:
        hold === undefined || excl === undefined
          ? missing(['excl-hold', 'exclusive'])
          : `empty listener wake-ups: ${[hold, excl].map(emptyText).join('; ')}`,
      why: HOLD_WAKEUPS,
    });
    if (hold !== undefined) {
      const h = shares(hold);
      const top = Math.max(0, ...h.shares);
      const others = rows.filter((r) => r !== hold).map((r) => ({ r, top: Math.max(0, ...shares(r).shares) }));
      const most = others.every((o) => top > o.top);
      add({
        id: 'hold-skew',
        balance: 'excl-hold',
        claim:
          'EPOLLEXCLUSIVE with waiting workers favours the set added first: one worker takes the most, more than with any other kind.',
        shown: most && top > 1 / workers + chance(workers, h.accepted),
        evidence: `the busiest worker's share: excl-hold ${pct(top)}; ${others.map((o) => `${o.r.balance} ${pct(o.top)}`).join(', ')} (an even share is ${pct(1 / workers)})`,
        why: FIRST_ADDED,
      });
    }
    if (reuse !== undefined) {
      const s = shares(reuse);
      const top = Math.max(0, ...s.shares);
      add({
        id: 'reuseport-even',
        balance: 'reuseport',
        claim: 'SO_REUSEPORT spreads connections evenly by a hash and never wakes a worker for nothing.',
        shown: reuse.acceptEagain === 0 && top <= 1 / workers + chance(workers, s.accepted),
        evidence: `shares ${s.shares.map(pct).join(' / ')} (even within chance: up to ${pct(1 / workers + chance(workers, s.accepted))}); empty wake-ups ${reuse.acceptEagain}`,
      });
    }
  } else {
    const queued = [sharedLt, sharedEt, excl, hold].filter((r) => r !== undefined);
    const slowShare = (r: BalanceRow) => shares(r).shares[0] ?? 0;
    add({
      id: 'slow-takes-less',
      balance: queued[0]?.balance ?? 'shared-lt',
      claim: 'From one shared queue the slow worker takes less than its share: the others take the rest.',
      shown: queued.length > 0 && queued.every((r) => slowShare(r) < 1 / workers - chance(workers, shares(r).accepted)),
      evidence:
        queued.length === 0
          ? missing(['shared-lt', 'shared-et', 'exclusive', 'excl-hold'])
          : `worker 0's share: ${queued.map((r) => `${r.balance} ${pct(slowShare(r))}`).join(', ')} (an even share is ${pct(1 / workers)})`,
    });
    if (reuse !== undefined) {
      const worst = Math.max(0, ...queued.map((r) => r.p99Ms));
      add({
        id: 'reuseport-slow',
        balance: 'reuseport',
        claim:
          "SO_REUSEPORT's hash does not know a worker is slow: the slow worker keeps its share, its clients wait, and the run's p99 is the worst of all kinds (Cloudflare, 2017).",
        shown:
          Math.abs(slowShare(reuse) - 1 / workers) <= chance(workers, shares(reuse).accepted) &&
          queued.length > 0 &&
          reuse.p99Ms > worst,
        evidence: `worker 0's share ${pct(slowShare(reuse))}; p99 reuseport ${reuse.p99Ms} ms, the worst of the others ${worst} ms`,
      });
    }
  }
  return out;
}

/** Every finding of `report`, scenario by scenario. */
export function balanceFindings(report: BalanceReport): BalanceFinding[] {
  const scenarios = Array.isArray(report.scenarios) ? report.scenarios : [];
  if (!Array.isArray(report.rows)) return [];
  return scenarios.flatMap((sc) => findingsOf(report, sc.name, Number(sc.busyMs) || 0));
}
