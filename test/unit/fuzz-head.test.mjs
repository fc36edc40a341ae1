/**
 * Properties of the request-head parser (scanHead, parseHead), over heads built from the
 * parts that steer it (methods, targets, versions, the framing fields and their odd values),
 * damaged by a few byte edits, and over random bytes. See test/lib/fuzz.mjs for seeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MAX_FIELDS, RequestHead, parseHead, scanHead } from '../../dist/src/http/parser.js';
import { ServerRequest, fieldOffsets } from '../../dist/src/http/request.js';
import { check, cutFractions, cutsOf, damaged, fc, usually } from '../lib/fuzz.mjs';

/** What scanHead may answer short of an end: HeadState Partial, Garbage, Invalid. */
const STATES = [0, -1, -2];
/** What parseHead may answer. */
const STATUSES = [0, 400, 431, 501, 505];
const TCHARS = "!#$%&'*+.^_`|~0-9A-Za-z-";

const token = (max) => fc.stringMatching(new RegExp(`^[${TCHARS}]{1,${max}}$`));

const method = fc.oneof(
  fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'get', 'M-SEARCH'),
  fc.stringMatching(/^[A-Z_-]{1,10}$/),
  token(4),
);
const target = fc.oneof(
  fc.constantFrom('/', '*', '/a/b?c=d#e', 'http://example.com/x', 'example.com:443', '/caf\xe9', '//', '/%2e%2e/'),
  fc.stringMatching(/^\/[!-~]{0,24}$/),
);
const version = usually(' HTTP/1.1', ' HTTP/1.0', '', ' HTTP/1.9', ' HTTP/2.0', ' http/1.1', ' HTTP/1.1 ');
/** The fields that frame a request or decide its connection, with the values that test them. */
const framingField = fc.oneof(
  fc.tuple(
    fc.constantFrom('Content-Length', 'content-length'),
    fc.constantFrom('5', '0', '5, 5', '5, 6', '007', '999999999999999', '1000000000000000', '-1', ''),
  ),
  fc.tuple(
    fc.constantFrom('Transfer-Encoding', 'transfer-encoding'),
    fc.constantFrom('chunked', 'CHUNKED', 'gzip, chunked', 'chunked, gzip', 'chunked;q=1', ', chunked,', 'x y'),
  ),
  fc.tuple(fc.constant('Connection'), fc.constantFrom('close', 'keep-alive', 'Upgrade, Keep-Alive', 'close,x')),
  fc.tuple(fc.constant('Expect'), fc.constantFrom('100-continue', '100-Continue', 'x-y')),
);
const anyField = fc.tuple(token(12), fc.stringMatching(/^[\t -~\x80-\xff]{0,24}$/));
const field = fc.tuple(fc.oneof(framingField, anyField), usually(': ', ':', ':\t', ' : '));
/** Heads as latin1 strings: mostly well-formed, with one Host most of the time. */
const shapedHead = fc
  .record({
    blank: usually('', '\r\n', '\n'),
    method,
    target,
    version,
    host: usually(['example.com'], [], ['[::1]:8080'], ['a b'], ['a', 'b']),
    fields: fc.array(field, { maxLength: 5 }),
    filler: usually(0, MAX_FIELDS - 2, MAX_FIELDS),
    eol: usually('\r\n', '\n'),
  })
  .map(({ blank, method, target, version, host, fields, filler, eol }) => {
    const lines = [`${method} ${target}${version}`];
    for (const h of host) lines.push(`Host: ${h}`);
    for (const [[n, v], s] of fields) lines.push(n + s + v);
    for (let k = 0; k < filler; k++) lines.push(`X-${k}: y`);
    return blank + lines.map((l) => l + eol).join('') + eol;
  });
const input = damaged(shapedHead);
/** Bytes before the head (an earlier request's) and after it (a pipelined one's). */
const around = fc.tuple(fc.uint8Array({ maxLength: 8 }), fc.constantFrom('', 'GET / HTTP/1.1\r\n\r\n', '\x00\xff'));

const head = new RequestHead();

/** scanHead's verdict on `buf[start, to)` and, for a complete head, parseHead's, as values. */
function parse(buf, start = 0, to = buf.length) {
  const end = scanHead(buf, start, start, to);
  if (end <= 0) return { end };
  const status = parseHead(buf, start, end, head);
  return { end: end - start, status, ...(status === 0 ? summary(buf, head) : {}) };
}

/** What a parsed head says, as strings and numbers independent of where it sat. */
function summary(buf, h) {
  const text = (a, b) => buf.toString('latin1', a, b);
  const fields = [];
  for (let k = 0; k < h.fieldCount; k++) {
    const [ns, ne, vs, ve] = h.fields.subarray(4 * k, 4 * k + 4);
    fields.push([text(ns, ne), text(vs, ve)]);
  }
  const { method, major, minor, framing, contentLength, close, keepAlive, hosts, expect } = h;
  const methodName = text(h.methodStart, h.methodEnd);
  const target = text(h.targetStart, h.targetEnd);
  return { method, methodName, target, major, minor, framing, contentLength, close, keepAlive, hosts, expect, fields };
}

function serialise(s) {
  const lines = [`${s.methodName} ${s.target} HTTP/${s.major}.${s.minor}`, ...s.fields.map(([n, v]) => `${n}: ${v}`)];
  return Buffer.from(lines.map((l) => `${l}\r\n`).join('') + '\r\n', 'latin1');
}

test('any bytes: a verdict in range, never a throw', (t) => {
  check(
    t,
    fc.property(input, (buf) => {
      const r = parse(buf);
      if (r.end <= 0) return assert.ok(STATES.includes(r.end), `scanHead answered ${r.end}`);
      assert.ok(r.end <= buf.length);
      assert.ok(STATUSES.includes(r.status), `parseHead answered ${r.status}`);
      if (r.status !== 0) return;
      assert.ok(head.methodStart < head.methodEnd && head.methodEnd < head.targetStart);
      assert.ok(head.targetStart < head.targetEnd && head.targetEnd <= r.end && head.fieldCount <= MAX_FIELDS);
      assert.ok(Number.isSafeInteger(r.contentLength) && r.contentLength >= 0);
    }),
  );
});

test('the same verdict wherever the head sits and whatever follows it', (t) => {
  check(
    t,
    fc.property(input, around, (buf, [before, after]) => {
      const whole = parse(buf);
      const big = Buffer.concat([before, buf, Buffer.from(after, 'latin1')]);
      assert.deepEqual(parse(big, before.length, before.length + buf.length), whole);
      if (whole.end !== 0) assert.deepEqual(parse(big, before.length), whole);
    }),
  );
});

test('read in any pieces, as a connection resumes it, the same end as read whole', (t) => {
  check(
    t,
    fc.property(input, cutFractions, (buf, fractions) => {
      const whole = scanHead(buf, 0, 0, buf.length);
      let scanned = 0;
      let r = 0;
      for (const to of cutsOf(buf.length, fractions)) {
        r = scanHead(buf, 0, scanned, to);
        if (r !== 0) break;
        scanned = to;
      }
      assert.equal(r, whole, `cut at ${cutsOf(buf.length, fractions).join(',')}`);
    }),
  );
});

test('a parsed head re-serialises to bytes that parse the same, and serialise the same', (t) => {
  check(
    t,
    fc.property(input, (buf) => {
      const first = parse(buf);
      if (first.status !== 0) return;
      const again = serialise(first);
      const second = parse(again);
      assert.equal(second.end, again.length, JSON.stringify(again.toString('latin1')));
      const { end: _a, ...a } = first;
      const { end: _b, ...b } = second;
      assert.deepEqual(b, a);
      assert.deepEqual(serialise(second), again);
    }),
  );
});

/** `buf` behind `before` in one buffer, its head scanned and parsed into `head`; null when it is no complete valid head. */
function parsedAfter(before, buf) {
  const big = Buffer.concat([before, buf]);
  const start = before.length;
  const end = scanHead(big, start, start, big.length);
  if (end <= 0 || parseHead(big, start, end, head) !== 0) return null;
  return { big, start, end };
}

test("a request's lazy field offsets (read from its head's text) are the parser's", (t) => {
  check(
    t,
    fc.property(input, around, (buf, [before]) => {
      const at = parsedAfter(before, buf);
      if (at === null) return;
      const { big, start, end } = at;
      const parsed = Array.from(head.fields.subarray(0, 4 * head.fieldCount), (o) => o - start);
      assert.deepEqual(Array.from(fieldOffsets(big.toString('latin1', start, end))), parsed);
    }),
  );
});

test("a request's header(name), looked up in its text, agrees with its headers object", (t) => {
  const link = { fd: -1, gone: true };
  check(
    t,
    fc.property(input, around, (buf, [before]) => {
      const at = parsedAfter(before, buf);
      if (at === null) return;
      const { big, start, end } = at;
      const all = new ServerRequest(link, big, head, start, end).headers;
      const names = [...Object.keys(all), 'absent', 'host', 'HOST', 'Content-Length', ''];
      for (const name of names) {
        const one = new ServerRequest(link, big, head, start, end);
        assert.equal(one.header(name), all[name.toLowerCase()], name);
        assert.equal(one.header(name.toUpperCase()), all[name.toLowerCase()], name);
      }
    }),
  );
});
