/**
 * `etlt serve`'s listeners besides its own TCP port: systemd socket activation (under the
 * real systemd-socket-activate, which hands over a blocking listener as fd 3), `--fd N`,
 * `--host unix:PATH` with `--socket-mode`, each in every mode and backend, with --workers
 * too; and the command lines that cannot work, refused with the option named.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { AF_INET, SOCK_STREAM, Socket } from 'etlt';
import { CLI, HOST, ROOT, VARIANTS, freePort, run, waitFor } from '../lib/http.mjs';
import { childrenOf, etlt } from '../lib/procs.mjs';

/** Starts `command`, collects its output, and stops it (SIGKILL) after the test. */
function started(t, command, args, options = {}) {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (out.stderr += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, out, exited };
}

/** Waits for the start line; returns it. */
async function serving(p) {
  const m = await waitFor(
    () => {
      if (p.child.exitCode !== null) throw new Error(`exited early (${p.child.exitCode}): ${p.out.stderr}`);
      return /^etlt: serving on (\S+) .*$/m.exec(p.out.stdout);
    },
    { timeout: 10_000, message: `the start line; stderr: ${p.out.stderr}` },
  );
  return m[1];
}

/** systemd-socket-activate listening on `port`, etlt to be run at the first connection. */
async function activate(t, port, args) {
  const p = started(t, 'systemd-socket-activate', ['-l', `${HOST}:${port}`, process.execPath, CLI, 'serve', ...args]);
  await waitFor(() => p.out.stderr.includes(`Listening on ${HOST}:${port}`) || p.child.exitCode !== null, {
    message: 'systemd-socket-activate to listen',
  });
  assert.equal(p.child.exitCode, null, p.out.stderr);
  return p;
}

/** SIGTERM, then the exit within a few seconds (not SIGKILL): { code, signal }. */
async function stopsOnSigterm(p) {
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 8000);
  const r = await p.exited;
  clearTimeout(timer);
  assert.deepEqual(r, { code: 0, signal: null }, `stopped by SIGTERM; stderr: ${p.out.stderr}`);
}

async function getText(url, n = 4) {
  const bodies = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.timeout(4000) });
    bodies.push(await r.text());
  }
  return bodies;
}

const variantArgs = (v) => ['--mode', v.mode, '--backend', v.backend, '-q'];

for (const v of VARIANTS) {
  test(`systemd-socket-activate (${v.label}): the blocking listener is served request after request, SIGTERM stops it`, async (t) => {
    const port = await freePort();
    const p = await activate(t, port, variantArgs(v));
    // The start line comes once systemd-socket-activate has run etlt: at the first connection.
    const first = fetch(`http://${HOST}:${port}/`, { signal: AbortSignal.timeout(8000) });
    assert.equal(await (await first).text(), 'Hello, world!');
    assert.equal(await serving(p), `http://${HOST}:${port}/`);
    assert.deepEqual(await getText(`http://${HOST}:${port}/`), Array(4).fill('Hello, world!'));
    await stopsOnSigterm(p);
  });
}

test('systemd-socket-activate with --workers 2: the workers share the socket, and inherit no LISTEN_* variables', async (t) => {
  const port = await freePort();
  const p = await activate(t, port, ['-q', '--workers', '2']);
  const first = fetch(`http://${HOST}:${port}/`, { signal: AbortSignal.timeout(8000) });
  assert.equal(await (await first).text(), 'Hello, world!');
  await serving(p);
  assert.match(p.out.stdout, /2 workers, balance exclusive/);
  assert.deepEqual(await getText(`http://${HOST}:${port}/`, 6), Array(6).fill('Hello, world!'));
  const workers = childrenOf(p.child.pid).map((w) => w.pid);
  assert.equal(workers.length, 2, 'two workers');
  for (const pid of workers) {
    const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    assert.deepEqual(
      env.filter((e) => e.startsWith('LISTEN_')),
      [],
      `worker ${pid} environment`,
    );
  }
  await stopsOnSigterm(p);
});

test('socket activation: LISTEN_PID of another process is ignored; several sockets need --fd to pick one', async (t) => {
  // Meant for another process: etlt binds its own --host/--port as usual.
  const other = started(t, process.execPath, [CLI, 'serve', '-q', '--host', HOST, '--port', '0'], {
    env: { ...process.env, LISTEN_PID: '1', LISTEN_FDS: '1' },
  });
  assert.match(await serving(other), /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(
    other.out.stderr,
    /LISTEN_FDS=1 is for pid 1, not this process \(\d+\): ignored \(a wrapper such as npx/,
  );
  await stopsOnSigterm(other);

  // Two sockets for this very process (sh execs node: the same pid).
  const a = new Socket(AF_INET, SOCK_STREAM);
  const b = new Socket(AF_INET, SOCK_STREAM);
  for (const s of [a, b]) {
    s.bind([HOST, 0]);
    s.listen(8);
  }
  const script = 'LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=web:admin exec "$@"';
  const stdio = ['ignore', 'pipe', 'pipe', a.fileno(), b.fileno()];
  const many = started(t, 'sh', ['-c', script, 'sh', process.execPath, CLI, 'serve', '-q'], { stdio });
  assert.equal((await many.exited).code, 2);
  assert.match(
    many.out.stderr,
    /systemd passed 2 sockets \(LISTEN_FDS\): 3 \(web\), 4 \(admin\); etlt serves one: pick it with --fd/,
  );

  // LISTEN_FDS counting an fd that was never passed (Node's own fds may fill the gap): refused, not served.
  const missing = started(
    t,
    'sh',
    ['-c', script.replace('LISTEN_FDS=2', 'LISTEN_FDS=1'), 'sh', process.execPath, CLI, 'serve'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  assert.equal((await missing.exited).code, 1);
  assert.match(
    missing.out.stderr,
    /fd 3 is not (a socket|an open file descriptor)|3 is an? .* socket that is not listening/,
  );

  const picked = started(t, 'sh', ['-c', script, 'sh', process.execPath, CLI, 'serve', '-q', '--fd', '4'], { stdio });
  const port = b.getsockname()[1];
  assert.equal(await serving(picked), `http://${HOST}:${port}/`);
  assert.deepEqual(await getText(`http://${HOST}:${port}/`, 2), Array(2).fill('Hello, world!'));
  await stopsOnSigterm(picked);
  a.close();
  b.close();
});

test('--fd N: an inherited blocking listener is served; an fd that is not a listener exits 1 naming it', async (t) => {
  const listener = new Socket(AF_INET, SOCK_STREAM);
  listener.bind([HOST, 0]);
  listener.listen(16);
  const port = listener.getsockname()[1];
  const p = started(t, process.execPath, [CLI, 'serve', '-q', '--fd', '3', '--mode', 'lt'], {
    stdio: ['ignore', 'pipe', 'pipe', listener.fileno()],
  });
  listener.close();
  assert.equal(await serving(p), `http://${HOST}:${port}/`);
  assert.deepEqual(await getText(`http://${HOST}:${port}/`), Array(4).fill('Hello, world!'));
  await stopsOnSigterm(p);

  const notSocket = etlt(['serve', '--fd', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = await notSocket.exited;
  assert.equal(r.code, 1);
  assert.match(notSocket.out.stderr, /getsockopt ENOTSOCK: .*fd 0 is not a socket/);
});

test('--host unix:PATH: curl over the socket in every variant and with workers; --socket-mode; the file goes on exit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-cli-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const runs = [...VARIANTS.map((v) => variantArgs(v)), ['-q', '--workers', '2']];
  for (const [i, args] of runs.entries()) {
    const path = join(dir, `s${i}.sock`);
    const p = started(t, process.execPath, [CLI, 'serve', '--host', `unix:${path}`, '--socket-mode', '660', ...args]);
    assert.equal(await serving(p), `unix:${path}`);
    assert.equal(statSync(path).mode & 0o777, 0o660);
    for (let k = 0; k < 3; k++) {
      const c = await run('curl', ['-s', '-S', '--max-time', '5', '--unix-socket', path, 'http://localhost/']);
      assert.equal(c.stdout, 'Hello, world!', `${args.join(' ')}: ${c.stderr}`);
    }
    await stopsOnSigterm(p);
    assert.equal(existsSync(path), false, `${args.join(' ')}: the socket file is removed on exit`);
  }
});

test('--host unix:PATH after a crash (SIGKILL): the stale file is replaced; beside a live etlt: EADDRINUSE, its file kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-cli-stale-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'http.sock');
  const crashed = started(t, process.execPath, [CLI, 'serve', '-q', '--host', `unix:${path}`]);
  await serving(crashed);
  crashed.child.kill('SIGKILL');
  await crashed.exited;
  assert.ok(existsSync(path), 'a SIGKILLed server leaves its socket file');

  const next = started(t, process.execPath, [CLI, 'serve', '-q', '--host', `unix:${path}`]);
  assert.equal(await serving(next), `unix:${path}`);
  const second = etlt(['serve', '-q', '--host', `unix:${path}`]);
  const r = await second.exited;
  assert.equal(r.code, 1);
  assert.ok(
    second.out.stderr.includes(`bind EADDRINUSE: address already in use ${path} (a server is listening on it)`),
    second.out.stderr,
  );
  const c = await run('curl', ['-s', '-S', '--max-time', '5', '--unix-socket', path, 'http://localhost/']);
  assert.equal(c.stdout, 'Hello, world!', 'the live server still answers on its file');
  await stopsOnSigterm(next);
});

test('listener options that cannot work are usage errors (exit 2) naming the option', async () => {
  const cases = [
    [['--socket-mode', '600'], /--socket-mode goes with a Unix socket/],
    [['--host', 'unix:/tmp/x.sock', '--port', '80'], /--port: a Unix socket .* has no port/],
    [['--host', 'unix:/tmp/x.sock', '--socket-mode', '999'], /--socket-mode must be an octal mode/],
    [['--host', 'unix:'], /a Unix socket needs a path/],
    [['--fd', '3', '--port', '80'], /--fd 3: the listener is inherited; --host and --port do not apply/],
    [['--fd', 'x'], /--fd must be an integer/],
    [['--fd', '3', '--workers', '2', '--balance', 'reuseport'], /--balance reuseport: with an inherited listener/],
  ];
  for (const [args, want] of cases) {
    const p = etlt(['serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const r = await p.exited;
    assert.equal(r.code, 2, `${args.join(' ')}: ${p.out.stderr}`);
    assert.match(p.out.stderr, want);
  }
});
