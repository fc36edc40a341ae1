/**
 * Slow readers of large responses, every variant, each download checked byte for byte.
 * A reader (Python, in its own process) takes 24 KiB every 50 ms: the kernel's buffers
 * take the first ~4 MB at once, and EPOLLOUT then comes back only once about a third of
 * the send buffer has drained, some 2.4 s later. The idle timeout (0.3 s here) counted only
 * the server's own sends and reset every such download (issue 18: curl --limit-rate 200k
 * of 16 MiB reset after 22 s, a reader of 8 KiB every 50 ms at 5.6 s). Now the send
 * timeout governs a connection with output pending, and the socket's send queue shrinking
 * counts as progress: with a send timeout (1.5 s) shorter than the gaps between the server's
 * sends, only the peer's progress keeps these downloads alive. A file under --root
 * (sendfile), a handler's body, and four pipelined responses with a fifth request after
 * them on the same connection (the keep-alive timeout waits while the kernel still
 * delivers). A reader that stops reading entirely is reset by the send timeout, not
 * before, and not by the idle timeout.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, parseResponses, req, run, sha256, show, statsReach } from './helpers.mjs';
import { pattern } from './static-fixture.mjs';

const MiB = 1024 * 1024;
/** Short idle and send timeouts, so that the old behaviour fails fast and the new one is proven. */
const TIMEOUTS = { idleTimeoutMs: 300, sendTimeoutMs: 1500, keepAliveTimeoutMs: 1000 };
let dir;
const FILE = pattern(8 * MiB, 3);
const BODY = pattern(8 * MiB, 5);
const PIECE = pattern(MiB, 7);

/**
 * The slow reader: connects, sends argv[2] (hex), reads `chunk` bytes every `interval`
 * seconds until EOF; after `then_after` complete responses it sends argv[6] (hex), once.
 * Writes what it read to stdout; on stderr a JSON line: the error (errno name) if any.
 */
const READER = `
import errno, json, socket, sys, time
port, first, chunk, interval, then_after, then = int(sys.argv[1]), bytes.fromhex(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), bytes.fromhex(sys.argv[6])
s = socket.create_connection(('127.0.0.1', port))
s.sendall(first)
data = bytearray()
err = None
def complete(buf):
    n, at = 0, 0
    while True:
        end = buf.find(b'\\r\\n\\r\\n', at)
        if end < 0: return n
        head = bytes(buf[at:end]).lower()
        i = head.find(b'content-length: ')
        length = int(head[i + 16:].split(b'\\r\\n')[0]) if i >= 0 else 0
        if len(buf) < end + 4 + length: return n
        n, at = n + 1, end + 4 + length
try:
    while True:
        b = s.recv(chunk)
        if not b: break
        data += b
        if then_after > 0 and complete(data) >= then_after:
            s.sendall(then)
            then_after = 0
        time.sleep(interval)
except OSError as e:
    err = errno.errorcode.get(e.errno, str(e))
sys.stdout.buffer.write(data)
sys.stderr.write(json.dumps({'error': err}))
`;

/** Runs the slow reader against `port`; resolves with { data, error }. */
async function slowRead(port, request, { chunk = 24 * 1024, interval = 0.05, thenAfter = 0, then = '' } = {}) {
  const r = await run(
    'python3',
    [
      '-c',
      READER,
      String(port),
      Buffer.from(request).toString('hex'),
      String(chunk),
      String(interval),
      String(thenAfter),
      Buffer.from(then).toString('hex'),
    ],
    { timeout: 90_000, buffer: true },
  );
  assert.equal(r.code, 0, `the reader failed: ${r.stderr}`);
  return { data: r.stdout, error: JSON.parse(r.stderr).error };
}

/** Asserts `data` is exactly the responses of `bodies` (status 200, in order), nothing more. */
function assertBodies(data, bodies, what) {
  const { responses, rest, error } = parseResponses(data);
  assert.equal(error, null, `${what}: ${error}`);
  assert.equal(
    responses.length,
    bodies.length,
    `${what}: ${responses.length} of ${bodies.length} responses in ${data.length} bytes; ` +
      `the last part: ${show(rest)}`,
  );
  responses.forEach((res, i) => {
    assert.equal(res.status, 200, `${what}: response ${i}`);
    assert.equal(res.body.length, bodies[i].length, `${what}: response ${i}'s body length`);
    assert.equal(sha256(res.body), sha256(bodies[i]), `${what}: response ${i}'s body`);
  });
  assert.equal(rest.length, 0, `${what}: bytes after the last response`);
}

before(async () => {
  await run('true', []);
  dir = mkdtempSync(join(tmpdir(), 'etlt-slow-'));
  const fd = openSync(join(dir, 'big.bin'), 'w');
  writeSync(fd, FILE);
  closeSync(fd);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The three slow downloads against one variant; each resolves or rejects naming itself. */
function downloads(scope, { mode, backend, label }) {
  const named = (what, p) =>
    p.catch((err) => {
      err.message = `${label}, ${what}: ${err.message}`;
      throw err;
    });
  const file = async () => {
    const { server, port } = scope.server({ mode, backend, root: dir, ...TIMEOUTS });
    const r = await slowRead(port, req('/big.bin', { headers: [['Connection', 'close']] }));
    assert.equal(r.error, null);
    assertBodies(r.data, [FILE], 'the file');
    const s = await statsReach(server, (st) => st.open === 0, 'the connection to close');
    assert.equal(s.timedOut + s.aborted, 0);
    assert.ok(s.sendAgain > 0, 'the send blocked (otherwise this tested nothing)');
  };
  const body = async () => {
    const { server, port } = scope.server({ mode, backend, handler: () => ({ body: BODY }), ...TIMEOUTS });
    const r = await slowRead(port, req('/body', { headers: [['Connection', 'close']] }));
    assert.equal(r.error, null);
    assertBodies(r.data, [BODY], 'the body');
    const s = await statsReach(server, (st) => st.open === 0, 'the connection to close');
    assert.equal(s.timedOut + s.aborted, 0);
    assert.ok(s.sendAgain > 0, 'the send blocked (otherwise this tested nothing)');
  };
  const pipelined = async () => {
    const { server, port } = scope.server({ mode, backend, handler: () => ({ body: PIECE }), ...TIMEOUTS });
    const four = Buffer.concat(['/1', '/2', '/3', '/4'].map((p) => req(p)));
    const r = await slowRead(port, four, { thenAfter: 4, then: req('/5', { headers: [['Connection', 'close']] }) });
    assert.equal(r.error, null);
    assertBodies(r.data, [PIECE, PIECE, PIECE, PIECE, PIECE], 'the five responses');
    const s = await statsReach(server, (st) => st.open === 0, 'the connection to close');
    assert.equal(s.timedOut + s.aborted + s.keepAliveTimeouts, 0);
    assert.equal(s.responses, 5);
  };
  return [
    named('a file under root (sendfile)', file()),
    named("a handler's 8 MiB body", body()),
    named('four pipelined 1 MiB responses, then a fifth request', pipelined()),
  ];
}

test(
  'slow readers, every variant at once: a file under root, a handler body, four pipelined responses and a fifth',
  { timeout: 120_000 },
  async (t) => {
    // All twelve downloads at once (each takes ~18 s, mostly the reader's sleeps), in one
    // scope: its fd check after the test needs every connection of the test gone.
    const scope = new Scope(t);
    const results = await Promise.allSettled(VARIANTS.flatMap((v) => downloads(scope, v)));
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
    assert.deepEqual(failed, [], `${failed.length} of ${results.length} downloads failed`);
  },
);

for (const { mode, backend, label } of VARIANTS) {
  describe(`a reader that stops, ${label}`, { timeout: 30_000 }, () => {
    test('it is reset by the send timeout, not before and not by the idle timeout', async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend, root: dir, ...TIMEOUTS });
      const c = await connected(scope, port, { paused: true });
      await c.write(req('/big.bin'));
      await statsReach(server, (s) => s.sendAgain > 0, 'the send to block');
      const blockedAt = performance.now();
      const s = await statsReach(server, (st) => st.open === 0, 'the send timeout to close it', 10_000);
      const elapsed = performance.now() - blockedAt;
      assert.equal(s.sendTimeouts, 1, 'closed by the send timeout');
      assert.equal(s.timedOut, 1, 'a send timeout is a timeout');
      assert.ok(
        elapsed >= 1400,
        `closed ${elapsed.toFixed(0)} ms after the send blocked: before the 1.5 s send timeout`,
      );
      assert.ok(elapsed <= 6000, `closed ${elapsed.toFixed(0)} ms after the send blocked, long after the timeout`);
      // Reset, not closed: the kernel dropped what was queued for a peer that took nothing
      // (the peer reads what its own buffer held, then an end: Linux reports the reset as
      // EOF once the receive queue is read).
      c.socket.resume();
      const r = await c.closedWithin(5000);
      assert.ok(
        r.data.length < s.bytesOut - MiB,
        `the client got ${r.data.length} of the ${s.bytesOut} bytes sent: the queued ones were not dropped`,
      );
    });
  });
}

test('sendTimeoutMs is checked like the other timeouts', async () => {
  const { HttpServer } = await import('etlt');
  assert.throws(
    () => new HttpServer({ sendTimeoutMs: 0 }),
    (e) => e instanceof RangeError && /sendTimeoutMs/.test(e.message),
  );
  assert.throws(
    () => new HttpServer({ sendTimeoutMs: '60' }),
    (e) => e instanceof TypeError && /sendTimeoutMs/.test(e.message),
  );
  assert.throws(() => new HttpServer({ sendTimeout: 60 }), /sendTimeoutMs/);
});
