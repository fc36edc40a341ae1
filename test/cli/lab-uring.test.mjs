/**
 * `etlt lab uring`, a short run: pure JSON on stdout with --json -, every figure physically
 * possible (nothing below zero, CPU per request within the wall time), the io_uring rows
 * submitting with few io_uring_enter and epoll's with none, the verdict naming the
 * workload, and the HTML page rendered from the report.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { CLI, run } from '../lib/http.mjs';

test(
  'etlt lab uring --quick, two servers, one workload: JSON on stdout, true figures, the page',
  { timeout: 180_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'etlt-lab-uring-'));
    try {
      const html = join(dir, 'uring.html');
      const r = await run(
        process.execPath,
        [
          CLI,
          'lab',
          'uring',
          '--quick',
          '--servers',
          'epoll-et,io_uring',
          '--workloads',
          'keepalive-50',
          '--no-strace',
          '--json',
          '-',
          '--out',
          html,
        ],
        { timeout: 170_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.experiment, 'uring');
      assert.deepEqual(report.servers, ['epoll-et', 'io_uring']);
      assert.equal(report.rows.length, 2);
      for (const row of report.rows) {
        assert.equal(row.error, undefined, `${row.server}: ${row.error}`);
        assert.ok(
          row.requests > 0 && row.errors === 0,
          `${row.server}: ${row.requests} requests, ${row.errors} errors`,
        );
        for (const k of [
          'rps',
          'cpuUsPerRequest',
          'userUsPerRequest',
          'sysUsPerRequest',
          'syscallsPerRequest',
          'entersPerRequest',
          'contextSwitchesPerRequest',
          'p50Ms',
          'p99Ms',
        ])
          assert.ok(Number.isFinite(row[k]) && row[k] >= 0, `${row.server}.${k} = ${row[k]}`);
        assert.ok(row.p50Ms <= row.p99Ms, `${row.server}: p50 ${row.p50Ms} > p99 ${row.p99Ms}`);
        // Two CPUs at most, over the run's wall time: more CPU per request than that cannot be.
        assert.ok(
          row.cpuUsPerRequest <= (2 * 1e6) / row.rps,
          `${row.server}: ${row.cpuUsPerRequest} us/request at ${row.rps} req/s`,
        );
      }
      const [et, uring] = report.rows;
      assert.equal(et.entersPerRequest, 0, 'epoll makes no io_uring_enter');
      assert.ok(
        uring.entersPerRequest > 0 && uring.entersPerRequest < 1,
        `io_uring_enter per request ${uring.entersPerRequest}: batched`,
      );
      assert.ok(
        uring.syscallsPerRequest < et.syscallsPerRequest,
        'io_uring makes fewer syscalls per request than epoll ET',
      );
      assert.match(report.verdict.join('\n'), /^keepalive-50: (io_uring wins|epoll holds)/m);
      assert.match(r.stderr, /\[2\/2\] io_uring, keepalive-50: /);
      const page = readFileSync(html, 'utf8');
      assert.match(page, /<h2>keepalive-50<\/h2>/);
      assert.match(page, /data-server="io_uring"/);
      assert.match(page, /<h2>The published figures<\/h2>/);
      assert.match(page, /No strace check in this run \(--no-strace\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
