// The seed's two programs (examples/seed-lt.ts, examples/seed-et.ts) run as child processes
// and answer real clients: a raw node:net socket and the curl binary, byte for byte.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { DASHES, HOST, ROOT, SEED_RESPONSE, freePort } from '../lib/http.mjs';

const RESPONSE = SEED_RESPONSE;
const DEADLINE_MS = 10_000;

/** Sends one HTTP/1.0 request on a fresh connection and returns every byte until the server closes. */
function rawRequest(port, request = 'GET / HTTP/1.0\r\n\r\n') {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect({ host: HOST, port });
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks));
    });
  });
}

/** Runs curl as an HTTP/1.0 client; stdout is the header block as received (-D -) then the body. */
function curl(port) {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-s', '-0', '--max-time', '5', '-D', '-', '-o', '-', `http://${HOST}:${port}/`],
      { encoding: 'buffer' },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

/** Polls `condition` until it returns true or the deadline passes. */
async function waitFor(condition, what) {
  const deadline = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function count(haystack, needle) {
  return haystack.split(needle).length - 1;
}

for (const mode of ['lt', 'et']) {
  describe(`examples/seed-${mode}`, { timeout: 30_000 }, () => {
    let child;
    let port;
    let stdout = '';
    let stderr = '';
    let served = 0;

    before(async () => {
      port = await freePort();
      child = spawn(process.execPath, [`dist/examples/seed-${mode}.js`, HOST, String(port)], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.setEncoding('utf8').on('data', (s) => {
        stdout += s;
      });
      child.stderr.setEncoding('utf8').on('data', (s) => {
        stderr += s;
      });
      // Ready means it answers a whole request. A bare connect-then-close probe would not do:
      // an early-closing client is exactly what sends the seed's ET loop spinning forever.
      const deadline = Date.now() + DEADLINE_MS;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`seed-${mode} exited early (${child.exitCode ?? child.signalCode}): ${stderr}`);
        }
        try {
          assert.deepEqual(await rawRequest(port), RESPONSE);
          served++;
          break;
        } catch (err) {
          if (err.code !== 'ECONNREFUSED' || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });

    after(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
    });

    it("answers raw HTTP/1.0 requests with exactly the seed's bytes", async () => {
      for (let i = 0; i < 3; i++) {
        const got = await rawRequest(port);
        served++;
        assert.ok(got.equals(RESPONSE), `request ${i}: ${JSON.stringify(got.toString('latin1'))}`);
      }
    });

    it("answers curl -0 with exactly the seed's bytes", async () => {
      for (let i = 0; i < 3; i++) {
        const got = await curl(port);
        served++;
        assert.ok(got.equals(RESPONSE), `curl ${i}: ${JSON.stringify(got.toString('latin1'))}`);
      }
    });

    it('prints 40 dashes and each request without its last two characters', async () => {
      await waitFor(() => count(stdout, DASHES + '\n') >= served, `${served} printed requests`);
      assert.equal(count(stdout, DASHES + '\n'), served);
      // A bare request 'GET / HTTP/1.0\r\n\r\n' loses its final '\r\n'; console.log adds '\n'.
      assert.equal(count(stdout, `${DASHES}\nGET / HTTP/1.0\r\n\n`), served - 3);
      const curlBlocks = stdout.split(`${DASHES}\n`).filter((b) => b.includes('User-Agent: curl/'));
      assert.equal(curlBlocks.length, 3);
      for (const block of curlBlocks) {
        assert.match(block, /^GET \/ HTTP\/1\.0\r\nHost: 127\.0\.0\.1:\d+\r\n/);
        assert.ok(block.endsWith('Accept: */*\r\n\n'), JSON.stringify(block));
      }
      assert.equal(stderr, '');
    });

    it('ends on SIGINT (default action: the blocking loop cannot run a JS handler)', async () => {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      const [code, signal] = await exited;
      assert.equal(code, null);
      assert.equal(signal, 'SIGINT');
    });
  });
}
