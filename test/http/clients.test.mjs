/**
 * Real clients nobody here wrote, both trigger modes, each reusing its connections: curl
 * with several URLs (and bodies, chunked, 100-continue), Python's http.client on one
 * HTTPConnection, Node's fetch (undici), `ab -k`, wrk, and wrk pipelining 16 requests per
 * write (bench/pipeline.lua). Each checks the answers and, from the server's counters, that
 * connections were reused.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { HOST, ROOT, Scope, ab, run, statsReach, wrk, VARIANTS } from './helpers.mjs';

before(async () => {
  await run('true', []);
});

/** Echoes method, target and body length; the body itself back. */
function echo(r) {
  return {
    headers: { 'X-Echo': `${r.method} ${r.target} ${r.body.length}`, 'X-TE': r.headers['transfer-encoding'] ?? '-' },
    body: r.body.length > 0 ? r.body : `${r.method} ${r.target}`,
  };
}

/** Runs `python3 -c code port` and parses its JSON output. */
async function python(code, port) {
  const r = await run('python3', ['-c', code, String(port)], { timeout: 15_000 });
  assert.equal(r.code, 0, `python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const PY_CLIENT = `
import http.client, json, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=5)
out = []
def go(method, path, body=None, headers={}):
    c.request(method, path, body=body, headers=headers, encode_chunked='Transfer-Encoding' in headers)
    r = c.getresponse()
    data = r.read()
    out.append({'status': r.status, 'version': r.version, 'body': data.decode('latin1'), 'len': r.getheader('Content-Length'), 'sock': id(c.sock), 'echo': r.getheader('X-Echo')})
go('GET', '/one')
go('POST', '/two', body=b'x' * 70000)
go('HEAD', '/three')
go('PUT', '/four', body=iter([b'ab', b'cd', b'ef']), headers={'Transfer-Encoding': 'chunked'})
go('GET', '/five')
c.close()
print(json.dumps(out))
`;

for (const { mode, backend, label } of VARIANTS) {
  describe(`real clients, ${label}`, { timeout: 120_000 }, () => {
    test(
      'curl: several URLs on one connection, with bodies, chunked and 100-continue',
      { timeout: 20_000 },
      async (t) => {
        const scope = new Scope(t);
        const fixed = scope.server({ mode, backend });
        const url = (p, port = fixed.port) => `http://${HOST}:${port}${p}`;
        let r = await run('curl', [
          '-v',
          '-s',
          '-S',
          '--noproxy',
          '*',
          '--max-time',
          '5',
          url('/a'),
          url('/b'),
          url('/c'),
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'Hello, world!'.repeat(3));
        assert.equal((r.stderr.match(/Re-using existing connection/g) ?? []).length, 2, r.stderr);
        await statsReach(
          fixed.server,
          (s) => s.open === 0 && s.requests === 3 && s.connections === 1,
          'three requests on one connection',
        );
        const big = 'q'.repeat(300_000);
        const file = join(tmpdir(), `etlt-curl-${process.pid}-${mode}-${backend}.txt`);
        writeFileSync(file, big);
        t.after(() => rmSync(file, { force: true }));
        // 100-continue to the fixed response, then another URL: curl sends its body only after a
        // 100; had it skipped it, the next request would be read as that body.
        r = await run('curl', [
          '-v',
          '-s',
          '-S',
          '--noproxy',
          '*',
          '--max-time',
          '5',
          '-H',
          'Expect: 100-continue',
          '--data-binary',
          `@${file}`,
          url('/d'),
          '--next',
          url('/e'),
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'Hello, world!'.repeat(2));
        assert.doesNotMatch(r.stderr, /Connection died/, r.stderr);
        assert.match(r.stderr, /Re-using existing connection/, r.stderr);
        const s = await statsReach(fixed.server, (st) => st.open === 0 && st.requests === 5, 'five requests');
        assert.equal(s.connections, 2, 'the 100-continue exchange and the next URL on one connection');
        assert.equal(s.timedOut, 0);
        const handled = scope.server({ mode, backend, handler: echo });
        r = await run('curl', [
          '-v',
          '-s',
          '-S',
          '--noproxy',
          '*',
          '--max-time',
          '5',
          '--data-binary',
          'hello',
          url('/post', handled.port),
          '--next',
          '-H',
          'Transfer-Encoding: chunked',
          '--data-binary',
          'chunky',
          url('/chunked', handled.port),
          '--next',
          '-H',
          'Expect: 100-continue',
          '--data-binary',
          `@${file}`,
          url('/expect', handled.port),
          '--next',
          '-I',
          url('/head', handled.port),
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.startsWith(`hellochunky${big}HTTP/1.1 200 OK\r\n`), r.stdout.slice(0, 200));
        assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/, 'curl saw the 100 Continue');
        assert.match(r.stderr, /< X-TE: chunked/);
        assert.match(r.stdout, /X-Echo: HEAD \/head 0/);
        assert.equal((r.stderr.match(/Re-using existing connection/g) ?? []).length, 3, r.stderr);
        await statsReach(
          handled.server,
          (s) => s.open === 0 && s.requests === 4 && s.connections === 1,
          'four requests on one connection',
        );
      },
    );

    test(
      "Python's http.client reuses one HTTPConnection: GET, POST, HEAD, chunked PUT, GET",
      { timeout: 20_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({ mode, backend, handler: echo });
        const out = await python(PY_CLIENT, port);
        assert.deepEqual(
          out.map((x) => [x.status, x.version, x.echo]),
          [
            [200, 11, 'GET /one 0'],
            [200, 11, 'POST /two 70000'],
            [200, 11, 'HEAD /three 0'],
            [200, 11, 'PUT /four 6'],
            [200, 11, 'GET /five 0'],
          ],
        );
        assert.equal(out[1].body, 'x'.repeat(70000));
        assert.equal(out[2].body, '');
        assert.equal(out[2].len, String('HEAD /three'.length), "HEAD's Content-Length is GET's");
        assert.equal(out[3].body, 'abcdef');
        assert.equal(new Set(out.map((x) => x.sock)).size, 1, 'one socket throughout');
        await statsReach(
          server,
          (s) => s.open === 0 && s.connections === 1 && s.requests === 5,
          'one connection, five requests',
        );
      },
    );

    test("Node's fetch keeps connections alive; bodies by length and streamed", { timeout: 20_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend, handler: echo, keepAliveTimeoutMs: 200 });
      const base = `http://${HOST}:${port}`;
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${base}/n${i}`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), `GET /n${i}`);
      }
      let res = await fetch(`${base}/post`, { method: 'POST', body: 'payload' });
      assert.equal(await res.text(), 'payload');
      const stream = new ReadableStream({
        start(controller) {
          for (const part of ['str', 'eam', 'ed']) controller.enqueue(new TextEncoder().encode(part));
          controller.close();
        },
      });
      res = await fetch(`${base}/stream`, { method: 'POST', body: stream, duplex: 'half' });
      assert.equal(res.headers.get('x-te'), 'chunked');
      assert.equal(await res.text(), 'streamed');
      // Concurrent fetches: responses reach the right callers.
      const many = await Promise.all(
        Array.from({ length: 20 }, (_, i) => fetch(`${base}/c${i}`).then((r) => r.text())),
      );
      assert.deepEqual(
        many,
        Array.from({ length: 20 }, (_, i) => `GET /c${i}`),
      );
      const s = await statsReach(server, (st) => st.requests === 32, 'all requests');
      assert.ok(s.connections < 32, `${s.connections} connections for 32 requests: fetch reused none`);
      // The short keep-alive timeout closes undici's idle sockets, so the scope sees none open.
      await statsReach(server, (st) => st.open === 0, 'the keep-alive timeout to close fetch idle sockets');
    });

    test(
      'fetch across maxRequests closes and handler 500s: every answer right, no request lost',
      { timeout: 20_000 },
      async (t) => {
        const scope = new Scope(t);
        const { server, port } = scope.server({
          mode,
          backend,
          maxRequests: 3,
          keepAliveTimeoutMs: 200,
          handler: (r) => {
            if (r.target.endsWith('/fail')) throw new Error('planned');
            return { body: r.target };
          },
        });
        const got = [];
        for (let i = 0; i < 20; i++) {
          const path = i % 7 === 3 ? `/${i}/fail` : `/${i}`;
          const res = await fetch(`http://${HOST}:${port}${path}`, {
            method: i % 2 ? 'POST' : 'GET',
            body: i % 2 ? `b${i}` : undefined,
          });
          got.push([res.status, await res.text()]);
        }
        const want = Array.from({ length: 20 }, (_, i) =>
          i % 7 === 3 ? [500, '500 Internal Server Error\n'] : [200, `/${i}`],
        );
        assert.deepEqual(got, want);
        const s = await statsReach(server, (st) => st.open === 0, 'all closed');
        assert.equal(s.requests, 20);
        assert.ok(s.connections >= 7, `${s.connections} connections: maxRequests 3 and the 500s close`);
      },
    );

    test('ab -k: every request answered on kept-alive connections', { timeout: 40_000 }, async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend });
      const r = await ab(port, { n: 5000, c: 10, extra: ['-k'] });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.complete, 5000, r.stdout);
      assert.equal(r.failed, 0, r.stdout);
      const ka = Number(/Keep-Alive requests:\s+(\d+)/.exec(r.stdout)?.[1]);
      assert.equal(ka, 5000, r.stdout);
      const s = await statsReach(server, (st) => st.open === 0, 'ab to close');
      assert.ok(s.connections <= 20, `${s.connections} connections for 5000 keep-alive requests`);
      assert.equal(s.responses, 5000);
    });

    test(
      'wrk (keep-alive) and wrk pipelining 16 requests per write: no errors, few sends',
      { timeout: 40_000 },
      async (t) => {
        const scope = new Scope(t);
        // maxRequests out of reach first (one connection each), then the default (closes every 1000).
        const { server, port } = scope.server({ mode, backend, maxRequests: 1e9 });
        let r = await wrk(port, ['-t1', '-c10', '-d1s']);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.requests > 100, r.stdout);
        assert.deepEqual(r.errors, { connect: 0, read: 0, write: 0, timeout: 0 }, r.stdout);
        assert.equal(r.non2xx, 0);
        let s = await statsReach(server, (st) => st.open === 0, 'wrk to close');
        // wrk tries the address once at start (a connection closed at once), then keeps its 10.
        assert.ok(s.connections <= 11, `one connection each: ${JSON.stringify(s)}`);
        const pipelined = scope.server({ mode, backend });
        const before = pipelined.server.stats();
        // pipeline.lua's depth defaults to 16 (the helper puts the URL last, so no '-- 16').
        r = await wrk(pipelined.port, ['-t1', '-c4', '-d1s', '-s', join(ROOT, 'bench', 'pipeline.lua')]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.errors, { connect: 0, read: 0, write: 0, timeout: 0 }, r.stdout);
        assert.equal(r.non2xx, 0);
        s = await statsReach(pipelined.server, (st) => st.open === 0, 'wrk to close');
        assert.ok(s.connections > 4, 'maxRequests closed connections under pipelining, and wrk saw no error');
        const requests = s.requests - before.requests;
        assert.ok(requests >= r.requests, `server answered ${requests}, wrk counted ${r.requests}`);
        const perRequest = (s.send - before.send) / requests;
        assert.ok(perRequest < 0.25, `${perRequest.toFixed(3)} sends per pipelined request`);
      },
    );
  });
}
