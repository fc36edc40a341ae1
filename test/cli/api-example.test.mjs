/**
 * examples/api.ts (`npm run example:api`), in both modes, through curl: the JSON routes,
 * a clear 400 on bad JSON, server-sent events arriving one by one, an upload streamed to
 * a hash, the static folder beside the handler; SIGTERM stops it.
 */
/* global document -- tab.evaluate and waitForFunction run their functions in the browser */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { chromium } from 'playwright-core';

import { HOST, MODES, ROOT, Scope, freePort, run, waitFor } from '../lib/http.mjs';

const API = join(ROOT, 'dist', 'examples', 'api.js');
const dir = mkdtempSync(join(tmpdir(), 'etlt-api-'));
const UPLOAD = join(dir, 'upload.bin');
const bytes = Buffer.alloc(3 << 20, 'etlt');
writeFileSync(UPLOAD, bytes);
after(() => rmSync(dir, { recursive: true, force: true }));

const CHROMIUM = '/usr/bin/chromium';
let browser;
before(async () => {
  await run('true', []);
  // Launched before any test's Scope takes its fd baseline: the browser's pipes stay open for the file.
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium); the tests do not skip`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});
after(async () => {
  await browser?.close();
});

for (const mode of MODES) {
  describe(`examples/api, mode ${mode}`, { timeout: 30_000 }, () => {
    test('routes, bad JSON, events, an upload, the static folder; stops on SIGTERM', async (t) => {
      const scope = new Scope(t);
      const port = await freePort();
      const child = scope.child(spawn(process.execPath, [API, String(port), mode], { cwd: ROOT }));
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      await waitFor(() => out.includes('serving on'), { timeout: 5000, message: 'the start line' });
      const url = `http://${HOST}:${port}`;
      const curl = (...args) => run('curl', ['-s', '--max-time', '10', ...args]);
      assert.deepEqual(JSON.parse((await curl(`${url}/api/items`)).stdout), [{ id: 1, name: 'apple' }]);
      const added = await curl('-w', ' %{http_code}', '-d', '{"name":"pear"}', `${url}/api/items`);
      assert.equal(added.stdout, '{"id":2,"name":"pear"}\n 201');
      const bad = await curl('-w', ' %{http_code}', '-d', '{"name":', `${url}/api/items`);
      assert.match(bad.stdout, /^\{"error":"the body is not JSON: [^"]+"\}\n 400$/);
      const events = await curl('-N', `${url}/api/events`);
      const ticks = events.stdout.split('\n\n').filter(Boolean);
      assert.equal(ticks.length, 5, events.stdout);
      const times = ticks.map((e) => Date.parse(JSON.parse(e.slice('data: '.length)).at));
      assert.ok(times[4] - times[0] >= 600, 'the events were produced over time, and arrived as they came');
      const up = await curl('-T', UPLOAD, `${url}/api/upload`);
      assert.deepEqual(JSON.parse(up.stdout), {
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
      const page = await curl(`${url}/`);
      assert.equal(page.stdout, readFileSync(join(ROOT, 'examples', 'public', 'index.html'), 'utf8'));
      // Chromium's EventSource, from the page the static folder serves beside the API.
      const tab = await browser.newPage();
      await tab.goto(`${url}/`);
      await tab.waitForFunction(() => document.getElementById('events').textContent.split('\n').length > 3, null, {
        timeout: 10_000,
      });
      const shown = await tab.evaluate(() => document.getElementById('events').textContent);
      assert.match(shown, /^\{"tick":1,"at":"[^"]+"\}\n\{"tick":2,/);
      await tab.close();
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
      assert.match(out, /api: SIGTERM: closed/);
    });
  });
}
