/**
 * examples/echo.ts, the server HTTP conformance suites expect, in both modes: every method
 * answered 200 with its own body, Content-Length and chunked bodies alike, through curl and
 * Python's http.client over one kept-alive connection; SIGTERM stops it gracefully.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { HOST, MODES, ROOT, Scope, freePort, run, waitFor } from '../lib/http.mjs';

const ECHO = join(ROOT, 'dist', 'examples', 'echo.js');

before(async () => {
  await run('true', []);
});

for (const mode of MODES) {
  describe(`examples/echo, mode ${mode}`, { timeout: 30_000 }, () => {
    test('echoes every method and both framings; stops on SIGTERM', async (t) => {
      const scope = new Scope(t);
      const port = await freePort();
      const child = scope.child(spawn(process.execPath, [ECHO, HOST, String(port), mode], { cwd: ROOT }));
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      await waitFor(() => out.includes('serving on'), { timeout: 5000, message: 'the start line' });
      assert.ok(out.includes(`(mode ${mode})`), out);
      const url = `http://${HOST}:${port}/path?q=1`;
      const put = await run('curl', [
        '-s',
        '-X',
        'PUT',
        '--data-binary',
        'hello there',
        '-H',
        'Content-Type: text/x',
        url,
      ]);
      assert.equal(put.stdout, 'hello there');
      const chunked = await run('curl', ['-s', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'in chunks', url]);
      assert.equal(chunked.stdout, 'in chunks');
      const py = await run('python3', [
        '-c',
        [
          'import http.client, sys',
          'c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)',
          'for m, b in [("POST", b"one"), ("PATCH", b"two"), ("DELETE", b""), ("GET", None)]:',
          '    c.request(m, "/x", body=b)',
          '    r = c.getresponse()',
          '    print(r.status, r.getheader("X-Echo-Method"), r.read().decode())',
          'c.close()',
        ].join('\n'),
        String(port),
      ]);
      assert.equal(py.code, 0, py.stderr);
      assert.equal(py.stdout, '200 POST one\n200 PATCH two\n200 DELETE \n200 GET \n');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
      await waitFor(() => out.includes('SIGTERM: closed'), { timeout: 2000, message: 'the closing line' });
    });
  });
}
