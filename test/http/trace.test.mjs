/**
 * Per-connection records: what each connection cost, from accept to close, in both modes,
 * checked against what a real client did to it.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { HttpServer, EPOLLIN } from 'etlt';

function request(port, pieces) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const sock = connect({ host: '127.0.0.1', port });
    sock.on('connect', async () => {
      for (const [i, p] of pieces.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20)); // the client's pace
        sock.write(p);
      }
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => resolve(Buffer.concat(chunks)));
    sock.on('error', reject);
  });
}

async function until(cond, ms = 3000) {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const mode of ['et', 'lt', 'seed-lt']) {
  test(`connection records count each connection's own syscalls (${mode})`, async () => {
    const server = new HttpServer({ mode, host: '127.0.0.1', port: 0, traceConnections: 2, eagerRead: false });
    const waits = [];
    server.setRecorder((events, n) => waits.push(n));
    const { port } = server.listen();
    try {
      const one = await request(port, ['GET / HTTP/1.0\r\n\r\n']);
      const two = await request(port, ['GET / HT', 'TP/1.0\r\nHost: x\r\n', '\r\n']);
      await request(port, ['GET / HTTP/1.0\r\n\r\n']);
      assert.match(one.toString(), /Hello, world!$/);
      assert.match(two.toString(), /Hello, world!$/);
      await until(() => server.connectionRecords().length === 2 && server.stats().open === 0);
      const [a, b] = server.connectionRecords();
      assert.equal(server.connectionRecords().length, 2, 'only the first N are kept');
      for (const r of [a, b]) {
        assert.equal(r.outcome, 'done');
        assert.equal(r.bytesOut, 114);
        assert.ok(r.durationMs >= 0 && r.acceptedMs >= 0);
        assert.ok(r.events >= 1 && r.useless <= r.events);
        assert.ok(r.send >= 1);
      }
      assert.equal(a.bytesIn, 18);
      assert.equal(b.bytesIn, 'GET / HTTP/1.0\r\nHost: x\r\n\r\n'.length);
      // Three pieces 20 ms apart: at least three reads, and as many events.
      assert.ok(b.recv >= 3 && b.events >= 3, `split request: ${JSON.stringify(b)}`);
      // The seed's pattern modifies twice (to EPOLLOUT, then to nothing); etlt's at most once.
      if (mode === 'seed-lt') assert.equal(a.interestChanges, 3);
      else assert.equal(a.interestChanges, 1);
      const s = server.stats();
      assert.equal(s.interestAdds + s.interestMods + s.interestDels >= a.interestChanges + b.interestChanges, true);
      assert.ok(waits.length > 0 && EPOLLIN === 1);
    } finally {
      await server.close();
    }
  });
}
