/**
 * Properties of the chunked decoder, over bodies built from chunks (sizes in either case and
 * with leading zeros, extensions with BWS, tokens and quoted strings), a last chunk and a
 * trailer section, damaged by a few byte edits, and over random bytes. Seeds: test/lib/fuzz.mjs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ChunkedDecoder } from '../../dist/src/http/chunked.js';
import { check, cutFractions, cutsOf, damaged, fc } from '../lib/fuzz.mjs';

/** ChunkError: Malformed, TooLarge. */
const ERRORS = [400, 413];

const extension = fc.oneof(
  fc.constantFrom(';a', ';a=b', ' ; a = b', ';q="x \\" y"', ';a;b=1', ';\t a'),
  fc.stringMatching(/^;[a-z]{1,6}(=[a-z0-9]{1,6})?$/),
);
const chunk = fc.record({
  data: fc.uint8Array({ minLength: 1, maxLength: 24 }),
  zeros: fc.constantFrom('', '', '', '0', '000'),
  upper: fc.boolean(),
  ext: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, extension),
});
const trailer = fc.oneof(
  fc.constantFrom('Expires: 0', 'X-A:b', 'X-Empty:'),
  fc.stringMatching(/^[A-Za-z-]{1,8}: [ -~]{0,12}$/),
);
/** A valid body: its encoding, the data it decodes to, and its trailer-section bytes. */
const validBody = fc
  .record({
    chunks: fc.array(chunk, { maxLength: 5 }),
    last: fc.constantFrom('0', '00', '0;a=b'),
    trailers: fc.array(trailer, { maxLength: 3 }),
  })
  .map(({ chunks, last, trailers }) => {
    const parts = [];
    for (const { data, zeros, upper, ext } of chunks) {
      const size = data.length.toString(16);
      parts.push(
        Buffer.from(`${zeros}${upper ? size.toUpperCase() : size}${ext}\r\n`),
        Buffer.from(data),
        Buffer.from('\r\n'),
      );
    }
    const lines = trailers.map((l) => `${l}\r\n`).join('');
    parts.push(Buffer.from(`${last}\r\n${lines}\r\n`, 'latin1'));
    return {
      encoded: Buffer.concat(parts),
      data: Buffer.concat(chunks.map((c) => c.data)),
      trailerBytes: Buffer.byteLength(lines, 'latin1'),
    };
  });
/** What may follow a body on the connection: nothing, or the next request. */
const next = fc.constantFrom('', 'GET / HTTP/1.1\r\n\r\n');
const input = damaged(validBody.map((b) => b.encoded.toString('latin1')));

/** Feeds `buf` to a fresh decoder, in reads ending at `cuts`, as a connection does. */
function decode(buf, cuts = [buf.length], maxBody = 1 << 20, maxTrailer = 1 << 10) {
  const decoder = new ChunkedDecoder(maxBody, maxTrailer);
  const out = [];
  const sink = (b, s, e) => out.push(Buffer.from(b.subarray(s, e)));
  let pos = 0;
  let stop = pos;
  for (const to of cuts) {
    stop = decoder.feed(buf, pos, to, sink);
    assert.ok(stop === -1 || (stop >= pos && stop <= to), `feed(${pos}, ${to}) answered ${stop}`);
    if (stop < 0 || decoder.done) break;
    pos = to;
  }
  return { stop, done: decoder.done, error: decoder.error, total: decoder.total, data: Buffer.concat(out) };
}

test('any bytes: an offset in range or an error, never a throw', (t) => {
  check(
    t,
    fc.property(input, (buf) => {
      const r = decode(buf);
      if (r.stop < 0) assert.ok(ERRORS.includes(r.error), `error ${r.error}`);
      else assert.equal(r.error, 0);
      assert.ok(r.data.length <= r.total);
    }),
  );
});

test('fed in any pieces, the same bytes, end and error as fed whole', (t) => {
  check(
    t,
    fc.property(input, next, cutFractions, (body, after, fractions) => {
      const buf = Buffer.concat([body, Buffer.from(after, 'latin1')]);
      assert.deepEqual(decode(buf, cutsOf(buf.length, fractions)), decode(buf));
    }),
  );
});

test('a valid body decodes to its data and stops at its end', (t) => {
  check(
    t,
    fc.property(validBody, next, ({ encoded, data }, after) => {
      const r = decode(Buffer.concat([encoded, Buffer.from(after, 'latin1')]));
      assert.deepEqual(r, { stop: encoded.length, done: true, error: 0, total: data.length, data });
    }),
  );
});

test('the body and trailer limits refuse exactly what exceeds them', (t) => {
  const limit = fc.integer({ min: 0, max: 80 });
  check(
    t,
    fc.property(validBody, limit, limit, ({ encoded, data, trailerBytes }, maxBody, maxTrailer) => {
      const r = decode(encoded, [encoded.length], maxBody, maxTrailer);
      const want = data.length > maxBody ? 413 : trailerBytes > maxTrailer ? 400 : 0;
      assert.equal(r.error, want);
      assert.equal(r.done, want === 0);
    }),
  );
});
