/**
 * The option tables (issue 19 item 3): one table per public class drives the checks, the
 * defaults, `etlt serve`'s flags and help, the README's lists and what crosses to a worker;
 * the command line passes on only what was given. Also the default mode following the
 * backend (issue 18 item 11), WorkerPool refusing a function at once (item 10), and the
 * module-to-handler conversion of `--app` (issue 20).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HttpServer, WorkerPool } from 'etlt';

import { WORKER_POOL_OPTIONS } from '../../dist/src/cluster/options.js';
import { parse } from '../../dist/src/cli/options.js';
import { SERVE, serveArgs } from '../../dist/src/cli/serve.js';
import { appHandler, loadApp } from '../../dist/src/http/app.js';
import { HTTP_SERVER_OPTIONS, resolveServerOptions } from '../../dist/src/http/options.js';
import { resolveOptions } from '../../dist/src/option-table.js';
import { regenerate } from '../../scripts/options-doc.mjs';
import { ROOT } from '../lib/util.mjs';

const args = (...argv) => serveArgs(parse(SERVE, argv));

test('the README lists every option of both tables as the tables say (node scripts/options-doc.mjs)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.equal(regenerate(readme), readme, 'README.md is out of date: run node scripts/options-doc.mjs');
  for (const name of [...Object.keys(HTTP_SERVER_OPTIONS), ...Object.keys(WORKER_POOL_OPTIONS)])
    assert.match(readme, new RegExp(`^\\| \`${name}\` \\|`, 'm'), name);
});

test('resolveOptions fills every default, checks every given value, and names an unknown option', () => {
  const o = resolveServerOptions({ port: 0 });
  assert.equal(o.port, 0);
  for (const [name, row] of Object.entries(HTTP_SERVER_OPTIONS)) {
    if (name === 'port') continue;
    if (typeof row.default === 'number' || typeof row.default === 'string' || typeof row.default === 'boolean')
      assert.equal(o[name], row.default, name);
  }
  assert.throws(() => resolveServerOptions({ port: 70000 }), { code: 'ERR_OUT_OF_RANGE', message: /"port" option/ });
  assert.throws(() => resolveServerOptions({ maxBodyBytes: -5 }), {
    code: 'ERR_OUT_OF_RANGE',
    message: /"maxBodyBytes"/,
  });
  assert.throws(() => resolveServerOptions({ eagerRead: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => resolveServerOptions({ portt: 1 }), {
    code: 'ERR_ETLT_UNKNOWN_OPTION',
    message: /did you mean "port"/,
  });
  const table = {
    a: { kind: 'integer', min: 1, max: 3, default: 2, doc: 'a' },
    b: { kind: 'integer', default: (r) => r.a * 10, doc: 'b' },
  };
  assert.deepEqual(resolveOptions(table, { a: 3 }, 'T'), { a: 3, b: 30 });
});

test('the default mode follows the backend, in the library and on the command line (issue 18 item 11)', () => {
  assert.equal(resolveServerOptions({ backend: 'poll' }).mode, 'lt');
  assert.equal(resolveServerOptions({ backend: 'select' }).mode, 'lt');
  assert.equal(resolveServerOptions({}).mode, 'et');
  assert.equal(new HttpServer({ backend: 'poll', port: 0 }).mode, 'lt');
  assert.equal(new HttpServer({ backend: 'select', port: 0 }).trigger, 'level');
  // Given, it is still checked: et cannot run on poll.
  assert.throws(() => new HttpServer({ backend: 'poll', mode: 'et' }), { code: 'ERR_OUT_OF_RANGE', message: /poll/ });
  assert.doesNotThrow(() => args('--backend', 'poll'));
  assert.throws(() => args('--backend', 'poll', '--mode', 'et'), {
    code: 'ERR_ETLT_USAGE',
    message: /^--mode et --backend poll/,
  });
});

test("the command line passes on only what the user gave: the defaults are the library's", () => {
  const a = args('--port', '0', '--keepalive-timeout', '2.5', '--eager-read', 'off', '--follow-symlinks');
  assert.deepEqual(a.server, { port: 0, keepAliveTimeoutMs: 2500, eagerRead: false, followSymlinks: true });
  assert.deepEqual(args().server, {});
  assert.deepEqual(args().pool, { workers: 1 });
  assert.deepEqual(args('--close-timeout', '0.25', '--workers', '3').pool, { workers: 3, closeTimeoutMs: 250 });
});

test("one range per option: the backlog's maximum is the library's on the command line too", () => {
  const max = HTTP_SERVER_OPTIONS.backlog.max;
  assert.equal(max, 0x7fffffff);
  assert.equal(args('--backlog', String(max)).server.backlog, max);
  assert.throws(() => args('--backlog', String(max + 1)), {
    message: new RegExp(`--backlog must be an integer from 1 to ${max}`),
  });
  assert.equal(
    args('--workers', String(WORKER_POOL_OPTIONS.workers.max)).pool.workers,
    WORKER_POOL_OPTIONS.workers.max,
  );
});

test('--port -1 and --max-body -5 get the range, not the argument parser\'s "ambiguous" (issue 18 item 12)', () => {
  assert.throws(() => args('--port', '-1'), {
    code: 'ERR_ETLT_USAGE',
    message: "--port must be an integer from 0 to 65535 (got '-1')",
  });
  assert.throws(() => args('-p', '-1'), { message: /^--port must be an integer/ });
  assert.throws(() => args('--max-body', '-5'), {
    message: /^--max-body must be an integer from 0 to \d+ \(got '-5'\)$/,
  });
  assert.throws(() => args('--host', '999.1.1.1'), {
    code: 'ERR_ETLT_USAGE',
    message: /^--host 999\.1\.1\.1: not a numeric IPv4 address/,
  });
  // A missing value is still a missing value, not the next option taken as one.
  assert.throws(() => args('--root', '--quiet'), { code: 'ERR_ETLT_USAGE', message: /--root/ });
});

test("--help shows each flag's default and range from the table, and the exit codes", () => {
  const help = SERVE.options.map((o) => `--${o.name} ${o.help.replaceAll('\n', ' ')}`).join('\n');
  assert.match(help, /--backlog listen\(2\) backlog.*\(default 4096; 1 to 2147483647\)/s);
  assert.match(help, /--keepalive-timeout seconds a kept-alive connection.*\(default 5; 0\.001 to 2147483\.647\)/s);
  assert.match(help, /--close-timeout seconds responses in flight.*\(default 5;/s);
  assert.match(SERVE.notes.join('\n'), /Exit codes: .*2 the command line is wrong.*1 it could not run/s);
});

test('WorkerPool refuses a handler at once, naming the way: a module path (issue 18 item 10)', () => {
  const t0 = performance.now();
  assert.throws(() => new WorkerPool({ workers: 2, server: { handler: () => ({}) } }), {
    code: 'ERR_INVALID_ARG_TYPE',
    message:
      /"server\.handler" option .*a function cannot cross to a worker process.*"app" option the path of a module/,
  });
  assert.throws(() => new WorkerPool({ workers: 2, server: { onRequest: () => {} } }), { message: /cannot cross/ });
  assert.throws(() => new WorkerPool({ workers: 2, server: { port: 70000 } }), {
    code: 'ERR_OUT_OF_RANGE',
    message: /"port"/,
  });
  assert.throws(() => new WorkerPool({ workers: 2, server: { backend: 'poll', mode: 'et' } }), {
    code: 'ERR_OUT_OF_RANGE',
  });
  assert.throws(() => new WorkerPool({ workers: 2, app: 42 }), { code: 'ERR_INVALID_ARG_TYPE', message: /"app"/ });
  assert.throws(() => new WorkerPool({ workers: 2, tagResponses: true }), { code: 'ERR_ETLT_UNKNOWN_OPTION' });
  assert.ok(performance.now() - t0 < 1000, 'refused without starting a worker');
  assert.equal(new WorkerPool({ workers: 2, server: { backend: 'poll' } }).mode, 'lt');
});

test('appHandler: a default-exported function is the handler, a { fetch } app goes through the adapter; anything else says what to export', async (t) => {
  const handler = () => ({ body: 'x' });
  assert.deepEqual(appHandler({ default: handler }, 'a.mjs'), { handler });
  // A handler module says how it reads bodies; anything but 'buffer' or 'stream' is refused, named.
  assert.deepEqual(appHandler({ default: handler, requestBody: 'stream' }, 'a.mjs'), {
    handler,
    requestBody: 'stream',
  });
  assert.deepEqual(appHandler({ default: handler, requestBody: 'buffer' }, 'a.mjs'), { handler });
  assert.throws(() => appHandler({ default: handler, requestBody: 'streamed' }, 'a.mjs'), {
    code: 'ERR_ETLT_APP',
    message: /^app a\.mjs: the module exports requestBody "streamed"; it must be 'buffer' .* or 'stream'/,
  });
  const web = appHandler({ default: { fetch: () => new Response('w') } }, 'w.mjs');
  assert.equal(web.requestBody, 'stream', 'a fetch app reads its body as a stream');
  assert.equal(typeof web.handler, 'function');
  assert.throws(() => appHandler({ default: { fetch: 1 } }, 'a.mjs'), {
    code: 'ERR_ETLT_APP',
    message: /not a function or an object with a fetch method/,
  });
  assert.throws(() => appHandler({}, 'a.mjs'), {
    code: 'ERR_ETLT_APP',
    message: /app a\.mjs: the module has no default export; it must `export default/,
  });
  assert.throws(() => appHandler({ default: 42 }, 'a.mjs'), {
    code: 'ERR_ETLT_APP',
    message: /exports number as its default/,
  });
  const dir = mkdtempSync(join(tmpdir(), 'etlt-app-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.mjs'), 'export default (req) => ({ body: req.target });\n');
  writeFileSync(join(dir, 'app.ts'), 'export default (req: unknown) => ({ body: "x" });\n');
  writeFileSync(join(dir, 'broken.mjs'), 'export default (;\n');
  assert.deepEqual((await loadApp(join(dir, 'app.mjs'))).handler({ target: '/t' }), { body: '/t' });
  await assert.rejects(loadApp(join(dir, 'app.ts')), {
    code: 'ERR_ETLT_APP',
    message: /cannot import TypeScript .*compile it first \(npx tsc\) and give the \.js or \.mjs file/,
  });
  await assert.rejects(loadApp(join(dir, 'missing.mjs')), {
    code: 'ERR_ETLT_APP',
    message: /missing\.mjs: cannot import .*: no such file/,
  });
  await assert.rejects(loadApp(join(dir, 'broken.mjs')), {
    code: 'ERR_ETLT_APP',
    message: /broken\.mjs: cannot import .*SyntaxError|Unexpected token/,
  });
});
