/**
 * An HttpServer that never listened, or whose listen() failed, holds no fd: its epoll set is
 * made on first use. Dropped, nothing is closed on collection and no ETLT_CLOSED_ON_GC
 * warning is printed (the CLI printed one after a bind error once the epoll backend sat on
 * the Python-faithful Epoll and made its set with the server).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const PROGRAM = `
import { readdirSync } from 'node:fs';
import { HttpServer } from './dist/src/index.js';
const fds = () => readdirSync('/proc/self/fd').length;
const warnings = [];
process.on('warning', (w) => warnings.push(w.code));
const before = fds();
for (let i = 0; i < 50; i++) {
  const never = new HttpServer({ host: '127.0.0.1', port: 0 });
  const failed = new HttpServer({ host: '192.0.2.1', port: 0 });
  try { failed.listen(); } catch {}
}
const held = fds();
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
console.log(JSON.stringify({ before, held, after: fds(), warnings }));
`;

test('servers that never listened hold no fd, and their collection warns of nothing', () => {
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROGRAM], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const { before, held, after, warnings } = JSON.parse(r.stdout);
  assert.ok(held <= before + 2, `100 servers that never listened hold no fds (${before} -> ${held})`);
  assert.ok(after <= before + 2, `nothing left after collection (${before} -> ${held} -> ${after})`);
  assert.deepEqual(warnings, [], "no ETLT_CLOSED_ON_GC warning for the library's own fds");
});
