/**
 * `etlt serve --access-log` when the log cannot be written: a path that cannot be opened
 * (a directory, a missing directory) is refused before serving, naming the option (exit
 * 1, as for an unreadable --root); a stdout whose reader went away (`| head -n 1`) costs
 * log lines, never the server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { CLI, HOST, ROOT, Scope, run, waitFor } from '../lib/http.mjs';

for (const [what, path] of [
  ['a directory', tmpdir()],
  ['a file in a missing directory', join(tmpdir(), 'etlt-no-such-dir-for-access-log', 'x.log')],
]) {
  test(`--access-log naming ${what}: exit 1 before serving, naming the option`, { timeout: 30_000 }, async () => {
    const r = await run(
      process.execPath,
      [CLI, 'serve', '--host', HOST, '--port', '0', '--quiet', '--access-log', path],
      {
        timeout: 10_000,
      },
    );
    assert.equal(r.code, 1, `exit ${r.code ?? r.signal}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^etlt: --access-log ${path.replace(/[/.]/g, '\\$&')}: `, 'm'));
    assert.doesNotMatch(r.stderr, /Unhandled|at .*\(node:/);
    assert.doesNotMatch(r.stdout, /serving on/);
  });
}

test('--access-log - whose reader left: the server goes on serving', { timeout: 30_000 }, async (t) => {
  const scope = new Scope(t);
  const dir = mkdtempSync(join(tmpdir(), 'etlt-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The server's stdout is a pipe whose reader stops after the start line, as `| head -n 1`.
  const child = scope.child(
    spawn(process.execPath, [CLI, 'serve', '--host', HOST, '--port', '0', '--quiet', '--access-log', '-'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  let first = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d) => {
      first += d;
      const m = /127\.0\.0\.1:(\d+)/.exec(first);
      if (m) {
        child.stdout.destroy();
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`http://${HOST}:${port}/${i}`, { headers: { connection: 'close' } });
    assert.equal(await res.text(), 'Hello, world!');
  }
  assert.equal(child.exitCode, null, `the server exited: ${stderr}`);
  child.kill('SIGTERM');
  await waitFor(() => child.exitCode !== null, { timeout: 10_000, message: 'the exit' });
  assert.equal(child.exitCode, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
});
