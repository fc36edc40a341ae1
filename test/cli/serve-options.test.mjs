/**
 * `etlt serve`'s options as a user meets them (issue 18 items 11 and 12, issue 20's --app):
 * one rule for exit codes (usage 2, runtime 1) with a message that names the option; the
 * default mode following --backend; --app serving a module's default export in one process
 * and in every worker, and a TypeScript app refused with the fix.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { CLI, HOST, run } from '../lib/http.mjs';
import { childrenOf, etlt, killFamily, waitFor } from '../lib/procs.mjs';

const START =
  /^etlt: serving(?: the files of \S+)? on http:\/\/127\.0\.0\.1:(\d+)\/ \((edge|level)-triggered, mode (\w+)(, backend \w+)?(.*)\)$/m;

/** A private TMPDIR: it marks every process of the test, and holds its files. */
function privateDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-options-test-'));
  t.after(() => {
    killFamily(`TMPDIR=${dir}`);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** `etlt serve ...args` until its start line; stopped (SIGKILL) after the test. */
async function started(t, dir, args) {
  const p = etlt(['serve', '--host', HOST, '--port', '0', '--quiet', ...args], { env: { TMPDIR: dir } });
  t.after(() => p.child.kill('SIGKILL'));
  const m = await waitFor(() => START.exec(p.out.stdout), { timeout: 10_000, message: 'the start line' }).catch((e) => {
    e.message += `; stderr: ${p.out.stderr}`;
    throw e;
  });
  return { ...p, port: Number(m[1]), mode: m[3], line: m[0] };
}

const serve = (args, options) =>
  run(process.execPath, [CLI, 'serve', '--host', HOST, '--port', '0', ...args], { timeout: 10_000, ...options });

test(
  'usage errors exit 2 and runtime errors 1, each message naming its option (issue 18 item 12)',
  { timeout: 60_000 },
  async (t) => {
    const dir = privateDir(t);
    const file = join(dir, 'file.txt');
    writeFileSync(file, 'x');
    const usage = [
      [['--port', '-1'], /^etlt: --port must be an integer from 0 to 65535 \(got '-1'\)$/m],
      [['--max-body', '-5'], /^etlt: --max-body must be an integer from 0 to \d+ \(got '-5'\)$/m],
      [['--host', '999.1.1.1'], /^etlt: --host 999\.1\.1\.1: not a numeric IPv4 address/m],
      [['--keepalive-timeout', '-2'], /^etlt: --keepalive-timeout must be a number of seconds/m],
      [['--index', 'a/b', '--root', dir], /^etlt: --index: .*"index" option/m],
    ];
    for (const [args, message] of usage) {
      const r = await serve(args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}; ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.match(r.stderr, /Run 'etlt serve --help' for usage\.\n$/);
    }
    const runtime = [
      [['--root', join(dir, 'missing')], /^etlt: --root .*missing: ENOENT: no such file or directory/m],
      [['--root', file], /^etlt: --root .*file\.txt: not a directory$/m],
      [['--body', join(dir, 'missing')], /^etlt: --body .*missing: ENOENT/m],
      [['--stats-json', join(dir, 'no', 'such', 'dir.json')], /^etlt: --stats-json .*dir\.json: ENOENT/m],
      [['--app', join(dir, 'missing.mjs')], /^etlt: --app .*missing\.mjs: cannot import .*: no such file$/m],
    ];
    for (const [args, message] of runtime) {
      const r = await serve(args);
      assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}; ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /--help/);
    }
    const help = await run(process.execPath, [CLI, 'serve', '--help']);
    assert.match(help.stdout, /^Exit codes: .*$/m);
    assert.match(help.stdout.replaceAll('\n', ' '), /2 the command line is wrong.*1 it could not run/);
  },
);

test('an unreadable --root exits 1 and names --root, as a missing one does', { timeout: 20_000 }, async (t) => {
  const dir = privateDir(t);
  const locked = join(dir, 'locked');
  mkdirSync(locked);
  chmodSync(dir, 0o755);
  chmodSync(locked, 0o000);
  // root reads anything: as root, run the command without the capabilities that let it
  // (setpriv, util-linux). Not as another user: a checkout in a private directory (mktemp -d)
  // is not theirs to read.
  const argv = [process.execPath, CLI, 'serve', '--host', HOST, '--port', '0', '--root', locked];
  const [command, ...args] =
    process.getuid() === 0 ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', ...argv] : argv;
  const { spawn } = await import('node:child_process');
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const [code] = await new Promise((resolve) => child.once('close', (...a) => resolve(a)));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /^etlt: --root .*locked: .*(EACCES|permission denied)/im);
});

test(
  '--backend poll without --mode serves level-triggered: the mode follows the backend (issue 18 item 11)',
  { timeout: 20_000 },
  async (t) => {
    const dir = privateDir(t);
    for (const backend of ['poll', 'select']) {
      const s = await started(t, dir, ['--backend', backend]);
      assert.equal(s.mode, 'lt', s.line);
      const res = await fetch(`http://${HOST}:${s.port}/`, { headers: { connection: 'close' } });
      assert.equal(await res.text(), 'Hello, world!');
      s.child.kill('SIGTERM');
      assert.equal((await s.exited).code, 0, s.out.stderr);
    }
  },
);

test(
  "--app serves the module's default export, in one process and in each of --workers 2 (issue 20)",
  { timeout: 40_000 },
  async (t) => {
    const dir = privateDir(t);
    const app = join(dir, 'app.mjs');
    writeFileSync(
      app,
      "export default (req) => ({ headers: { 'content-type': 'text/plain' }, body: `${process.pid} ${req.method} ${req.target}` });\n",
    );
    const one = await started(t, dir, ['--app', app]);
    const res = await run('curl', ['-s', `http://${HOST}:${one.port}/hello?x=1`]);
    assert.equal(res.stdout, `${one.child.pid} GET /hello?x=1`);
    one.child.kill('SIGTERM');
    assert.equal((await one.exited).code, 0, one.out.stderr);

    const pool = await started(t, dir, ['--app', app, '--workers', '2']);
    const workers = childrenOf(pool.child.pid).map((c) => c.pid);
    assert.equal(workers.length, 2);
    for (let i = 0; i < 20; i++) {
      const r = await run('curl', ['-s', `http://${HOST}:${pool.port}/w${i}`]);
      const [pid, method, target] = r.stdout.split(' ');
      assert.ok(workers.includes(Number(pid)), `answered by ${pid}, not one of the workers ${workers}`);
      assert.deepEqual([method, target], ['GET', `/w${i}`]);
    }
    pool.child.kill('SIGTERM');
    assert.equal((await pool.exited).code, 0, pool.out.stderr);
  },
);

test(
  '--app with a TypeScript file or no default function: exit 1 and the fix, in one process and with workers',
  { timeout: 40_000 },
  async (t) => {
    const dir = privateDir(t);
    writeFileSync(join(dir, 'app.ts'), 'export default (req: unknown) => ({ body: "x" });\n');
    writeFileSync(join(dir, 'none.mjs'), 'export const handler = () => ({});\n');
    for (const workers of ['1', '2']) {
      let r = await serve(['--app', join(dir, 'app.ts'), '--workers', workers], {
        env: { ...process.env, TMPDIR: dir },
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^etlt: --app .*app\.ts: Node \d+ cannot import TypeScript .*compile it first \(npx tsc\)/m,
      );
      r = await serve(['--app', join(dir, 'none.mjs'), '--workers', workers], { env: { ...process.env, TMPDIR: dir } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^etlt: --app .*none\.mjs: the module has no default export; it must `export default/m);
      assert.doesNotMatch(r.stderr, /exit code 0/);
    }
  },
);

test(
  '--app runs a Hono app (export default app: a { fetch } module) unchanged, streaming its upload, in one process and in --workers 2 (issue 21)',
  { timeout: 60_000 },
  async (t) => {
    const dir = privateDir(t);
    const app = join(dir, 'hono-app.mjs');
    const hono = JSON.stringify(new URL('../../node_modules/hono/dist/index.js', import.meta.url).href);
    writeFileSync(
      app,
      `import { Hono } from ${hono};\n` +
        'const app = new Hono();\n' +
        "app.get('/hi/:name', (c) => c.json({ hi: c.req.param('name'), pid: process.pid, q: c.req.query('q') }));\n" +
        "app.post('/size', async (c) => { let n = 0; for await (const chunk of c.req.raw.body) n += chunk.length; return c.text(String(n)); });\n" +
        'export default app;\n',
    );
    writeFileSync(join(dir, 'static.txt'), 'from the root\n');
    for (const workers of ['1', '2']) {
      const s = await started(t, dir, ['--app', app, '--workers', workers, '--root', dir, '--quiet']);
      const pids = workers === '1' ? [s.child.pid] : childrenOf(s.child.pid).map((c) => c.pid);
      const res = await fetch(`http://${HOST}:${s.port}/hi/ann?q=%C3%A9`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      const body = await res.json();
      assert.equal(body.hi, 'ann');
      assert.equal(body.q, 'é');
      assert.ok(pids.includes(body.pid), `answered by ${body.pid}, not one of ${pids}`);
      // A body above maxBodyBytes (1 MiB): a fetch app reads it as a stream, never whole.
      const big = Buffer.alloc(3 * 1024 * 1024, 7);
      const up = await fetch(`http://${HOST}:${s.port}/size`, { method: 'POST', body: big });
      assert.equal(await up.text(), String(big.length));
      // Files first, then the app: the root's file, and the app's 404 for what is not one.
      assert.equal(await (await fetch(`http://${HOST}:${s.port}/static.txt`)).text(), 'from the root\n');
      assert.equal((await fetch(`http://${HOST}:${s.port}/nothing`)).status, 404);
      s.child.kill('SIGTERM');
      assert.equal((await s.exited).code, 0, s.out.stderr);
    }
  },
);
