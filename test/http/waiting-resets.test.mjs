/**
 * Peers that go away while their handler is pending, every variant. epoll and poll report
 * an error or a hang-up whatever the interest; select(2) has no such bit, and a connection
 * waiting for its handler is watched for nothing, so on select a reset storm against a
 * slow handler held every fd until the answers came (200 resets left 222 fds, and a storm
 * reached FD_SETSIZE, after which every new connection was shed). And the other side of
 * it: a peer that half-closes or pipelines more while its handler runs must not make any
 * backend spin, and still gets its answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  VARIANTS,
  Scope,
  assertNoBusyLoop,
  connected,
  fdCount,
  req,
  responsesFrom,
  statsReach,
  waitFor,
} from './helpers.mjs';

/** A handler whose answers wait until `release()`; `count` requests have reached it. */
function slowHandler() {
  let release;
  const gate = new Promise((resolve) => {
    release = resolve;
  });
  const h = {
    count: 0,
    release: () => release(),
    handler: async (r) => {
      h.count++;
      await gate;
      return { body: `late ${r.target}` };
    },
  };
  return h;
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`peers that leave while their handler is pending, ${label}`, { timeout: 60_000 }, () => {
    test('a storm of 200 resets against a slow handler leaves no connection and no fd', async (t) => {
      const scope = new Scope(t);
      const slow = slowHandler();
      t.after(slow.release);
      const { server, port } = scope.server({ mode, backend, handler: slow.handler });
      const fds = fdCount();
      const total = 200;
      for (let round = 0; round < total / 50; round++) {
        const clients = await Promise.all(Array.from({ length: 50 }, () => connected(scope, port)));
        await Promise.all(clients.map((c) => c.write(req('/slow'))));
        await waitFor(() => slow.count === (round + 1) * 50, { message: 'the requests to reach the handler' });
        for (const c of clients) c.reset();
        await Promise.all(clients.map((c) => c.done));
      }
      // The handlers are all still pending: the connections must go without them.
      const s = await statsReach(server, (st) => st.open === 0, 'every reset connection to be let go');
      assert.equal(s.aborted, total, 'each reset connection ends as aborted');
      assert.equal(slow.count, total);
      await waitFor(() => fdCount() <= fds, { message: `this process's fds back to ${fds} (now ${fdCount()})` });
      // And the server still serves once the handlers answer into the void.
      slow.release();
      const c = await connected(scope, port);
      await c.write(req('/after'));
      const [res] = await responsesFrom(c, 1);
      assert.equal(res.body.toString(), 'late /after');
      c.destroy();
    });

    test('a peer that half-closes or pipelines more while its handler runs: no spin, every answer', async (t) => {
      const scope = new Scope(t);
      const slow = slowHandler();
      t.after(slow.release);
      const { server, port } = scope.server({ mode, backend, handler: slow.handler });
      const halfClosed = await connected(scope, port);
      await halfClosed.write(req('/a'));
      const pipelined = await connected(scope, port);
      await pipelined.write(req('/b'));
      await waitFor(() => slow.count === 2, { message: 'both requests to reach the handler' });
      halfClosed.end();
      await pipelined.write(req('/c'));
      await assertNoBusyLoop(server, { ms: 300, slack: 5 });
      assert.equal(server.stats().open, 2, 'neither peer reset: both wait for their answers');
      slow.release();
      const [a] = await responsesFrom(halfClosed, 1);
      assert.equal(a.body.toString(), 'late /a');
      const [b, c] = await responsesFrom(pipelined, 2);
      assert.deepEqual([b.body.toString(), c.body.toString()], ['late /b', 'late /c']);
      pipelined.destroy();
      await statsReach(server, (st) => st.open === 0, 'both connections to close');
    });
  });
}
