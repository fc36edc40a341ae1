/**
 * `etlt serve --stats-json PATH` where PATH is no regular file: a FIFO (what /dev/stdout
 * is on a pipe, `| jq`), a terminal, /dev/full. A file is rewritten in place; what cannot be
 * truncated gets each record as a line instead (before: ftruncate's EINVAL took the process
 * down at SIGUSR1 and lost the final record, exit 1). A write that fails (ENOSPC) is said
 * on stderr, naming the option, and SIGUSR1 never ends the server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { CLI, HOST, ROOT, Scope, run, waitFor } from '../lib/http.mjs';

/** Starts `etlt serve --stats-json path` with stdout and stderr piped; resolves once it serves. */
async function start(scope, path) {
  const child = scope.child(
    spawn(process.execPath, [CLI, 'serve', '--host', HOST, '--port', '0', '--quiet', '--stats-json', path], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const seen = { out: '', err: '' };
  child.stdout.setEncoding('utf8').on('data', (d) => (seen.out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (seen.err += d));
  await waitFor(() => /serving on/.test(seen.out) || child.exitCode !== null, { timeout: 10_000, message: 'start' });
  assert.equal(child.exitCode, null, seen.err);
  return { child, seen };
}

test('--stats-json on a pipe (a FIFO): SIGUSR1 and the stop each write a JSON line', { timeout: 30_000 }, async (t) => {
  const scope = new Scope(t);
  const dir = mkdtempSync(join(tmpdir(), 'etlt-stats-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'stats');
  await run('mkfifo', [fifo]);
  // The reader first: the server's open for writing waits for one.
  let piped = '';
  const reader = createReadStream(fifo, { encoding: 'utf8' });
  reader.on('data', (d) => (piped += d));
  t.after(() => reader.destroy());
  const { child, seen } = await start(scope, fifo);
  child.kill('SIGUSR1');
  await waitFor(() => /"snapshot":true/.test(piped), { timeout: 5000, message: 'the snapshot line' });
  assert.equal(child.exitCode, null, `SIGUSR1 ended the server: ${seen.err}`);
  child.kill('SIGTERM');
  await waitFor(() => child.exitCode !== null, { timeout: 10_000, message: 'the exit' });
  assert.equal(child.exitCode, 0, seen.err);
  await waitFor(() => piped.split('\n').length >= 3, { timeout: 5000, message: 'the final record' });
  const records = piped
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  assert.equal(records.length, 2, piped);
  assert.equal(records[0].snapshot, true);
  assert.equal(typeof records[1].stats.requests, 'number');
});

test(
  '--stats-json /dev/full: the failed write is said, and SIGUSR1 does not end the server',
  { timeout: 30_000 },
  async (t) => {
    const scope = new Scope(t);
    const { child, seen } = await start(scope, '/dev/full');
    child.kill('SIGUSR1');
    await waitFor(() => /--stats-json \/dev\/full: .*ENOSPC/.test(seen.err), {
      timeout: 5000,
      message: 'the error line',
    });
    const port = /127\.0\.0\.1:(\d+)/.exec(seen.out)[1];
    const res = await fetch(`http://${HOST}:${port}/`, { headers: { connection: 'close' } });
    assert.equal(await res.text(), 'Hello, world!');
    child.kill('SIGTERM');
    await waitFor(() => child.exitCode !== null, { timeout: 10_000, message: 'the exit' });
    // The final record could not be written either: said, and the exit says so (1).
    assert.equal(child.exitCode, 1, seen.err);
    assert.doesNotMatch(seen.err, /Uncaught|node:fs/);
  },
);
