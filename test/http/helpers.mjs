/**
 * Helpers for the HTTP/1.1 tests in test/http: request builders, a response-stream parser
 * (status, fields, bodies by Content-Length, HEAD responses, interim 100s), raw clients that
 * wait for N responses, and waiting on a server's counters. Everything a test starts still
 * goes through its Scope (test/lib/http.mjs).
 */
import assert from 'node:assert/strict';

import { show, statsReach, waitFor } from '../lib/http.mjs';
import { seeded } from '../../dist/src/lab/persistent.js';

export * from '../lib/http.mjs';

/** RFC 9110 section 5.6.7 IMF-fixdate, as sent in Date. */
export const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

/**
 * An HTTP/1.1 request (Host included unless `host: null`): `headers` an object or a list of
 * [name, value] pairs (sent in order, repeats allowed), `body` sent as is after the head;
 * with `length: true` a Content-Length for the body is added.
 */
export function req(
  target = '/',
  { method = 'GET', version = '1.1', host = 'localhost', headers = [], body = '', length = false } = {},
) {
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  let head = `${method} ${target} HTTP/${version}\r\n`;
  if (host !== null) head += `Host: ${host}\r\n`;
  for (const [name, value] of pairs) head += `${name}: ${value}\r\n`;
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1');
  if (length) head += `Content-Length: ${b.length}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), b]);
}

/** A chunked encoding of `parts` (strings or Buffers), each one chunk, then the last chunk. */
export function chunked(parts, { trailer = '' } = {}) {
  const out = [];
  for (const p of parts) {
    const b = Buffer.isBuffer(p) ? p : Buffer.from(p, 'latin1');
    if (b.length === 0) continue;
    out.push(Buffer.from(`${b.length.toString(16)}\r\n`, 'latin1'), b, Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`0\r\n${trailer}\r\n`, 'latin1'));
  return Buffer.concat(out);
}

/**
 * Parses a stream of responses. `isHead(i)` says whether the i-th final response answers a
 * HEAD (no body whatever its Content-Length). Returns { responses, rest, error }: each
 * response { status, version, reason, headers (lower-case names, repeats joined by ', '),
 * fields (raw [name, value] list), body, raw, interim (100s before it) }; `rest` the bytes
 * after the last complete one; `error` a description when the bytes are not HTTP.
 */
export function parseResponses(buf, { isHead = () => false } = {}) {
  const responses = [];
  let pos = 0;
  let interim = [];
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', pos, 'latin1');
    if (end < 0) break;
    const text = buf.toString('latin1', pos, end);
    const lines = text.split('\r\n');
    const m = /^HTTP\/(1\.[01]) (\d{3}) (.*)$/.exec(lines[0]);
    if (!m)
      return { responses, rest: buf.subarray(pos), error: `not a status line at ${pos}: ${show(buf.subarray(pos))}` };
    const headers = {};
    const fields = [];
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) return { responses, rest: buf.subarray(pos), error: `bad field line ${JSON.stringify(line)}` };
      const name = line.slice(0, i).toLowerCase();
      const value = line.slice(i + 1).trim();
      fields.push([line.slice(0, i), value]);
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(m[2]);
    const headStart = pos;
    let bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      interim.push({ status, raw: buf.subarray(headStart, bodyStart) });
      pos = bodyStart;
      continue;
    }
    const bodiless = isHead(responses.length) || status === 204 || status === 304;
    const len = bodiless ? 0 : Number(headers['content-length'] ?? NaN);
    if (!Number.isInteger(len)) {
      return { responses, rest: buf.subarray(pos), error: `response ${responses.length} has no usable Content-Length` };
    }
    if (bodyStart + len > buf.length) break;
    responses.push({
      status,
      version: m[1],
      reason: m[3],
      headers,
      fields,
      body: buf.subarray(bodyStart, bodyStart + len),
      raw: buf.subarray(headStart, bodyStart + len),
      interim,
    });
    interim = [];
    pos = bodyStart + len;
  }
  return { responses, rest: buf.subarray(pos), error: null };
}

/** Parses `buf` as exactly the responses in it, nothing left over; fails otherwise. */
export function responsesIn(buf, options) {
  const r = parseResponses(buf, options);
  assert.equal(r.error, null, r.error ?? '');
  assert.equal(r.rest.length, 0, `bytes after the last complete response: ${show(r.rest)}`);
  return r.responses;
}

/** Waits until `client` has received at least `n` complete responses; returns them. */
export async function responsesFrom(client, n, { timeout = 5000, isHead } = {}) {
  let last;
  try {
    await waitFor(
      () => {
        last = parseResponses(client.data, { isHead });
        if (last.error) throw new Error(last.error);
        return last.responses.length >= n || (client.closed && last.responses.length < n && 'closed');
      },
      { timeout, interval: 2, message: `${n} responses` },
    );
  } catch (err) {
    err.message += `; got ${last?.responses.length ?? 0}: ${show(client.data, 400)}`;
    throw err;
  }
  assert.ok(
    last.responses.length >= n,
    `the connection closed after ${last.responses.length} of ${n} responses: ${show(client.data, 400)}`,
  );
  return last.responses;
}

/** A connected raw client of the scope. */
export async function connected(scope, port, options) {
  const c = scope.client(port, options);
  await c.connect();
  return c;
}

/** Waits until the server has read `n` more bytes than `before` (its bytesIn). */
export async function serverRead(server, before, n, what = 'the bytes sent') {
  await statsReach(server, (s) => s.bytesIn >= before + n, `the server to read ${what}`);
}

/**
 * Sends `request` on a fresh connection and expects exactly one error response with
 * `status`, `Connection: close`, then the server's FIN (never a reset), and nothing more.
 */
export async function expectRefused(scope, port, request, status, what = show(Buffer.from(request))) {
  const c = await connected(scope, port);
  await c.write(request);
  const r = await c.closedWithin(5000, `the server to close after ${what}`);
  const rs = responsesIn(r.data);
  assert.equal(rs.length, 1, `${what}: want one response, got ${rs.length}: ${show(r.data, 400)}`);
  assert.equal(rs[0].status, status, `${what}: ${show(r.data)}`);
  assert.equal(rs[0].headers.connection, 'close', `${what}: the refusal says Connection: close`);
  assert.equal(r.code, null, `${what}: closed cleanly, not ${r.code}`);
  assert.ok(r.ended, `${what}: the server's FIN arrived`);
  return rs[0];
}

/** The well-formed fixed 200 of an HTTP/1.1 persistent exchange. */
export function assertOk11(res, { body = 'Hello, world!', close = false, what = 'response' } = {}) {
  assert.equal(res.version, '1.1', `${what}: version`);
  assert.equal(res.status, 200, `${what}: status`);
  assert.equal(res.reason, 'OK', `${what}: reason`);
  assert.match(res.headers.date ?? '', IMF_FIXDATE, `${what}: Date is an IMF-fixdate`);
  const age = Math.abs(Date.parse(res.headers.date) - Date.now());
  assert.ok(age < 5000, `${what}: Date is current (${res.headers.date})`);
  assert.equal(res.headers['content-type'], 'text/plain', `${what}: Content-Type`);
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)), `${what}: Content-Length`);
  assert.equal(res.body.toString('latin1'), body, `${what}: body`);
  if (close) assert.equal(res.headers.connection, 'close', `${what}: Connection: close`);
  else assert.equal(res.headers.connection, undefined, `${what}: no Connection field on a persistent 1.1 response`);
}

/** Seeded PRNG (the lab's mulberry32) for reproducible random bytes and splits. */
export const prng = seeded;

/**
 * Counts responses on a long stream without keeping it: feed it every chunk; it keeps only
 * the bytes of the response in progress. `onResponse(res, index)` sees each one (its body
 * valid only during the call).
 */
export class ResponseCounter {
  constructor(onResponse = () => {}) {
    this.count = 0;
    this.bytes = 0;
    this.pending = Buffer.alloc(0);
    this.error = null;
    this.onResponse = onResponse;
  }

  /** Attaches to a raw client's socket ('data' events). */
  attach(client) {
    client.socket.on('data', (d) => this.feed(d));
    return this;
  }

  feed(chunk) {
    this.bytes += chunk.length;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const r = parseResponses(this.pending);
    if (r.error && this.error === null) this.error = r.error;
    for (const res of r.responses) this.onResponse(res, this.count++);
    this.pending = Buffer.from(r.rest);
  }
}
