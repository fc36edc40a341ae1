/**
 * `etlt lab scaling --quick`: a bounded run (poll and select with 10 and 1,100 idle
 * connections) whose JSON rows have the documented shape, where select refuses past
 * FD_SETSIZE with an error saying why while poll holds every connection, and whose HTML
 * report draws the log-log charts from those rows. Usage errors for the experiment's own
 * options.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { assertPossible } from '../lib/figures.mjs';
import { CLI, run } from '../lib/http.mjs';
import { renderScalingHtml } from '../../dist/src/lab/report/scaling.js';

const FIGURES = [
  'rps',
  'usPerRequest',
  'usPerWait',
  'waitsPerRequest',
  'eventsPerWait',
  'syscallsPerRequest',
  'rssBytesPerConnection',
];

test(
  'etlt lab scaling --quick --json -: rows for each backend and count; select refuses past 1024',
  { timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'etlt-scaling-test-'));
    try {
      const html = join(dir, 'scaling.html');
      const r = await run(
        process.execPath,
        [
          CLI,
          'lab',
          'scaling',
          '--quick',
          '--idle',
          '10,1100',
          '--backends',
          'poll,select',
          '--json',
          '-',
          '--out',
          html,
        ],
        { timeout: 80_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.experiment, 'scaling');
      assert.equal(report.fdSetSize, 1024);
      assert.deepEqual(report.idleCounts, [10, 1100]);
      assert.equal(report.published.rows.at(-1).fds, 10_000);
      assert.deepEqual(
        report.rows.map((x) => `${x.backend}@${x.idle}`),
        ['poll@10', 'select@10', 'poll@1100', 'select@1100'],
      );
      for (const row of report.rows) {
        for (const k of ['backend', 'idle', 'shed', ...FIGURES])
          assert.ok(k in row, `${row.backend}@${row.idle} lacks ${k}`);
      }
      // Snapshots of one server process: no figure below zero (epoll once showed -0.6 waits).
      assertPossible(report.rows, (x) => `${x.backend}@${x.idle}`);
      for (const row of report.rows) assert.equal(row.unreliable, undefined, `${row.backend}@${row.idle}`);
      const get = (b, n) => report.rows.find((x) => x.backend === b && x.idle === n);
      for (const row of [get('poll', 10), get('select', 10), get('poll', 1100)]) {
        assert.equal(row.error, undefined, `${row.backend}@${row.idle}: ${row.error}`);
        assert.ok(row.requests > 0, `${row.backend}@${row.idle} served busy requests`);
        assert.ok(row.usPerRequest > 0 && row.usPerWait > 0 && row.syscallsPerRequest > 0);
        assert.equal(row.shed, 0);
      }
      assert.equal(get('poll', 1100).idleHeld, 1100, 'poll holds every idle connection past 1024');
      const refused = get('select', 1100);
      assert.match(
        refused.error,
        /select\(2\) cannot watch an fd of FD_SETSIZE \(1024\) or more: the server shed \d+ of 1100/,
      );
      assert.ok(refused.shed > 0);
      for (const k of FIGURES) assert.equal(refused[k], null, `select@1100 has no ${k}`);
      // The table (on stderr, as stdout carries the JSON) says why too.
      assert.match(r.stderr, /select with 1100 idle: select\(2\) cannot watch/);
      assert.match(r.stderr, /^poll\s+1100\s+\d+/m);
      // The HTML report: one point per row that ran on each chart, a cross for the refused one.
      const page = readFileSync(html, 'utf8');
      for (const chart of ['usPerWait', 'usPerRequest']) {
        const svg = new RegExp(`<svg data-chart="${chart}"[\\s\\S]*?</svg>`).exec(page)?.[0] ?? '';
        assert.equal((svg.match(/<circle class="point"/g) ?? []).length, 3, `${chart}: three points`);
        assert.match(svg, /<text class="refused" data-backend="select" data-idle="1100"/);
      }
      assert.equal(renderScalingHtml(report), page);
      // TLPI beside the run at the run's own counts: 1,100 read between TLPI's 1,000 and 10,000.
      const tlpi = /<tr data-fds="1100" class="ran">(.*?)<\/tr>/.exec(page)?.[1] ?? '';
      assert.match(tlpi, /≈\d/, 'TLPI read at 1,100');
      assert.match(page, /<tr data-fds="10" class="ran">/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('etlt lab scaling: bad options are usage errors', async () => {
  for (const [args, message] of [
    [['--idle', 'ten'], /--idle: counts are whole numbers/],
    [['--idle', '0'], /--idle: counts are whole numbers/],
    [['--backends', 'kqueue'], /--backends: unknown 'kqueue' \(known: epoll, poll, select\)/],
    [['--strategies', 'et'], /--strategies/],
  ]) {
    const r = await run(process.execPath, [CLI, 'lab', 'scaling', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const help = await run(process.execPath, [CLI, 'lab', 'scaling', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--idle N,N/);
});

test('renderScalingHtml: an impossible row (an old report) is marked unreliable and drawn nowhere', () => {
  const good = { backend: 'epoll', idle: 10, usPerRequest: 20, usPerWait: 15, waitsPerRequest: 1.2, shed: 0 };
  const bad = { backend: 'epoll', idle: 5000, usPerRequest: 20, usPerWait: 15, waitsPerRequest: -0.6, shed: 0 };
  const page = renderScalingHtml({ rows: [good, bad], backends: ['epoll'], published: { operations: 1, rows: [] } });
  assert.match(page, /<tr data-backend="epoll" data-idle="5000" class="unreliable">/);
  assert.match(page, /unreliable, not compared: waitsPerRequest is below zero \(-0.6\)/);
  assert.doesNotMatch(page, /<circle class="point" data-backend="epoll" data-idle="5000"/);
  assert.match(page, /<circle class="point" data-backend="epoll" data-idle="10"/);
});

test('publishedAt reads TLPI between its rows on a log-log scale, and only there', async () => {
  const { publishedAt } = await import('../../dist/src/lab/report/scaling.js');
  const rows = [
    { fds: 10, poll: 1, select: 1, epoll: 1 },
    { fds: 1000, poll: 100, select: 100, epoll: 1 },
  ];
  assert.deepEqual(publishedAt(rows, 'poll', 10), { value: 1, interpolated: false });
  const mid = publishedAt(rows, 'poll', 100);
  assert.ok(mid.interpolated && Math.abs(mid.value - 10) < 1e-9, JSON.stringify(mid));
  assert.equal(publishedAt(rows, 'poll', 5), undefined);
  assert.equal(publishedAt(rows, 'poll', 5000), undefined);
});

test('renderScalingHtml renders a malformed report without throwing, text escaped', () => {
  const page = renderScalingHtml({ rows: [{ backend: 'poll', idle: 10, error: '<b>x</b>' }], published: {} });
  assert.match(page, /&lt;b&gt;x&lt;\/b&gt;/);
  assert.doesNotMatch(page, /NaN/);
});
