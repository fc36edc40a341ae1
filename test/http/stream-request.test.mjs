/**
 * Streamed request bodies (`requestBody: 'stream'`, issue 20 item 3), in every server
 * variant: curl and Python's http.client upload with either framing and the handler's
 * hash matches; a handler that does not pull stops the server reading (backpressure); a
 * malformed or cut-short body is thrown from the iterator; an echo streams both ways; and
 * a 1 GiB upload raises a server process's RSS by less than 64 MiB.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ROOT, VARIANTS, Scope, connected, req, responsesFrom, run, statsReach, waitFor } from './helpers.mjs';

const dir = mkdtempSync(join(tmpdir(), 'etlt-upload-'));
const UPLOAD = join(dir, 'up.bin');
const UPLOAD_BYTES = randomBytes(8 << 20);
writeFileSync(UPLOAD, UPLOAD_BYTES);
const sha = (buf) => createHash('sha256').update(buf).digest('hex');

before(async () => {
  await run('true', []);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Hashes the streamed body; a body that fails is a 400 naming the error. */
async function hashing(r) {
  if (r.target === '/echo') return { body: r.stream() };
  const h = createHash('sha256');
  let n = 0;
  try {
    for await (const chunk of r.stream()) {
      h.update(chunk);
      n += chunk.length;
    }
  } catch (err) {
    return { status: 400, body: `${err.code ?? 'Error'}: ${err.message}` };
  }
  return { body: `${n} ${h.digest('hex')}` };
}

const PY_UPLOAD = `
import http.client, sys
def pieces():
    data = open(sys.argv[2], 'rb').read()
    for i in range(0, len(data), 100000):
        yield data[i:i + 100000]
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)
c.request('POST', '/', body=pieces(), encode_chunked=True)
print(c.getresponse().read().decode())
`;

for (const { mode, backend, label } of VARIANTS) {
  describe(`streamed request bodies, ${label}`, { timeout: 60_000 }, () => {
    test('curl (length and chunked), Python http.client (chunked) and an echo: byte for byte', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, requestBody: 'stream', handler: hashing });
      const want = `${UPLOAD_BYTES.length} ${sha(UPLOAD_BYTES)}`;
      const url = `http://127.0.0.1:${port}`;
      const plain = await run('curl', ['-s', '--max-time', '20', '--data-binary', `@${UPLOAD}`, `${url}/`]);
      assert.equal(plain.stdout, want);
      const chunked = await run('curl', [
        '-s',
        '--max-time',
        '20',
        '-T',
        UPLOAD,
        '-H',
        'Transfer-Encoding: chunked',
        `${url}/`,
      ]);
      assert.equal(chunked.stdout, want);
      const py = await run('python3', ['-c', PY_UPLOAD, String(port), UPLOAD], { timeout: 20_000 });
      assert.equal(py.stdout.trim(), want, py.stderr);
      const echo = await run('curl', ['-s', '--max-time', '20', '--data-binary', `@${UPLOAD}`, `${url}/echo`], {
        buffer: true,
      });
      assert.equal(sha(echo.stdout), sha(UPLOAD_BYTES), 'the echo streamed back');
    });

    test('a handler that does not pull: the server stops reading, and goes on when it does', async (t) => {
      const scope = new Scope(t);
      let go;
      const pulled = new Promise((r) => (go = r));
      const { server, port } = scope.server({
        mode,
        backend,
        requestBody: 'stream',
        handler: async (r) => {
          await pulled;
          return hashing(r);
        },
      });
      const c = await connected(scope, port);
      const body = Buffer.alloc(4 << 20, 7);
      c.socket.write(req('/', { method: 'PUT', body, length: true }));
      await statsReach(server, (s) => s.bytesIn > 64 * 1024, 'the first bytes');
      await new Promise((r) => setTimeout(r, 100));
      const held = server.stats().bytesIn;
      // Ours (64 KiB ahead) and one read of the shared buffer (64 KiB), beside the head.
      assert.ok(held <= 200 * 1024, `the server read ${held} bytes while nobody pulled`);
      go();
      const [res] = await responsesFrom(c, 1, { timeout: 15_000 });
      assert.equal(res.body.toString(), `${body.length} ${sha(body)}`);
    });

    test('a malformed chunked body, a cut-short one and one over the limit: errors, and the connection closes', async (t) => {
      const scope = new Scope(t);
      const aborts = [];
      const { port } = scope.server({
        mode,
        backend,
        requestBody: 'stream',
        maxStreamBodyBytes: 1000,
        handler: (r) => {
          r.signal.addEventListener('abort', () => aborts.push(r.signal.reason.why));
          assert.throws(() => r.body, TypeError);
          return hashing(r);
        },
      });
      const bad = await connected(scope, port);
      await bad.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\nZZ\r\n');
      const r1 = await bad.closedWithin(3000, 'the close after a malformed body');
      assert.match(r1.data.toString(), /^HTTP\/1\.1 400 [^]*malformed/);
      const big = await connected(scope, port);
      await big.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n');
      const r2 = await big.closedWithin(3000, 'the 413');
      assert.match(r2.data.toString(), /^HTTP\/1\.1 413 /);
      const cut = await connected(scope, port);
      await cut.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part');
      await waitFor(() => aborts.length === 0, { message: 'nothing aborted yet' });
      cut.end();
      await cut.closedWithin(3000, 'the close after a cut-short body');
      await waitFor(() => aborts.includes('peer-closed'), { timeout: 3000, message: 'the abort' });
    });
  });
}

const RSS_SERVER = `
import { HttpServer } from 'etlt';
const server = new HttpServer({
  host: '127.0.0.1', port: 0, requestBody: 'stream',
  handler: async (r) => {
    let n = 0;
    for await (const c of r.stream()) n += c.length;
    return { body: String(n) };
  },
});
const { port } = server.listen();
const rss = () => process.memoryUsage().rss;
const base = rss();
let peak = base;
setInterval(() => (peak = Math.max(peak, rss())), 20).unref();
process.stdout.write(port + '\\n');
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ base, peak }) + '\\n'); process.exit(0); });
`;

test('a 1 GiB streamed upload raises the server process RSS by less than 64 MiB', { timeout: 60_000 }, async (t) => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RSS_SERVER], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await waitFor(() => out.includes('\n'), { timeout: 5000, message: 'the server to start' });
  const port = Number(out.split('\n')[0]);
  const r = await run(
    'sh',
    ['-c', `head -c 1073741824 /dev/zero | curl -s --max-time 50 -T - -X POST http://127.0.0.1:${port}/`],
    { timeout: 55_000 },
  );
  assert.equal(r.stdout, String(2 ** 30));
  child.kill('SIGTERM');
  await waitFor(() => out.split('\n').length >= 3, { timeout: 5000, message: 'the figures' });
  const { base, peak } = JSON.parse(out.split('\n')[1]);
  assert.ok(peak - base < 64 << 20, `RSS grew by ${((peak - base) / 2 ** 20).toFixed(1)} MiB`);
});
