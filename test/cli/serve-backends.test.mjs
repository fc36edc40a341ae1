/**
 * `etlt serve --backend poll|select` as a child process: it serves real clients (curl, ab),
 * stops gracefully on SIGTERM and SIGINT within moments although it blocks in its own
 * poll(2) or select(2), sits idle without using the CPU, and refuses `--mode et` with a
 * usage error that says why.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import {
  CLI,
  SEED_RESPONSE,
  Scope,
  ab,
  assertBytes,
  curl,
  exchange,
  parseCounters,
  run,
  startCli,
  waitFor,
} from '../lib/http.mjs';

/** User plus system CPU time of a process so far, in clock ticks (/proc/PID/stat). */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

for (const backend of ['poll', 'select']) {
  describe(`etlt serve --backend ${backend}`, { timeout: 60_000 }, () => {
    test('serves curl and ab, idles without CPU, and stops gracefully on SIGTERM', async (t) => {
      const scope = new Scope(t);
      const cli = await startCli(scope, 'lt', ['--backend', backend, '--quiet']);
      const r = await curl(cli.port);
      assert.equal(r.code, 0, r.stderr);
      assertBytes(r.stdout, SEED_RESPONSE, 'curl -0');
      const load = await ab(cli.port, { n: 2000, c: 20, extra: ['-k'] });
      assert.equal(load.failed, 0, load.stdout);
      assert.equal(load.complete, 2000);
      // Idle: one blocking wait per turn of Node's loop. A busy loop would use about a
      // second of CPU in this second; the idle sweep's few turns use a few milliseconds.
      const before = cpuTicks(cli.child.pid);
      await delay(1000); // a sampling window, not a wait for a condition
      const idle = cpuTicks(cli.child.pid) - before;
      assert.ok(idle < 30, `${idle} clock ticks of CPU in one idle second`);
      const { code, signal } = await cli.stop('SIGTERM', 5000);
      assert.equal(signal, null, `killed by ${signal}; stderr: ${cli.stderr}`);
      assert.equal(code, 0, cli.stderr);
      assert.match(cli.stderr, /^etlt: SIGTERM: no longer accepting/m);
      const counters = parseCounters(cli.stderr);
      assert.equal(counters.backend, backend);
      assert.equal(counters.responses, 2001);
      assert.equal(counters.open, 0);
      assert.equal(counters['over-fd-limit'], 0);
    });

    test('SIGINT with a kept-alive connection open: the connection is closed and the server exits', async (t) => {
      const scope = new Scope(t);
      const cli = await startCli(scope, 'lt', ['--backend', backend, '--quiet']);
      const c = scope.client(cli.port);
      await c.connect();
      await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => c.received > 0, { message: 'the first response' });
      const { code, signal } = await cli.stop('SIGINT', 5000);
      assert.equal(signal, null, cli.stderr);
      assert.equal(code, 0, cli.stderr);
      await c.closedWithin(3000, 'the kept-alive connection to be closed');
      assert.equal(parseCounters(cli.stderr).open, 0);
    });
  });
}

test('etlt serve --mode et --backend select (or poll) is a usage error that says why', async () => {
  for (const backend of ['select', 'poll']) {
    const r = await run(process.execPath, [CLI, 'serve', '--mode', 'et', '--backend', backend, '--port', '0']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `--mode et --backend ${backend}: mode 'et' cannot run on the ${backend} backend: .*edge triggering \\(EPOLLET\\) exists only in epoll`,
      ),
    );
    assert.match(r.stderr, /etlt serve --help/);
    assert.equal(r.stdout, '');
  }
  const bad = await run(process.execPath, [CLI, 'serve', '--backend', 'kqueue', '--port', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--backend must be one of epoll, poll, select, io_uring \(got 'kqueue'\)/);
  const help = await run(process.execPath, [CLI, 'serve', '--help']);
  assert.match(help.stdout, /--backend NAME/);
});

test('etlt serve --backend poll exchanges with a raw client and counts its waits', async (t) => {
  const scope = new Scope(t);
  const cli = await startCli(scope, 'lt', ['--backend', 'poll', '--quiet']);
  assertBytes((await exchange(scope, cli.port)).data, SEED_RESPONSE);
  const counters = await cli.counters();
  assert.equal(counters.responses, 1);
  await cli.stop('SIGTERM', 5000);
});
