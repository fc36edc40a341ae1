/**
 * The lab's HTML report, rendered from real measurements and checked in a real browser.
 *
 * The report comes from `etlt lab` when the CLI has it (a short real run, which also
 * writes its own `--out` page, checked too); otherwise this file measures `HttpServer` in
 * both modes itself, with fetch, and fills a LabReport from the server's counters and a
 * recorded epoll_wait timeline. Headless Chromium (playwright-core driving
 * /usr/bin/chromium) then checks that every chart and timeline is drawn, bars are as tall
 * as their values say, and the page logs no error and fetches nothing. A full-page
 * screenshot is kept in a temp dir (path printed as a diagnostic), and written to
 * docs/lab-report.png when ETLT_SAVE_SCREENSHOT=1.
 *
 * ETLT_LAB_REPORT_SELF=1 skips the CLI and uses this file's own measurement.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';
import { HttpServer } from 'etlt';
import { syscallsByKind } from '../../dist/src/trace/counters.js';

import { CHART_METRICS, renderHtml } from '../../dist/src/lab/report/index.js';
import { EPOLL_BITS, describeMask } from '../../dist/src/reactor/readiness.js';
import { STRATEGY_CATALOG } from '../../dist/src/http/trigger/catalog.js';
import { ROOT } from '../lib/util.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
// Two workloads keep the real run near 10 s: 'big-head' records the timelines and
// 'split' is where et-no-drain stalls. The full --quick run takes about a minute.
const LAB_ARGS = ['lab', '--quick', '--workloads', 'big-head,split'];
const LAB_TIMEOUT_MS = 25_000;
const TIMELINE_WAITS = 60;

const dir = mkdtempSync(join(tmpdir(), 'etlt-lab-report-'));

// What each chart must show, computed here independently of the renderer.
const EXPECTED_METRIC = {
  cpuUsPerRequest: (r) => r.cpuUsPerRequest,
  syscallsPerRequest: (r) => r.syscallsPerRequest.total,
  epollWaitPerRequest: (r) => r.syscallsPerRequest.epoll_wait,
  epollCtlPerRequest: (r) => r.syscallsPerRequest.epoll_ctl,
  stalled: (r) => r.stalled,
  uselessEventsPerRequest: (r) => r.uselessEventsPerRequest,
};

// ---------------------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------------------

let browser;

async function getBrowser() {
  if (!existsSync(CHROMIUM)) {
    assert.fail(
      `${CHROMIUM} is missing: the lab report test needs Chromium (apt-get install chromium); it does not skip`,
    );
  }
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return browser;
}

after(async () => {
  await browser?.close();
});

/**
 * Opens `file` at 1280 px and returns the page with what it logged and fetched. Every
 * console error, page error and request is recorded from before navigation starts.
 */
async function open(file) {
  const b = await getBrowser();
  const context = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  return { page, context, errors, requests, url };
}

/** Everything the browser drew: chart bars and timeline marks with their boxes. */
function measurePage(page) {
  return page.evaluate(() => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { width: r.width, height: r.height };
    };
    const charts = {};
    for (const svg of document.querySelectorAll('svg[data-chart]')) {
      charts[svg.dataset.chart] = {
        box: box(svg),
        bars: [...svg.querySelectorAll('rect.bar')].map((r) => ({
          strategy: r.dataset.strategy,
          workload: r.dataset.workload,
          value: r.dataset.value,
          ...box(r),
        })),
      };
    }
    const timelines = {};
    for (const svg of document.querySelectorAll('svg[data-timeline]')) {
      timelines[svg.dataset.timeline] = {
        box: box(svg),
        marks: [...svg.querySelectorAll('g.mark')].map((g) => ({
          fd: Number(g.dataset.fd),
          wait: Number(g.dataset.wait),
          events: g.dataset.events,
          ...box(g),
        })),
      };
    }
    return { charts, timelines, width: document.documentElement.scrollWidth };
  });
}

/** The checks every rendered report must pass; `label` names the page in messages. */
async function checkReportPage(report, file, label) {
  const { page, context, errors, requests, url } = await open(file);
  try {
    const drawn = await measurePage(page);
    const strategies = report.strategies;
    const workloads = report.workloads.map((w) => w.name);
    assert.ok(strategies.length > 0 && workloads.length > 0, `${label}: the report has strategies and workloads`);
    assert.ok(
      drawn.width <= 1280,
      `${label}: the page fits 1280 px without horizontal scrolling (scrollWidth ${drawn.width})`,
    );

    for (const metric of CHART_METRICS) {
      const chart = drawn.charts[metric.id];
      assert.ok(chart, `${label}: svg[data-chart="${metric.id}"] exists`);
      assert.ok(
        chart.box.width > 100 && chart.box.height > 100,
        `${label}: chart ${metric.id} has a real size (${chart.box.width}×${chart.box.height})`,
      );
      assert.equal(
        chart.bars.length,
        strategies.length * workloads.length,
        `${label}: chart ${metric.id} has one bar per strategy and workload`,
      );

      const expected = EXPECTED_METRIC[metric.id];
      assert.ok(expected, `the test knows chart ${metric.id}`);
      for (const s of strategies) {
        for (const w of workloads) {
          const bars = chart.bars.filter((b) => b.strategy === s && b.workload === w);
          assert.equal(bars.length, 1, `${label}: chart ${metric.id} has one bar for ${s} × ${w}`);
          const r = report.results.find((x) => x.strategy === s && x.workload === w);
          assert.ok(r, `${label}: the report has a result for ${s} × ${w}`);
          assert.equal(
            Number(bars[0].value),
            expected(r),
            `${label}: chart ${metric.id}, ${s} × ${w} shows the result's value`,
          );
        }
      }

      // Heights proportional to values: the tallest bar is the largest value.
      const finite = chart.bars.filter((b) => Number.isFinite(Number(b.value)));
      const maxValue = Math.max(0, ...finite.map((b) => Number(b.value)));
      const maxHeight = Math.max(0, ...finite.map((b) => b.height));
      if (maxValue === 0) {
        assert.ok(maxHeight < 0.5, `${label}: chart ${metric.id} is all zero and draws no bar taller than 0`);
        continue;
      }
      assert.ok(maxHeight > 50, `${label}: chart ${metric.id}'s tallest bar is clearly visible (${maxHeight} px)`);
      const tallest = finite.filter((b) => Math.abs(b.height - maxHeight) < 0.5);
      assert.ok(
        tallest.some((b) => Number(b.value) === maxValue),
        `${label}: chart ${metric.id}'s tallest bar has the largest value ${maxValue}`,
      );
      for (const b of finite) {
        const want = (Number(b.value) / maxValue) * maxHeight;
        assert.ok(
          Math.abs(b.height - want) <= 1,
          `${label}: chart ${metric.id}, ${b.strategy} × ${b.workload}: height ${b.height} px, expected ${want.toFixed(2)} px for value ${b.value}`,
        );
        assert.ok(b.width > 4, `${label}: bar ${b.strategy} × ${b.workload} is wide enough to see (${b.width} px)`);
      }
    }

    const withTimeline = Object.entries(report.timelines).filter(([, waits]) => waits.length > 0);
    assert.ok(withTimeline.length > 0, `${label}: the report has at least one timeline`);
    for (const [s, waits] of withTimeline) {
      const tl = drawn.timelines[s];
      assert.ok(tl, `${label}: svg[data-timeline="${s}"] exists`);
      assert.ok(tl.box.width > 100 && tl.box.height > 40, `${label}: timeline ${s} has a real size`);
      // One mark per fd per wait, carrying the decoded Linux mask.
      const want = [];
      waits.slice(0, 400).forEach((w, i) => {
        const merged = new Map();
        for (const [fd, ev] of w.events) merged.set(fd, (merged.get(fd) ?? 0) | ev);
        for (const [fd, ev] of merged) want.push(`${i}/${fd}/${describeMask(ev).join('|')}`);
      });
      const got = tl.marks.map((m) => `${m.wait}/${m.fd}/${m.events}`);
      assert.deepEqual(got.sort(), want.sort(), `${label}: timeline ${s} marks every [fd, events] of every wait`);
      assert.ok(
        tl.marks.every((m) => m.width > 0 && m.height > 0),
        `${label}: every mark of timeline ${s} is visible`,
      );
    }

    assert.deepEqual(errors, [], `${label}: no console errors`);
    assert.deepEqual(requests, [url], `${label}: the page fetched nothing but itself`);

    const png = join(dir, `${label}.png`);
    await page.screenshot({ path: png, fullPage: true });
    return png;
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------
// Getting a real report
// ---------------------------------------------------------------------------------------

function run(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

/** `etlt lab` for real: the report and the CLI's own HTML, or why not. */
async function fromCli() {
  if (process.env.ETLT_LAB_REPORT_SELF === '1') return { why: 'ETLT_LAB_REPORT_SELF=1' };
  if (!existsSync(CLI)) return { why: `${CLI} is not built` };
  const json = join(dir, 'cli-report.json');
  const html = join(dir, 'cli-report.html');
  const r = await run(process.execPath, [CLI, ...LAB_ARGS, '--json', json, '--out', html], LAB_TIMEOUT_MS);
  if (r.code !== 0 || !existsSync(json)) {
    return {
      why: `etlt ${LAB_ARGS.join(' ')} failed (${r.signal ?? `exit ${r.code}`}): ${r.out.trim().split('\n').slice(-3).join(' / ')}`,
    };
  }
  return { report: JSON.parse(readFileSync(json, 'utf8')), html: existsSync(html) ? html : undefined };
}

const percentile = (sorted, p) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (v, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

/**
 * Our own measurement: HttpServer in 'lt' and 'et' under two fetch workloads, counters
 * from server.stats(), the first epoll_wait returns from server.setRecorder. CPU is this
 * whole process (client included): good enough data for a rendering test.
 */
async function measureOwn() {
  const strategies = ['lt', 'et'];
  const workloads = [
    { name: 'sequential', description: '40 fetches, one at a time', requests: 40, concurrency: 1, timeline: true },
    { name: 'concurrent', description: '120 fetches, 24 at once', requests: 120, concurrency: 24, timeline: false },
  ];
  const results = [];
  const timelines = {};
  for (const w of workloads) {
    for (const mode of strategies) {
      const server = new HttpServer({ mode, host: '127.0.0.1', port: 0 });
      const t0 = performance.now();
      const waits = [];
      if (w.timeline) {
        server.setRecorder((events, n) => {
          if (waits.length >= TIMELINE_WAITS) return;
          const pairs = [];
          for (let i = 0; i < n; i++) pairs.push([events[2 * i], events[2 * i + 1]]);
          waits.push({ t: round(performance.now() - t0, 3), events: pairs });
        });
      }
      const { port } = server.listen();
      const url = `http://127.0.0.1:${port}/`;
      const latencies = [];
      let next = 0;
      let stalled = 0;
      let errors = 0;
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      const worker = async () => {
        while (next < w.requests) {
          next++;
          const s = performance.now();
          try {
            const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
            if ((await res.text()) === 'Hello, world!') latencies.push(performance.now() - s);
            else errors++;
          } catch (err) {
            if (err.name === 'TimeoutError') stalled++;
            else errors++;
          }
        }
      };
      await Promise.all(Array.from({ length: w.concurrency }, worker));
      const seconds = (performance.now() - start) / 1000;
      const cpu = process.cpuUsage(cpu0);
      server.setRecorder(undefined);
      const c = server.stats();
      await server.close(1000);

      const completed = latencies.length;
      const n = Math.max(1, completed);
      const per = (v) => round(v / n);
      const sys = syscallsByKind(c);
      const total = Object.values(sys).reduce((a, b) => a + b, 0);
      const sorted = latencies.sort((a, b) => a - b);
      const { mode: _mode, ...counters } = c;
      results.push({
        strategy: mode,
        workload: w.name,
        attempted: w.requests,
        completed,
        stalled,
        errors,
        seconds: round(seconds, 3),
        rps: round(completed / seconds, 0),
        cpuUsPerRequest: round((cpu.user + cpu.system) / n, 1),
        p50Ms: round(percentile(sorted, 50), 3),
        p99Ms: round(percentile(sorted, 99), 3),
        syscallsPerRequest: Object.fromEntries([
          ['total', per(total)],
          ...Object.entries(sys).map(([k, v]) => [k, per(v)]),
        ]),
        idleWaitsPerRequest: per(c.idleWaits),
        eventsPerWait: round(c.events / Math.max(1, c.waits)),
        uselessEventsPerRequest: per(c.useless ?? 0),
        counters,
      });
      if (w.timeline) timelines[mode] = waits;
    }
  }
  return {
    version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    startedAt: new Date().toISOString(),
    machine: {
      cpus: (await import('node:os')).availableParallelism(),
      node: process.version,
      kernel: (await import('node:os')).release(),
      pinned: false,
    },
    strategies,
    workloads: workloads.map(({ name, description }) => ({ name, description })),
    results,
    timelines,
    descriptions: {
      lt: 'HttpServer mode lt, measured in this test with fetch',
      et: 'HttpServer mode et, measured in this test with fetch',
    },
  };
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

test('describeMask reads masks with the Linux values, EPOLLET as 2**31', () => {
  assert.deepEqual(EPOLL_BITS, { IN: 1, PRI: 2, OUT: 4, ERR: 8, HUP: 16, RDHUP: 0x2000, ET: 2 ** 31 });
  assert.deepEqual(describeMask(1 | 4 | 0x2000), ['IN', 'OUT', 'RDHUP']);
  assert.deepEqual(describeMask(8 | 16), ['ERR', 'HUP']);
  // EPOLLIN | EPOLLET is negative in JavaScript: the same mask.
  assert.deepEqual(describeMask(1 | 0x80000000), ['IN', 'ET']);
  assert.deepEqual(describeMask((1 | 0x80000000) >>> 0), ['IN', 'ET']);
  assert.deepEqual(describeMask(2 | 0x40), ['PRI', '0x40']);
  assert.deepEqual(describeMask(0), []);
  assert.deepEqual(describeMask(Number.NaN), []);
});

test('renderHtml colours strategies from the catalog and timeline marks by readiness', () => {
  const known = STRATEGY_CATALOG.map((f) => f.name);
  const strategies = [...known, 'mine', 'yours'];
  const zero = { total: 0, epoll_wait: 0, epoll_ctl: 0, accept4: 0, recvfrom: 0, sendto: 0, shutdown: 0, close: 0 };
  const result = (strategy) => ({
    strategy,
    workload: 'w',
    attempted: 1,
    completed: 1,
    stalled: 0,
    errors: 0,
    seconds: 1,
    rps: 1,
    cpuUsPerRequest: 1,
    p50Ms: 1,
    p99Ms: 1,
    syscallsPerRequest: { ...zero, total: 1 },
    idleWaitsPerRequest: 0,
    eventsPerWait: 1,
    uselessEventsPerRequest: 0,
    counters: {},
  });
  const { IN, PRI, OUT, ERR, HUP, RDHUP, ET } = EPOLL_BITS;
  const masks = [IN | RDHUP, OUT, PRI, 0, ET, IN | OUT | ET, ERR | HUP, 0x40];
  const report = {
    version: '0',
    startedAt: '2024-01-01T00:00:00Z',
    machine: { cpus: 1, node: 'v20', kernel: '6', pinned: false },
    strategies,
    workloads: [{ name: 'w', description: '' }],
    results: strategies.map(result),
    timelines: { et: [{ t: 0, events: masks.map((ev, fd) => [fd, ev]) }] },
    descriptions: {},
  };
  const page = renderHtml(report);
  const fillOf = (s) => page.match(new RegExp(`<rect class="bar" data-strategy="${s}" [^>]*fill="([^"]+)"`))?.[1];
  for (const f of STRATEGY_CATALOG) assert.equal(fillOf(f.name), f.color, `${f.name} has its catalog colour`);
  assert.equal(fillOf('mine'), '#2a9d8f', 'an unknown strategy takes the first fallback colour');
  assert.equal(fillOf('yours'), '#8d6e63', 'and the next one the second');

  const green = '#2f9e44',
    blue = '#1971c2',
    red = '#e03131',
    grey = '#868e96';
  const want = [[green, red], [blue], [grey], [grey], [grey], [green, blue], [red], [grey]];
  masks.forEach((ev, fd) => {
    const mark = page.match(
      new RegExp(`<g class="mark" data-fd="${fd}" data-wait="0" data-events="([^"]*)">(.*?)</g>`),
    );
    assert.ok(mark, `fd ${fd} has a mark`);
    assert.equal(mark[1], describeMask(ev).join('|') || '0');
    assert.deepEqual(
      [...mark[2].matchAll(/fill="([^"]+)"/g)].map((m) => m[1]),
      want[fd],
      `fd ${fd} (${mark[1]}) is coloured by its readiness`,
    );
  });
});

test('renderHtml escapes text and survives empty, zero and NaN data', async () => {
  const evil = `<img src=x onerror="alert(1)">'&"`;
  const zero = { total: 0, epoll_wait: 0, epoll_ctl: 0, accept4: 0, recvfrom: 0, sendto: 0, shutdown: 0, close: 0 };
  const result = (strategy, workload, v) => ({
    strategy,
    workload,
    attempted: 0,
    completed: 0,
    stalled: v,
    errors: 0,
    seconds: 0,
    rps: v,
    cpuUsPerRequest: v,
    p50Ms: v,
    p99Ms: v,
    syscallsPerRequest: { ...zero, total: v },
    idleWaitsPerRequest: v,
    eventsPerWait: v,
    uselessEventsPerRequest: v,
    counters: { [evil]: v },
  });
  const report = {
    version: evil,
    startedAt: 'not a date',
    machine: { cpus: 0, node: evil, kernel: evil, pinned: false },
    strategies: [evil, 'zero'],
    workloads: [{ name: evil, description: evil }],
    results: [result(evil, evil, Number.NaN), result('zero', evil, 0)],
    timelines: {
      [evil]: [
        {
          t: Number.NaN,
          events: [
            [3, Number.NaN],
            [-1, 1],
            [4, 1 | 0x80000000],
          ],
        },
      ],
      zero: [],
    },
    descriptions: { [evil]: evil },
  };
  const empty = {
    version: '',
    startedAt: '',
    machine: { cpus: 0, node: '', kernel: '', pinned: false },
    strategies: [],
    workloads: [],
    results: [],
    timelines: {},
    descriptions: {},
  };

  for (const [name, r] of [
    ['edge', report],
    ['empty', empty],
  ]) {
    const html = renderHtml(r);
    assert.ok(!html.includes('<img'), `${name}: no unescaped markup from the report`);
    assert.doesNotMatch(html, /<script(?! type="application\/json")/, `${name}: no executable script`);
    // Geometry is always finite: NaN only ever appears as a data-value.
    assert.doesNotMatch(
      html,
      /\s(?:x|y|x1|x2|y1|y2|width|height|viewBox|transform)="[^"]*(?:NaN|Infinity)/,
      `${name}: no NaN in SVG geometry`,
    );
    for (const m of CHART_METRICS) assert.ok(html.includes(`data-chart="${m.id}"`), `${name}: chart ${m.id} is there`);
    const file = join(dir, `${name}.html`);
    writeFileSync(file, html);
    const { page, context, errors, requests, url } = await open(file);
    try {
      const drawn = await measurePage(page);
      assert.equal(Object.keys(drawn.charts).length, CHART_METRICS.length, `${name}: every chart rendered`);
      for (const [id, c] of Object.entries(drawn.charts))
        assert.ok(c.box.width > 100 && c.box.height > 100, `${name}: chart ${id} has a real size`);
      if (name === 'edge') {
        assert.equal(drawn.charts.cpuUsPerRequest.bars.length, 2);
        assert.ok(
          drawn.charts.cpuUsPerRequest.bars.every((b) => b.height === 0),
          'NaN and zero draw empty bars',
        );
        assert.equal(
          drawn.timelines[evil].marks.length,
          1,
          'invalid [fd, events] pairs are dropped, the valid one drawn',
        );
        assert.ok(drawn.timelines.zero, 'an empty timeline still gets its svg');
      }
      assert.deepEqual(errors, [], `${name}: no console errors`);
      assert.deepEqual(requests, [url], `${name}: nothing fetched`);
    } finally {
      await context.close();
    }
  }
});

test('the lab report renders in Chromium from a real run', { timeout: 60_000 }, async (t) => {
  await getBrowser();
  const cli = await fromCli();
  let report = cli.report;
  if (report === undefined) {
    t.diagnostic(`not using etlt lab: ${cli.why}; measuring HttpServer here instead`);
    report = await measureOwn();
  } else {
    t.diagnostic(`report from: etlt ${LAB_ARGS.join(' ')}`);
  }
  assert.ok(
    report.results.some((r) => r.completed > 0),
    'the run completed some requests',
  );

  const file = join(dir, 'report.html');
  writeFileSync(file, renderHtml(report));
  const png = await checkReportPage(report, file, 'report');
  t.diagnostic(`screenshot: ${png}`);

  if (cli.html !== undefined) {
    const cliPng = await checkReportPage(report, cli.html, 'cli-report');
    t.diagnostic(`screenshot of the CLI's --out page: ${cliPng}`);
  }

  if (process.env.ETLT_SAVE_SCREENSHOT === '1') {
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    copyFileSync(png, join(ROOT, 'docs', 'lab-report.png'));
    t.diagnostic(`saved ${join(ROOT, 'docs', 'lab-report.png')}`);
  }
});

test('an old report with figures below zero: marked unreliable in the page and the text, never the best', async () => {
  const { formatTables } = await import('../../dist/src/cli/lab.js');
  const zero = { total: 0, epoll_wait: 0, epoll_ctl: 0, accept4: 0, recvfrom: 0, sendto: 0, shutdown: 0, close: 0 };
  const result = (strategy, total, eventsPerWait) => ({
    strategy,
    workload: 'idle-keepalive',
    attempted: 100,
    completed: 100,
    stalled: 0,
    errors: 0,
    seconds: 1,
    rps: 100,
    cpuUsPerRequest: 30,
    p50Ms: 1,
    p99Ms: 2,
    syscallsPerRequest: { ...zero, total },
    idleWaitsPerRequest: 0,
    eventsPerWait,
    uselessEventsPerRequest: 0,
    counters: { requests: 5 },
    // What a baseline run's subtraction wrote before results were checked (issue 18, item 3).
    baselineCounters: { requests: 1000 },
  });
  const report = {
    version: '0',
    startedAt: '2024-01-01T00:00:00Z',
    machine: { cpus: 2, node: 'v20', kernel: '6', pinned: true },
    strategies: ['lt', 'et-no-drain'],
    workloads: [{ name: 'idle-keepalive', description: '' }],
    results: [result('lt', 3.4, 1), result('et-no-drain', -18.2, -370)],
    timelines: {},
    descriptions: {},
    // A connection record as written before its interest count was backend-neutral (issue 19).
    connections: { lt: [{ fd: 9, outcome: 'done', events: 2, epollCtl: 3, bytesIn: 18, requests: 1 }] },
  };
  const page = renderHtml(report);
  const embedded = /<script type="application\/json" id="etlt-lab-report">([\s\S]*?)<\/script>/.exec(page)[1];
  assert.deepEqual(JSON.parse(embedded).connections, report.connections, 'the old record is embedded as written');
  const table = /<table data-workload="idle-keepalive">[\s\S]*?<\/table>/.exec(page)[0];
  assert.match(
    table,
    /<tr class="unreliable" title="syscallsPerRequest.total is below zero \(-18.2\); eventsPerWait is below zero \(-370\)">/,
  );
  assert.match(table, /unreliable, not compared: syscallsPerRequest.total is below zero/);
  assert.doesNotMatch(table, /class="[^"]*best[^"]*">-18/, '-18.2 is not shown as the best value');
  assert.doesNotMatch(page, /<rect class="bar" data-strategy="et-no-drain" [^>]*data-value="-/, 'nor drawn as a bar');
  const text = formatTables(report);
  assert.match(text, /^ {2}\^ unreliable, not to be compared: syscallsPerRequest.total is below zero \(-18.2\)/m);
  assert.equal(text.match(/unreliable/g).length, 1, 'only the impossible row is marked');
});
