/**
 * `etlt lab balance`: one short real run with two workers (`--quick --workers 2 --json -
 * --out FILE`), its JSON checked row by row against what the experiment promises, and its
 * HTML page checked in headless Chromium (playwright-core over /usr/bin/chromium): a share
 * bar per worker as wide as its share, a latency bar per worker, no error, nothing fetched.
 * Also: `etlt lab trigger` is today's lab, and the experiment's usage errors.
 */
/* global document -- the functions passed to page.evaluate run in the page */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

import { renderBalanceHtml } from '../../dist/src/lab/report/balance.js';
import { assertPossible } from '../lib/figures.mjs';
import { etlt, family, killFamily } from '../lib/procs.mjs';

const CHROMIUM = '/usr/bin/chromium';
const KINDS = ['shared-lt', 'shared-et', 'exclusive', 'excl-hold', 'reuseport'];
const dir = mkdtempSync(join(tmpdir(), 'etlt-lab-balance-'));
const marker = `TMPDIR=${dir}`;
let browser;

after(async () => {
  await browser?.close();
  killFamily(marker);
  rmSync(dir, { recursive: true, force: true });
});

/** The run, once for the whole file. */
let runP;
function labRun() {
  runP ??= (async () => {
    const html = join(dir, 'balance.html');
    const p = etlt(['lab', 'balance', '--quick', '--workers', '2', '--json', '-', '--out', html], {
      env: { TMPDIR: dir },
    });
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 150_000);
    const { code } = await p.exited;
    clearTimeout(timer);
    assert.equal(code, 0, p.out.stderr);
    return { report: JSON.parse(p.out.stdout), html, stderr: p.out.stderr };
  })();
  return runP;
}

test(
  'etlt lab balance --json -: a row per kind and scenario, per-worker figures that add up',
  { timeout: 180_000 },
  async () => {
    const { report, stderr } = await labRun();
    assert.equal(report.experiment, 'balance');
    assert.equal(report.workers, 2);
    assert.deepEqual(
      report.scenarios.map((s) => s.name),
      ['even', 'slow-worker'],
    );
    assert.equal(report.rows.length, 2 * KINDS.length);
    assertPossible(report.rows, (r) => `${r.scenario} × ${r.balance}`);
    for (const scenario of ['even', 'slow-worker']) {
      assert.deepEqual(
        report.rows.filter((r) => r.scenario === scenario).map((r) => r.balance),
        KINDS,
      );
    }
    for (const r of report.rows) {
      const what = `${r.scenario} × ${r.balance}`;
      assert.equal(r.workers, 2, what);
      assert.equal(r.perWorker.length, 2, what);
      assert.ok(r.completed >= 0.9 * report.requests, `${what}: ${r.completed} of ${report.requests} completed`);
      const accepted = r.perWorker.reduce((a, b) => a + b, 0);
      assert.ok(accepted >= r.completed, `${what}: the workers accepted every answered connection (${accepted})`);
      assert.deepEqual(
        r.perWorker,
        r.detail.map((w) => w.accepted),
        what,
      );
      assert.equal(r.acceptEagain, r.detail[0].acceptEagain + r.detail[1].acceptEagain, what);
      assert.ok(Number.isFinite(r.wakeupsPerAccept) && r.wakeupsPerAccept > 0, what);
      assert.ok(r.p50Ms > 0 && r.p50Ms <= r.p99Ms && r.p99Ms <= r.maxMs, `${what}: p50 <= p99 <= max`);
      for (const w of r.detail) {
        if (w.accepted > 0) assert.ok(w.maxMs > 0 && w.p50Ms <= w.maxMs, `${what}: worker ${w.index}'s latency`);
      }
      assert.ok(r.cpuUsPerRequest > 0, what);
    }
    // Each reuseport listener is its worker's alone: no other worker can take its connections.
    for (const r of report.rows.filter((x) => x.balance === 'reuseport')) assert.equal(r.acceptEagain, 0);
    // Every worker served: the hash spreads 1000 connections over both listeners.
    for (const r of report.rows.filter((x) => x.balance === 'reuseport'))
      assert.ok(
        r.perWorker.every((n) => n > 0),
        `reuseport reaches both workers: ${r.perWorker}`,
      );
    assert.match(stderr, /\[10\/10\] slow-worker × reuseport: accepted \d+\/\d+/);
    assert.match(stderr, /report written to/);
    assert.deepEqual(family(marker), [], 'no worker or load generator is left');
  },
);

async function page(file) {
  if (!existsSync(CHROMIUM)) assert.fail(`${CHROMIUM} is missing: this test needs Chromium; it does not skip`);
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await context.newPage();
  const errors = [];
  const requests = [];
  p.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(file).href;
  await p.goto(url, { waitUntil: 'load' });
  return { p, context, errors, requests, url };
}

test(
  'the balance report in Chromium: shares as wide as they are, a latency bar per worker',
  { timeout: 180_000 },
  async () => {
    const { report, html } = await labRun();
    assert.equal(readFileSync(html, 'utf8'), renderBalanceHtml(report), 'the page is the rendering of the JSON');
    const { p, context, errors, requests, url } = await page(html);
    try {
      const drawn = await p.evaluate(() => {
        const rects = (cls) =>
          [...document.querySelectorAll(`rect.${cls}`)].map((el) => ({
            scenario: el.closest('section').dataset.scenario,
            balance: el.dataset.balance,
            worker: Number(el.dataset.worker),
            value: Number(el.dataset.value),
            width: el.getBoundingClientRect().width,
          }));
        return { shares: rects('share'), lat: rects('lat'), h1: document.querySelector('h1').textContent };
      });
      assert.match(drawn.h1, /thundering herd/);
      for (const r of report.rows) {
        const bars = drawn.shares.filter((b) => b.scenario === r.scenario && b.balance === r.balance);
        assert.equal(bars.length, 2, `${r.scenario} × ${r.balance}: a share bar per worker`);
        const total = bars[0].width + bars[1].width;
        const sum = r.perWorker[0] + r.perWorker[1];
        for (const b of bars) {
          assert.equal(b.value, r.perWorker[b.worker]);
          assert.ok(Math.abs(b.width / total - b.value / sum) < 0.01, `${r.balance} worker ${b.worker}: width ∝ share`);
        }
        const lat = drawn.lat.filter((b) => b.scenario === r.scenario && b.balance === r.balance);
        assert.deepEqual(
          lat.map((b) => b.value),
          r.detail.map((w) => w.p99Ms),
        );
      }
      // One scale per scenario's chart: the longest bar is its largest p99.
      for (const scenario of ['even', 'slow-worker']) {
        const bars = drawn.lat.filter((b) => b.scenario === scenario);
        const max = Math.max(...bars.map((b) => b.value));
        const widest = bars.find((b) => b.value === max);
        for (const b of bars) assert.ok(Math.abs(b.width - (widest.width * b.value) / max) < 1.5, 'bar ∝ p99');
      }
      assert.deepEqual(errors, []);
      assert.deepEqual(
        requests.filter((u) => u !== url),
        [],
        'the page fetches nothing',
      );
    } finally {
      await context.close();
    }
  },
);

test('etlt lab balance: usage errors name the option; etlt lab trigger --help is the lab as before', async () => {
  for (const [args, message] of [
    [['--workers', '0'], /--workers must be an integer from 1 to 64/],
    [['--strategies', 'et'], /Unknown option '--strategies'/],
  ]) {
    const p = etlt(['lab', 'balance', ...args]);
    const { code } = await p.exited;
    assert.equal(code, 2, p.out.stderr);
    assert.match(p.out.stderr, message);
  }
  const help = etlt(['lab', 'trigger', '--help']);
  assert.equal((await help.exited).code, 0);
  assert.match(help.out.stdout, /^etlt lab \[options\]/);
  assert.match(help.out.stdout, /--strategies/);
  const balance = etlt(['lab', 'balance', '--help']);
  assert.equal((await balance.exited).code, 0);
  assert.match(balance.out.stdout, /^etlt lab balance \[options\]/);
  assert.match(balance.out.stdout, /--workers N/);
});
