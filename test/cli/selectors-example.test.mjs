// examples/selectors-echo.ts, the echo server of Python's selectors docs, on each selector:
// it runs as a child process (port 0, never a fixed one) and echoes to Python's socket
// client and to node:net, several connections at once; the test kills it at the end.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { HOST, ROOT } from '../lib/http.mjs';
import { waitFor } from '../lib/util.mjs';

/** Python's own client: connect, send, read the echo, close. */
function pythonEcho(port, text) {
  const code = [
    'import socket, sys',
    `s = socket.create_connection(("${HOST}", ${port}), timeout=5)`,
    's.sendall(sys.argv[1].encode())',
    'got = b""',
    'while len(got) < len(sys.argv[1]):',
    '    got += s.recv(1000)',
    's.close()',
    'sys.stdout.write(got.decode())',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile('python3', ['-I', '-c', code, text], { timeout: 10_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
}

/** A node:net connection that sends `text` and resolves with the echo once it is all back. */
function netEcho(port, text) {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = net.connect({ host: HOST, port });
    socket.setTimeout(5000, () => socket.destroy(new Error('echo timed out')));
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(text));
    socket.on('data', (s) => {
      got += s;
      if (got.length >= text.length) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

for (const kind of ['epoll', 'poll', 'select']) {
  describe(`examples/selectors-echo on ${kind}`, { timeout: 30_000 }, () => {
    let child;
    let port;
    let stdout = '';

    before(async () => {
      child = spawn(process.execPath, ['dist/examples/selectors-echo.js', HOST, '0', kind], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.setEncoding('utf8').on('data', (s) => {
        stdout += s;
      });
      const m = await waitFor(() => /listening on \["[^"]+",(\d+)\] with (\w+)/.exec(stdout), {
        timeout: 10_000,
        message: 'the example to listen',
      });
      assert.equal(m[2], kind);
      port = Number(m[1]);
    });

    after(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    });

    it("echoes to Python's socket client", async () => {
      assert.equal(await pythonEcho(port, 'hello from python'), 'hello from python');
    });

    it('echoes to several node:net connections at once, and logs each close', async () => {
      const texts = Array.from({ length: 5 }, (_, i) => `message ${i} `.repeat(20));
      assert.deepEqual(await Promise.all(texts.map((t) => netEcho(port, t))), texts);
      await waitFor(() => (stdout.match(/^closing /gm) ?? []).length >= 6, { timeout: 5000, message: 'six closes' });
      assert.equal((stdout.match(/^accepted /gm) ?? []).length, 6);
    });
  });
}
