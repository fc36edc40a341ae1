/**
 * What the HTTP tests compare against: the modes, the loopback host, the seed's exact
 * response, and ways to assert and show bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ROOT } from './util.mjs';

/** The trigger modes meant for traffic (the CLI tests that are about modes only use these). */
export const MODES = ['et', 'lt'];
/**
 * Every integration test runs once per variant: each trigger mode on epoll, and the
 * level-triggered mode on the poll(2) and select(2) backends (edge triggering exists only
 * in epoll), and io_uring's completion engine. `label` names the variant in test titles; pass `mode` and `backend` to the
 * server. A new server test loops over this list and gets every backend.
 */
export const VARIANTS = [
  { mode: 'et', backend: 'epoll', label: 'mode et' },
  { mode: 'lt', backend: 'epoll', label: 'mode lt' },
  { mode: 'lt', backend: 'poll', label: 'mode lt, backend poll' },
  { mode: 'lt', backend: 'select', label: 'mode lt, backend select' },
  { mode: 'completion', backend: 'io_uring', label: 'backend io_uring' },
];
/** Tests listen on loopback only. */
export const HOST = '127.0.0.1';
/** The seed's response, byte for byte. */
export const SEED_RESPONSE = Buffer.from(
  'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\nContent-Type: text/plain\r\n' +
    'Content-Length: 13\r\n\r\nHello, world!',
  'latin1',
);
/** A plain HTTP/1.0 request. */
export const REQUEST = 'GET / HTTP/1.0\r\n\r\n';
/** The CLI entry point, built by `npm run build`. */
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** The 40 dashes the seed prints before each request. */
export const DASHES = '-'.repeat(40);

/** The seed's response with `body` instead of "Hello, world!" (same headers). */
export function responseFor(body) {
  const head =
    'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Hex SHA-256 of a buffer. */
export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

/** A short, readable rendering of bytes for assertion messages. */
export function show(buf, max = 200) {
  const s = JSON.stringify(buf.subarray(0, max).toString('latin1'));
  return buf.length > max ? `${s}... (${buf.length} bytes)` : s;
}

/** Asserts `got` is exactly `want`, with a readable message (no multi-megabyte diffs). */
export function assertBytes(got, want, what = 'response') {
  if (got.equals(want)) return;
  assert.fail(
    `${what}: got ${got.length} bytes (sha256 ${sha256(got).slice(0, 12)}) ${show(got)}, ` +
      `want ${want.length} bytes (sha256 ${sha256(want).slice(0, 12)}) ${show(want)}`,
  );
}

/** The process's soft limit on open files, from /proc/self/limits. */
export function maxOpenFiles() {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  assert.ok(m, 'no "Max open files" line in /proc/self/limits');
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}
