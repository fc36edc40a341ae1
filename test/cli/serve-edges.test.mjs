/**
 * `etlt serve` at its edges, as a new user meets them: `npm start` under npm (signals reach
 * the server), bind errors that name the address, hosts pasted from URLs, the seed's modes
 * announced as what they are, a large `--body` held once, and `npx etlt` on a package whose
 * addon was never built.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  CLI,
  HOST,
  ROOT,
  SEED_RESPONSE,
  Scope,
  assertBytes,
  exchange,
  freePort,
  responseFor,
  run,
  sha256,
  startCli,
  waitFor,
} from '../lib/http.mjs';

let dir;

before(async () => {
  await run('true', []);
  dir = mkdtempSync(join(tmpdir(), 'etlt-edges-'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The pids whose parent is `ppid` (from /proc). */
function childrenOf(ppid) {
  const out = [];
  for (const name of readdirProc()) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function readdirProc() {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n));
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** VmRSS of `pid` in bytes. */
function rss(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(m[1]) * 1024;
}

describe('npm start', () => {
  test('execs the server: a SIGTERM to npm reaches it, and nothing is left serving', { timeout: 30_000 }, async (t) => {
    const port = await freePort();
    const npm = spawn('npm', ['start', '--', '--host', HOST, '--port', String(port), '--quiet'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    npm.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    t.after(() => {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    });
    await waitFor(() => out.includes('serving on'), { timeout: 15_000, message: 'the start line through npm' });
    const r = await exchange(new Scope(t), port);
    assertBytes(r.data, SEED_RESPONSE, 'served through npm start');
    // npm's own child is the server itself (exec), not a shell that would swallow the signal.
    const kids = childrenOf(npm.pid);
    assert.equal(kids.length, 1, `npm's children: ${kids.join(', ')}`);
    const cmdline = readFileSync(`/proc/${kids[0]}/cmdline`, 'latin1').split('\0');
    assert.ok(
      cmdline.some((a) => a.endsWith('main.js')),
      `npm's child runs ${cmdline.join(' ')}`,
    );
    const server = kids[0];
    const exited = once(npm, 'exit');
    npm.kill('SIGTERM');
    await exited;
    await waitFor(() => !alive(server), { timeout: 10_000, message: 'the server to exit with npm' });
    const refused = await new Promise((resolve) => {
      const s = net.connect({ host: HOST, port }, () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    assert.ok(refused, `port ${port} still accepts connections after npm was stopped`);
  });
});

describe('addresses', () => {
  test('a bind error names the address, as Node does', { timeout: 10_000 }, async () => {
    const busy = net.createServer().listen(0, HOST);
    await once(busy, 'listening');
    try {
      const port = busy.address().port;
      const r = await run(process.execPath, [CLI, 'serve', '--host', HOST, '--port', String(port)], { timeout: 5000 });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr, `etlt: bind EADDRINUSE: address already in use ${HOST}:${port}\n`);
    } finally {
      busy.close();
    }
  });

  test('--host [::1], pasted from a URL, serves on ::1', { timeout: 10_000 }, async (t) => {
    const scope = new Scope(t);
    const port = await freePort();
    const child = scope.child(
      spawn(process.execPath, [CLI, 'serve', '--host', '[::1]', '--port', String(port), '--quiet'], { cwd: ROOT }),
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    await waitFor(() => out.includes('serving on'), { timeout: 5000, message: 'the start line' });
    assert.match(out, new RegExp(`serving on http://\\[::1\\]:${port}/`));
    const data = await new Promise((resolve, reject) => {
      const s = net.connect({ host: '::1', port }, () => s.write('GET / HTTP/1.0\r\n\r\n'));
      const chunks = [];
      s.on('data', (d) => chunks.push(d));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    });
    assertBytes(data, SEED_RESPONSE);
  });

  test(
    'a link-local address without its interface explains itself; with it, it binds',
    { timeout: 10_000 },
    async () => {
      const r = await run(process.execPath, [CLI, 'serve', '--host', 'fe80::1', '--port', '0'], { timeout: 5000 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^etlt: bind EINVAL: .* \[fe80::1\]:0 \(a link-local address needs its interface: fe80::1%eth0\)\n$/,
      );
      const unknown = await run(process.execPath, [CLI, 'serve', '--host', 'fe80::1%nope0', '--port', '0'], {
        timeout: 5000,
      });
      assert.equal(unknown.code, 1, unknown.stderr);
      assert.match(unknown.stderr, /no network interface 'nope0'/);
    },
  );
});

describe('the seed modes and the pitfalls', () => {
  for (const [mode, words] of [
    ['seed-lt', "the seed's own loop, flaws included; not for traffic"],
    ['seed-et', "the seed's own loop, flaws included; not for traffic"],
    ['et-no-drain', 'a deliberate pitfall; not for traffic'],
  ]) {
    test(`--mode ${mode}: the start line and --help say what it is`, { timeout: 10_000 }, async (t) => {
      const scope = new Scope(t);
      const port = await freePort();
      const child = scope.child(
        spawn(process.execPath, [CLI, 'serve', '--mode', mode, '--host', HOST, '--port', String(port), '--quiet'], {
          cwd: ROOT,
        }),
      );
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      await waitFor(() => out.includes('serving on'), { timeout: 5000, message: 'the start line' });
      assert.ok(out.includes(`mode ${mode}: ${words})`), out);
    });
  }

  test('--help names the seed modes as not for traffic', async () => {
    const r = await run(process.execPath, [CLI, 'serve', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /seed-lt, seed-et \(the seed's own loops, flaws included: not for traffic\)/);
  });
});

describe('--body', () => {
  test('a 64 MiB body is held once', { timeout: 30_000 }, async (t) => {
    const scope = new Scope(t);
    const body = Buffer.alloc(64 << 20, 'z');
    const file = join(dir, 'big.bin');
    writeFileSync(file, body);
    const plain = await startCli(scope, 'et', ['--quiet']);
    const base = rss(plain.child.pid);
    const cli = await startCli(scope, 'et', ['--quiet', '--body', file]);
    const r = await exchange(scope, cli.port, 'GET / HTTP/1.0\r\n\r\n', { timeout: 20_000 });
    assert.equal(sha256(r.data), sha256(responseFor(body)));
    const grew = rss(cli.child.pid) - base;
    // One copy is 64 MiB; the old server held two (about 130 MiB more than without --body).
    assert.ok(grew < 96 << 20, `RSS grew by ${(grew / 2 ** 20).toFixed(0)} MiB with a 64 MiB body`);
  });
});

describe('npx etlt without a built addon', () => {
  test('one line, and the command that builds it', { timeout: 20_000 }, async () => {
    const pkg = join(dir, 'unbuilt');
    mkdirSync(pkg);
    cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(ROOT, 'binding.gyp'), join(pkg, 'binding.gyp'));
    // An installed package has its dependencies (mime-types); only the addon is missing.
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const r = await run(process.execPath, [join(pkg, 'dist', 'src', 'cli', 'main.js'), 'serve'], { timeout: 10_000 });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `more than one line: ${r.stderr}`);
    assert.match(lines[0], /native addon is not built .*npm rebuild etlt/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});
