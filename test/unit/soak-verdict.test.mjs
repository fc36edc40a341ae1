/**
 * The soak's judgement (scripts/soak/verdict.mjs) and page (scripts/soak/report.mjs) over
 * made-up records: a clean one holds; a leak, a lost request, a busy loop, a crash or a
 * restarted worker each fail the check named for it; the page draws every series and
 * escapes what the record holds. The soak itself runs in test/cli/soak.test.mjs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BOUNDS, checks } from '../../scripts/soak/verdict.mjs';
import { SERIES, renderSoakHtml } from '../../scripts/soak/report.mjs';

const MiB = 1 << 20;
const LOADED = 60;

/** A record of `LOADED` seconds; `at(t)` overrides fields of the sample at t. */
function record({ at = () => ({}), ...over } = {}) {
  const samples = [];
  for (let t = 0; t <= LOADED + 5; t++)
    samples.push({
      t,
      rssBytes: 60 * MiB,
      heapUsed: 8 * MiB,
      fds: 50,
      open: 30,
      rps: 1000,
      errors: 0,
      probeMs: 2,
      answered: true,
      ...at(t),
    });
  return {
    variant: 'et',
    args: ['serve', '--mode', 'et'],
    loadedS: LOADED,
    samples,
    honest: {
      sources: {
        wrk: { ok: 10, failed: 0, different: 0, resent: 0 },
        probe: { ok: 5, failed: 0, different: 0, resent: 0 },
      },
      notes: [],
    },
    hostile: { kinds: { garbage: { attempts: 3, outcomes: { 'closed 400': 3 } } } },
    expectedSources: ['wrk', 'probe'],
    expectedHostile: ['garbage'],
    end: {
      open: 0,
      fdsBefore: 22,
      fdsAfter: 22,
      idleCpuPct: 0.5,
      idleS: 3,
      aliveAtEnd: true,
      exit: { code: 0, signal: null, killed: false },
      pidsAtStart: [1],
      pidsSeen: [1],
    },
    emfile: {
      nofile: 64,
      holders: 104,
      shed: 40,
      exhaustedCpuPct: 0,
      recovered: { ok: 700, failed: 0, note: '' },
      exit: { code: 0, signal: null, killed: false },
    },
    ...over,
  };
}

const failedChecks = (rec) =>
  checks(rec)
    .filter((c) => c.ok === false)
    .map((c) => c.name);

test('a clean record holds on every check', () => {
  const cs = checks(record());
  assert.ok(cs.length >= 15, `${cs.length} checks`);
  assert.deepEqual(
    cs.filter((c) => !c.ok),
    [],
  );
});

test('each fault fails the check named for it, and only that one', () => {
  const cases = [
    [{ at: (t) => ({ rssBytes: (60 + t) * MiB }) }, 'RSS flat after warm-up'],
    [{ at: (t) => ({ heapUsed: (8 + t / 2) * MiB }) }, 'V8 heap flat after warm-up'],
    [{ at: (t) => ({ fds: 50 + t }) }, 'open fds flat after warm-up'],
    [{ at: (t) => ({ answered: t % 3 === 0 }) }, 'the server answered SIGUSR1 every second'],
    [
      {
        honest: {
          sources: {
            wrk: { ok: 10, failed: 1, different: 0, resent: 0 },
            probe: { ok: 5, failed: 0, different: 0, resent: 0 },
          },
          notes: ['wrk: reset'],
        },
      },
      'no honest request failed or came back different',
    ],
    [
      {
        honest: {
          sources: {
            wrk: { ok: 10, failed: 0, different: 1, resent: 0 },
            probe: { ok: 5, failed: 0, different: 0, resent: 0 },
          },
          notes: [],
        },
      },
      'no honest request failed or came back different',
    ],
    [{ expectedSources: ['wrk', 'probe', 'ab'] }, 'every honest client was served'],
    [{ expectedHostile: ['garbage', 'half-close'] }, 'every hostile client ran'],
  ];
  for (const [over, name] of cases) assert.deepEqual(failedChecks(record(over)), [name], name);
  const end = record().end;
  const endCases = [
    [{ open: 3 }, 'every connection closed once the load stopped'],
    [{ fdsAfter: end.fdsBefore + BOUNDS.fdsLeftOver + 1 }, 'fds back to where they were before the load'],
    [{ idleCpuPct: 80 }, 'no busy loop once the load stopped'],
    [{ aliveAtEnd: false }, 'no crash: the server ran to the end and exited 0 on SIGTERM'],
    [{ exit: { code: 1, signal: null, killed: false } }, 'no crash: the server ran to the end and exited 0 on SIGTERM'],
    [{ pidsSeen: [1, 2] }, 'no worker restart'],
  ];
  for (const [over, name] of endCases)
    assert.deepEqual(failedChecks(record({ end: { ...end, ...over } })), [name], name);
  const emfile = record().emfile;
  assert.deepEqual(failedChecks(record({ emfile: { ...emfile, shed: 0 } })), [
    'EMFILE: fds ran out (connections were shed)',
  ]);
  assert.deepEqual(failedChecks(record({ emfile: { ...emfile, recovered: { ok: 5, failed: 1, note: 'x' } } })), [
    'EMFILE: served again once fds were free',
  ]);
});

test('a heap the server does not report is not measured: neither held nor failed', () => {
  const heap = checks(record({ at: () => ({ heapUsed: null }) })).find((c) => c.name === 'V8 heap flat after warm-up');
  assert.equal(heap.ok, null);
  assert.match(heap.detail, /^NOT MEASURED: /);
  assert.deepEqual(failedChecks(record({ at: () => ({ heapUsed: null }) })), []);
});

test('growth within the bounds holds; warm-up growth is not judged', () => {
  // Growth inside the warm-up, then flat: a heap that sizes itself at start is no leak.
  assert.deepEqual(failedChecks(record({ at: (t) => ({ rssBytes: (t < 5 ? 20 + 10 * t : 90) * MiB }) })), []);
  // Just inside the bound, just outside it.
  const step = (g) => ({ at: (t) => ({ rssBytes: (60 + (t > 40 ? g : 0)) * MiB }) });
  assert.deepEqual(failedChecks(record(step(BOUNDS.rssGrowthMiB))), []);
  assert.deepEqual(failedChecks(record(step(BOUNDS.rssGrowthMiB + 1))), ['RSS flat after warm-up']);
  // Too short to judge is a failure, not a pass.
  assert.ok(failedChecks(record({ loadedS: 4 })).includes('RSS flat after warm-up'));
});

test('soak.html: a chart per series per variant, the verdict, unavailable variants named, text escaped', () => {
  const rec = record({ args: ['serve', '--body', '<script>x</script>'] });
  const cs = checks(rec);
  const page = renderSoakHtml({
    held: true,
    summary: 'et held; NOT AVAILABLE in this build: root',
    startedAt: '2026-12-01T00:00:00Z',
    seconds: LOADED,
    seed: 14,
    machine: 'test',
    variants: [
      { variant: 'et', status: 'ran', held: true, checks: cs, record: rec },
      { variant: 'root', status: 'unavailable', held: false, reason: 'not available in this build: no --root' },
    ],
  });
  assert.equal((page.match(/<figure data-chart=/g) ?? []).length, SERIES.length);
  for (const [id] of SERIES) assert.match(page, new RegExp(`data-chart="${id}"`));
  assert.equal((page.match(/<polyline /g) ?? []).length, SERIES.length);
  assert.match(page, /<section data-variant="root" class="unavailable"><h2>root: NOT AVAILABLE in this build<\/h2>/);
  assert.ok(!page.includes('<script>x'), 'a value from the record is escaped');
  assert.match(page, /&lt;script&gt;x/);
  assert.equal((page.match(/<tr class="ok">/g) ?? []).length, cs.length);
  assert.match(page, /EMFILE phase: <code>prlimit --nofile=64:64<\/code>, 104 connections held, 40 shed/);
});
