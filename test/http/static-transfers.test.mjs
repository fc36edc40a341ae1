/**
 * Large files under backpressure, both trigger modes. In this process (the Scope checks
 * that no fd is left): a file that shrinks while it is sent, a download aborted midway, a
 * reader that stops until the idle timeout. Against `etlt serve --root` (its own process,
 * measured through /proc): a slow reader of 64 MiB (flat RSS, no CPU while it does not
 * read), 100 concurrent downloads checked byte for byte, and aborted downloads leaving no
 * fd behind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, writeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { HOST, VARIANTS, Scope, connected, req, run, startCli, statsReach, waitFor } from './helpers.mjs';
import { pattern } from './static-fixture.mjs';

const MiB = 1024 * 1024;
let dir;
/** name -> sha256 hex of the files made below. */
const sums = {};

/** Writes `mib` MiB: a 1 MiB pattern, each copy stamped with its index (an offset error shows). */
function bigFile(name, mib) {
  const block = pattern(MiB, mib);
  const hash = createHash('sha256');
  const fd = openSync(join(dir, name), 'w');
  for (let i = 0; i < mib; i++) {
    block.writeUInt32BE(i, 0);
    writeSync(fd, block);
    hash.update(block);
  }
  closeSync(fd);
  sums[name] = hash.digest('hex');
}

before(async () => {
  await run('true', []);
  dir = mkdtempSync(join(tmpdir(), 'etlt-static-big-'));
  bigFile('64m.bin', 64);
  bigFile('1m.bin', 1);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** utime + stime of a process, in clock ticks (100 per second), and its RSS in bytes. */
function usage(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { ticks: Number(f[11]) + Number(f[12]), rss: Number(f[21]) * 4096 };
}

function fds(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The head of a response in `buf`, parsed, and where its body starts; null while incomplete. */
function headOf(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const text = buf.toString('latin1', 0, end);
  return {
    status: Number(text.slice(9, 12)),
    length: Number(/content-length: (\d+)/i.exec(text)?.[1]),
    start: end + 4,
  };
}

for (const { mode, backend, label } of VARIANTS) {
  describe(`static transfers, ${label}`, { timeout: 120_000 }, () => {
    test('a file that shrinks while it is sent ends the connection short of the promised length', async (t) => {
      const scope = new Scope(t);
      const own = mkdtempSync(join(tmpdir(), 'etlt-shrink-'));
      t.after(() => rmSync(own, { recursive: true, force: true }));
      const fd = openSync(join(own, 'f.bin'), 'w');
      for (let i = 0; i < 16; i++) writeSync(fd, pattern(MiB, i));
      closeSync(fd);
      const { server, port } = scope.server({ mode, backend, root: own });
      const c = await connected(scope, port, { paused: true });
      await c.write(req('/f.bin'));
      // Sent what the socket takes, then blocked: the reader is not reading.
      await statsReach(server, (s) => s.sendAgain > 0 && s.bytesOut > 0, 'the send to block');
      truncateSync(join(own, 'f.bin'), MiB);
      c.socket.resume();
      const r = await c.closedWithin(10_000, 'the server to end the connection');
      const head = headOf(r.data);
      assert.equal(head.status, 200);
      assert.equal(head.length, 16 * MiB);
      assert.ok(r.data.length - head.start < 16 * MiB, `got ${r.data.length - head.start} bytes of the body`);
      await statsReach(server, (s) => s.aborted === 1 && s.open === 0, 'the connection counted as aborted');
    });

    test('a reader that stops: closed at the send timeout, its file with it', async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend, root: dir, idleTimeoutMs: 300, sendTimeoutMs: 300 });
      const c = await connected(scope, port, { paused: true });
      await c.write(req('/64m.bin'));
      await statsReach(server, (s) => s.sendTimeouts === 1 && s.open === 0, 'the send timeout to close it');
    });

    test('downloads aborted midway (reset and FIN) leave no fd in this process', async (t) => {
      const scope = new Scope(t);
      const { server, port } = scope.server({ mode, backend, root: dir });
      for (let i = 0; i < 6; i++) {
        const c = await connected(scope, port);
        await c.write(req('/64m.bin'));
        await waitFor(() => c.received > 256 * 1024, { timeout: 5000, message: 'some of the body' });
        if (i % 2 === 0) c.reset();
        else c.destroy();
      }
      await statsReach(server, (s) => s.open === 0, 'every aborted download closed');
    });

    test('etlt serve --root: a slow reader of 64 MiB costs no RSS and no CPU while it does not read', async (t) => {
      const scope = new Scope(t);
      const cli = await startCli(scope, mode, ['--backend', backend, '--root', dir, '-q', '--idle-timeout', '30']);
      const pid = cli.child.pid;
      assert.match(cli.stdout, new RegExp(`serving the files of ${dir} on`));
      const before = usage(pid);
      const sock = net.connect({ host: HOST, port: cli.port });
      t.after(() => sock.destroy());
      sock.pause();
      await new Promise((resolve) => sock.once('connect', resolve));
      sock.write(req('/64m.bin'));
      // Wait until the server has filled the socket buffers and stopped: its CPU time stands still.
      let last = usage(pid).ticks;
      await waitFor(
        () => {
          const now = usage(pid).ticks;
          const still = now === last;
          last = now;
          return still;
        },
        { timeout: 10_000, interval: 200, message: 'the server to go quiet' },
      );
      const stalled = usage(pid);
      const t0 = performance.now();
      await waitFor(() => performance.now() - t0 >= 1000, { timeout: 2000, interval: 50, message: 'one second' });
      const later = usage(pid);
      assert.ok(
        later.ticks - stalled.ticks <= 10,
        `CPU while the reader does not read: ${later.ticks - stalled.ticks} ticks/s`,
      );
      assert.ok(later.rss - before.rss < 24 * MiB, `RSS grew by ${((later.rss - before.rss) / MiB).toFixed(1)} MiB`);
      // Now read it all, slowly at first: 32 KiB at a time.
      const hash = createHash('sha256');
      let head = null;
      let buf = Buffer.alloc(0);
      let body = 0;
      sock.on('data', (d) => {
        if (head === null) {
          buf = Buffer.concat([buf, d]);
          head = headOf(buf);
          if (head === null) return;
          d = buf.subarray(head.start);
        }
        hash.update(d);
        body += d.length;
      });
      sock.resume();
      await waitFor(() => head !== null && body >= head.length, { timeout: 30_000, message: 'the whole body' });
      assert.equal(head.status, 200);
      assert.equal(body, 64 * MiB);
      assert.equal(hash.digest('hex'), sums['64m.bin']);
      assert.ok(usage(pid).rss - before.rss < 32 * MiB, 'RSS after the transfer');
      await cli.stop();
    });

    test('etlt serve --root: 100 concurrent downloads, byte for byte; aborted ones leave no fd', async (t) => {
      const scope = new Scope(t);
      const cli = await startCli(scope, mode, ['--backend', backend, '--root', dir, '-q']);
      const pid = cli.child.pid;
      const baseline = fds(pid);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
      t.after(() => agent.destroy());
      const fetchOne = (i) =>
        new Promise((resolve, reject) => {
          const headers = i % 4 === 3 ? { Range: `bytes=${i * 1000}-${i * 1000 + 65535}` } : {};
          http
            .get({ host: HOST, port: cli.port, path: '/1m.bin', agent, headers }, (res) => {
              const hash = createHash('sha256');
              let n = 0;
              res.on('data', (d) => {
                hash.update(d);
                n += d.length;
              });
              res.on('end', () => resolve({ i, status: res.statusCode, n, sum: hash.digest('hex') }));
              res.on('error', reject);
            })
            .on('error', reject);
        });
      const whole = readFileSync(join(dir, '1m.bin'));
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => fetchOne(i)));
      for (const r of results) {
        if (r.i % 4 === 3) {
          const want = createHash('sha256')
            .update(whole.subarray(r.i * 1000, r.i * 1000 + 65536))
            .digest('hex');
          assert.deepEqual([r.status, r.n, r.sum], [206, 65536, want], `download ${r.i}`);
        } else {
          assert.deepEqual([r.status, r.n, r.sum], [200, MiB, sums['1m.bin']], `download ${r.i}`);
        }
      }
      agent.destroy();
      // Aborted mid-transfer: 20 readers of 64 MiB go away after their first bytes.
      const socks = [];
      for (let i = 0; i < 20; i++) {
        const s = net.connect({ host: HOST, port: cli.port });
        s.on('error', () => {});
        socks.push(s);
        s.write(req('/64m.bin'));
      }
      await Promise.all(socks.map((s) => new Promise((resolve) => s.once('data', resolve))));
      for (const [i, s] of socks.entries()) {
        if (i % 2 === 0) s.resetAndDestroy();
        else s.destroy();
      }
      await waitFor(() => fds(pid) <= baseline, {
        timeout: 10_000,
        interval: 20,
        message: `the server's fds back to ${baseline} (now ${fds(pid)})`,
      });
      await cli.stop();
    });
  });
}
