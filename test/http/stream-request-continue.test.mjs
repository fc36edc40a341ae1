/**
 * `Expect: 100-continue` with `requestBody: 'stream'`: the handler runs at the head and
 * waits for the body, which a client that expects 100 Continue sends only after it. The
 * interim response must leave while the handler waits (an async handler is the common
 * case: `for await (const chunk of req.stream())`), or neither side ever moves.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { VARIANTS, Scope, connected, req, responsesFrom, run, waitFor } from './helpers.mjs';

before(async () => {
  await run('true', []);
});

/** An async handler that reads the streamed body whole and echoes it. */
async function echo(r) {
  const parts = [];
  for await (const chunk of r.stream()) parts.push(chunk);
  return { body: Buffer.concat(parts) };
}

const PY_EXPECT = `
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)
s.sendall(b'POST /up HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nExpect: 100-continue\\r\\nConnection: close\\r\\n\\r\\n')
interim = s.recv(25)
print(interim.split(b'\\r\\n')[0].decode())
s.sendall(b'hello')
out = b''
while True:
    d = s.recv(65536)
    if not d: break
    out += d
print(out.split(b'\\r\\n')[0].decode(), out.split(b'\\r\\n\\r\\n', 1)[1].decode())
`;

for (const { mode, backend, label } of VARIANTS) {
  describe(`100 Continue before a streamed body, ${label}`, { timeout: 30_000 }, () => {
    test('an async handler waiting for the body: 100 Continue goes out, then the body, then the answer', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, requestBody: 'stream', handler: echo });
      const c = await connected(scope, port);
      await c.write(req('/up', { method: 'POST', headers: { 'content-length': 5, expect: '100-continue' } }));
      await waitFor(() => c.data.includes('100 Continue'), { timeout: 3000, message: '100 Continue' });
      await c.write('hello');
      const [res] = await responsesFrom(c, 1);
      assert.deepEqual(
        res.interim.map((i) => i.status),
        [100],
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'hello');
    });

    test('Python, which waits for the 100 before it sends the body', async (t) => {
      const scope = new Scope(t);
      const { port } = scope.server({ mode, backend, requestBody: 'stream', handler: echo });
      const { stdout } = await run('python3', ['-c', PY_EXPECT, String(port)], { timeout: 8000 });
      assert.equal(stdout.trim(), 'HTTP/1.1 100 Continue\nHTTP/1.1 200 OK hello');
    });
  });
}
