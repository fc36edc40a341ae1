/**
 * `etlt serve --backend io_uring` as a child process: it serves real clients (curl, ab
 * with keep-alive), sits idle without using the CPU (nothing spins: the ring's fd is
 * watched on Node's loop), stops on SIGTERM, and where io_uring cannot be had (a seccomp
 * filter, kernel.io_uring_disabled) refuses with an error naming the cause: it never falls
 * back to epoll.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { spawn } from 'node:child_process';

import {
  CLI,
  SEED_RESPONSE,
  Scope,
  ab,
  assertBytes,
  curl,
  parseCounters,
  run,
  startCli,
  waitFor,
} from '../lib/http.mjs';
import { ROOT } from '../lib/util.mjs';

/** User plus system CPU time of a process so far, in clock ticks (/proc/PID/stat). */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const SERVE = [CLI, 'serve', '--backend', 'io_uring', '--host', '127.0.0.1', '--port', '0', '--quiet'];

/**
 * `n` keep-alive requests from ab over `c` connections all answered; then one idle second
 * without CPU (nothing but the idle sweep's timer: a spinning ring would use all of it) and
 * a graceful stop on SIGTERM. Returns the final counters.
 */
async function loadIdleStop(cli, n, c, extra = []) {
  const load = await ab(cli.port, { n, c, extra: ['-k', ...extra] });
  assert.equal(load.failed, 0, load.stdout);
  assert.equal(load.complete, n);
  const before = cpuTicks(cli.child.pid);
  await delay(1000); // a sampling window, not a wait for a condition
  const idle = cpuTicks(cli.child.pid) - before;
  assert.ok(idle < 30, `${idle} clock ticks of CPU in one idle second`);
  const { code, signal } = await cli.stop('SIGTERM', 5000);
  assert.equal(signal, null, `killed by ${signal}; stderr: ${cli.stderr}`);
  assert.equal(code, 0, cli.stderr);
  return parseCounters(cli.stderr);
}

describe('etlt serve --backend io_uring', { timeout: 60_000 }, () => {
  test('serves curl and ab, idles without CPU, and stops gracefully on SIGTERM', async (t) => {
    const scope = new Scope(t);
    const cli = await startCli(scope, 'completion', ['--backend', 'io_uring', '--quiet']);
    assert.match(cli.stdout, /\(completion-based, mode completion, backend io_uring\)/);
    const r = await curl(cli.port);
    assert.equal(r.code, 0, r.stderr);
    assertBytes(r.stdout, SEED_RESPONSE, 'curl -0');
    const counters = await loadIdleStop(cli, 2000, 20);
    assert.equal(counters.backend, 'io_uring');
    assert.equal(counters.responses, 2001);
    assert.equal(counters.open, 0);
    const enters = Number(/io_uring_enter=(\d+)/.exec(cli.stderr)?.[1]);
    // Batched: 2001 responses from far fewer submits than one per request (and at least one).
    assert.ok(enters > 0 && enters < 2001, `io_uring_enter ${enters} for 2001 responses`);
  });

  for (const taskRun of ['coop', 'defer']) {
    test(`--task-run ${taskRun}: 5,000 keep-alive requests over 50 connections all answered, then idle and a clean stop`, async (t) => {
      const scope = new Scope(t);
      const cli = await startCli(scope, 'completion', ['--backend', 'io_uring', '--task-run', taskRun, '--quiet']);
      // DEFER_TASKRUN runs a capped batch of completions per enter: one left behind at the end
      // of the run would hold its request until ab's 10 s timeout.
      assert.equal((await loadIdleStop(cli, 5000, 50, ['-s', '10'])).responses, 5000);
    });
  }

  test('--workers 2 --balance reuseport: a ring per worker, both serve, SIGTERM stops both', async () => {
    const child = spawn(process.execPath, [...SERVE, '--workers', '2', '--balance', 'reuseport'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      await waitFor(() => /serving on http:\/\/127\.0\.0\.1:(\d+)\//.test(stdout), {
        timeout: 10_000,
        message: 'the start line',
      });
      assert.match(stdout, /\(completion-based, mode completion, backend io_uring, 2 workers, balance reuseport\)/);
      const port = Number(/127\.0\.0\.1:(\d+)\//.exec(stdout)[1]);
      // Connections of their own: the kernel spreads them over the two listeners.
      const load = await ab(port, { n: 400, c: 8 });
      assert.equal(load.failed, 0, load.stdout);
      assert.equal(load.complete, 400);
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      assert.equal(signal, null, stderr);
      assert.equal(code, 0, stderr);
      const per = [...stderr.matchAll(/^etlt: worker (\d) pid=\d+.*connections=(\d+) requests=(\d+)/gm)];
      assert.equal(per.length, 2, stderr);
      assert.equal(
        per.reduce((a, m) => a + Number(m[3]), 0),
        400,
      );
      assert.ok(
        per.every((m) => Number(m[2]) > 0),
        `both workers accepted connections: ${per.map((m) => m[2]).join(', ')}`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('--mode et and --mode lt with io_uring are usage errors that say why', async () => {
    for (const mode of ['et', 'lt']) {
      const r = await run(process.execPath, [...SERVE, '--mode', mode]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `mode '${mode}' cannot run on the io_uring backend: io_uring reports completed operations, not readiness`,
        ),
      );
    }
  });

  for (const [errno, name, cause] of [
    [
      1,
      'EPERM',
      /io_uring_setup EPERM: operation not permitted \(.*seccomp filter \(Docker's default profile and Kubernetes' RuntimeDefault/,
    ],
    [38, 'ENOSYS', /io_uring_setup ENOSYS: function not implemented \(this process runs under a seccomp filter/],
  ]) {
    test(`refused by a seccomp filter (${name}): an error naming the cause, no fallback`, async () => {
      const r = await run('python3', [
        join(ROOT, 'test', 'lib', 'no-io-uring.py'),
        String(errno),
        process.execPath,
        ...SERVE,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, cause);
      assert.doesNotMatch(r.stdout, /serving/, 'nothing served, on epoll or otherwise');
    });
  }

  test('refused by sysctl kernel.io_uring_disabled=2 (set for the test, then restored)', async (t) => {
    const path = '/proc/sys/kernel/io_uring_disabled';
    let was;
    try {
      was = readFileSync(path, 'utf8').trim();
      writeFileSync(path, was);
    } catch (err) {
      t.skip(`this machine does not let the test set ${path} (${err.code}): the seccomp tests cover the refusal`);
      return;
    }
    try {
      writeFileSync(path, '2');
      const r = await run(process.execPath, SERVE);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /io_uring_setup EPERM: .*sysctl kernel\.io_uring_disabled=2 refuses io_uring to every process/,
      );
    } finally {
      writeFileSync(path, was);
    }
    assert.equal(readFileSync(path, 'utf8').trim(), was, 'restored');
  });
});
