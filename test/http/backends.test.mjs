/**
 * What differs between the backends, through the server: which modes each takes (as data
 * from the catalog), select shedding connections whose fd it cannot watch (1024 and up)
 * while poll and epoll serve them, and the blocking backends leaving Node's own loop its
 * turns (timers, in-process clients) with no busy loop.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { HttpServer, FD_SETSIZE } from 'etlt';
import { FACTS, STRATEGY_CATALOG } from '../../dist/src/http/trigger/catalog.js';
import {
  HOST,
  REQUEST,
  SEED_RESPONSE,
  Scope,
  VARIANTS,
  assertBytes,
  assertNoBusyLoop,
  exchange,
  statsReach,
} from './helpers.mjs';

/**
 * Asserts a blocking backend is not spinning: over 200 ms with no traffic, its waits
 * (turnWaits, one per turn of Node's loop, included) grow by a few: the test's own timer,
 * the idle sweep. A spin grows them by thousands (two hooks that saw each other's idle
 * handle once made 14,527).
 */
async function assertNoSpin(server) {
  const all = (s) => s.wakeups + s.waits + s.turnWaits;
  const before = all(server.stats());
  await delay(200); // a sampling window, not a wait for a condition
  const grew = all(server.stats()) - before;
  assert.ok(grew <= 20, `${grew} waits in 200 ms with no traffic (a spin)`);
}

/** Opens /dev/null until the next fd would be at least `fd`; returns a function closing them all. */
function holdFdsBelow(fd) {
  const held = [];
  for (;;) {
    const next = openSync('/dev/null', 'r');
    held.push(next);
    if (next >= fd - 1) break;
  }
  return () => held.forEach((f) => closeSync(f));
}

describe('backend option', () => {
  test('a wrong backend is a TypeError or RangeError naming the option', () => {
    assert.throws(() => new HttpServer({ backend: 5 }), { name: 'TypeError', message: /"backend" option/ });
    assert.throws(() => new HttpServer({ backend: 'kqueue' }), {
      name: 'RangeError',
      message: /"backend" option.*'epoll', 'poll', 'select'/,
    });
  });

  test('every edge-triggered mode refuses poll and select, every readiness mode io_uring, saying why; the catalog is the source', async () => {
    // Servers made and never listened still hold their sets: closed here, not by a later
    // collection that would free fds below FD_SETSIZE in the middle of the test that fills them.
    const made = [];
    for (const facts of STRATEGY_CATALOG) {
      for (const backend of ['epoll', 'poll', 'select', 'io_uring']) {
        const make = () => new HttpServer({ mode: facts.name, backend, host: HOST, port: 0 });
        if (facts.backends.includes(backend)) {
          const server = make();
          made.push(server);
          assert.equal(server.backend, backend);
          continue;
        }
        assert.throws(make, (err) => {
          assert.equal(err.code, 'ERR_OUT_OF_RANGE');
          assert.match(err.message, new RegExp(`mode '${facts.name}' cannot run on the ${backend} backend`));
          if (backend === 'io_uring') assert.match(err.message, /neither edge- nor level-triggered/);
          else if (facts.trigger === 'edge')
            assert.match(err.message, /edge triggering \(EPOLLET\) exists only in epoll/);
          else if (facts.trigger === 'completion')
            assert.match(err.message, /reports readiness, not completed operations/);
          return true;
        });
      }
    }
    assert.deepEqual(FACTS.lt.backends, ['epoll', 'poll', 'select']);
    assert.deepEqual(FACTS.et.backends, ['epoll']);
    // The test matrix holds every backend the traffic modes support, and nothing else.
    for (const v of VARIANTS) assert.ok(FACTS[v.mode].backends.includes(v.backend), `${v.label}`);
    assert.deepEqual([...new Set(VARIANTS.map((v) => v.backend))], ['epoll', 'poll', 'select', 'io_uring']);
    // Without a mode, io_uring runs its completion engine.
    const uring = new HttpServer({ backend: 'io_uring', host: HOST, port: 0 });
    made.push(uring);
    assert.equal(uring.mode, 'completion');
    await Promise.all(made.map((server) => server.close(0)));
  });
});

describe('past FD_SETSIZE', { timeout: 30_000 }, () => {
  test('select sheds a connection whose fd is 1024 or more, counted, and serves again below it', async (t) => {
    const scope = new Scope(t);
    const { server, port } = scope.server({ mode: 'lt', backend: 'select' });
    const release = holdFdsBelow(FD_SETSIZE);
    let released = false;
    try {
      // Each client's own end takes an fd too, so the server's ends are 1024 and up.
      const refused = [];
      for (let i = 0; i < 3; i++) {
        const c = scope.client(port);
        await c.connect();
        c.socket.write(REQUEST);
        refused.push(c);
      }
      const results = await Promise.all(refused.map((c) => c.closedWithin(5000, 'a refused connection to close')));
      for (const r of results) {
        assert.equal(r.data.length, 0, 'not a byte for a connection select cannot watch');
        assert.ok(r.ended || r.code === 'ECONNRESET', `closed cleanly (got ${r.code})`);
      }
      const s = await statsReach(server, (st) => st.overFdLimit === 3, 'three connections shed');
      assert.equal(s.shed, 3);
      assert.equal(s.requests, 0);
      release();
      released = true;
      const r = await exchange(scope, port);
      assertBytes(r.data, SEED_RESPONSE);
      await statsReach(server, (st) => st.responses === 1 && st.open === 0, 'the next one served');
    } finally {
      if (!released) release();
    }
  });

  for (const backend of ['poll', 'epoll']) {
    test(`${backend} serves connections whose fds are past 1024`, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode: 'lt', backend });
      const release = holdFdsBelow(FD_SETSIZE + 16);
      try {
        for (let i = 0; i < 3; i++) {
          const r = await exchange(scope, port);
          assertBytes(r.data, SEED_RESPONSE);
        }
        const s = await statsReach(server, (st) => st.responses === 3 && st.open === 0, 'three responses');
        assert.equal(s.overFdLimit, 0);
      } finally {
        release();
      }
    });
  }
});

for (const backend of ['poll', 'select']) {
  test(`${backend}: Node's timers run on time and no busy loop while the server blocks`, async (t) => {
    const scope = new Scope(t);
    const { server } = scope.server({ mode: 'lt', backend });
    // A timer starved by a blocking wait would fire only with the next client, or never:
    // the test's own deadline would end it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const s = server.stats();
    assert.equal(s.backend, backend);
    assert.ok(s.turnWaits > 0, 'the server waited in its own syscall on Node turns');
    await assertNoBusyLoop(server);
    await assertNoSpin(server);
  });
}

test('several blocking servers in one process: none waits on another', { timeout: 30_000 }, async (t) => {
  const scope = new Scope(t);
  // Long timeouts: a server starved by another's blocking wait would answer only when that
  // wait times out (its idle sweep, once a second), and 60 exchanges would outlast the test.
  const servers = ['poll', 'select', 'poll'].map((backend) =>
    scope.server({ mode: 'lt', backend, idleTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000 }),
  );
  for (let i = 0; i < 60; i++) {
    const { port } = servers[i % servers.length];
    assertBytes((await exchange(scope, port)).data, SEED_RESPONSE);
  }
  for (const { server } of servers) {
    const s = await statsReach(server, (st) => st.responses === 20 && st.open === 0, 'twenty responses each');
    assert.equal(s.aborted, 0);
    await assertNoBusyLoop(server);
    await assertNoSpin(server);
  }
  await Promise.all(servers.map(({ server }) => server.close()));
  // The last one stopped: the hook is gone, and a new server starts it again.
  const again = scope.server({ mode: 'lt', backend: 'poll' });
  assertBytes((await exchange(scope, again.port)).data, SEED_RESPONSE);
});
