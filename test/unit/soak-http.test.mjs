/**
 * The soak's own HTTP client (scripts/soak/http.mjs) over made-up bytes: chunked responses
 * are framed and decoded, a wrong byte, a wrong framing or a malformed chunk is caught,
 * and a request body written chunked or by its length decodes back to what was meant.
 * And the soak app's answers (scripts/soak/app.mjs) are what its clients expect.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import soakApp, { FIXED_BODY, eventsText, streamBytes, uploadAnswer } from '../../scripts/soak/app.mjs';
import { dechunk, mismatch, parseResponses, sha256, spec } from '../../scripts/soak/http.mjs';

const chunkedResponse = (parts, extra = '') =>
  Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked${extra}\r\n\r\n`),
    ...parts.map((p) => Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')])),
    Buffer.from('0\r\n\r\n'),
  ]);

test('a chunked response is framed, decoded and checked; a pipelined one behind it too', () => {
  const body = streamBytes(100_000);
  const want = spec({ target: '/stream/100000', body, chunked: true });
  const wire = Buffer.concat([
    chunkedResponse([body.subarray(0, 7), body.subarray(7, 70_000), body.subarray(70_000)]),
    Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'),
  ]);
  const next = spec({ target: '/x', body: Buffer.from('abc'), chunked: false });
  // Byte by byte up to the end: never a response before it is all in.
  for (const cut of [10, 60, 70_050, wire.length - 4])
    assert.ok(parseResponses(wire.subarray(0, cut), [want, next]).responses.length <= 1, `cut ${cut}`);
  const { responses, used } = parseResponses(wire, [want, next]);
  assert.equal(used, wire.length);
  assert.equal(mismatch(want, responses[0]), null);
  assert.equal(mismatch(next, responses[1]), null);
  // A wrong byte, and the wrong framing, are each caught.
  const bad = Buffer.from(body);
  bad[50_000] ^= 1;
  assert.equal(
    mismatch(want, parseResponses(chunkedResponse([bad]), [want]).responses[0]),
    'body bytes differ (sha256)',
  );
  assert.match(mismatch(next, parseResponses(chunkedResponse([Buffer.from('abc')]), [next]).responses[0]), /^chunked/);
  assert.match(mismatch(want, responses[1]), /want chunked|^3 body bytes/);
});

test('a malformed chunk, or Transfer-Encoding beside Content-Length, is an error, not a response', () => {
  const want = spec({ target: '/s', body: Buffer.from('abc') });
  assert.throws(
    () => parseResponses(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), [want]),
    {
      message: /not a chunk size line/,
    },
  );
  assert.throws(() => dechunk(Buffer.from('3\r\nabcX\r\n0\r\n\r\n'), 0), { message: /not followed by CRLF/ });
  assert.throws(() => parseResponses(chunkedResponse([Buffer.from('abc')], '\r\nContent-Length: 3'), [want]), {
    message: /Transfer-Encoding chunked, Content-Length 3/,
  });
  // Trailer fields are read past.
  const trailed = Buffer.from('3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nrest');
  assert.deepEqual(dechunk(trailed, 0), { body: Buffer.from('abc'), end: trailed.length - 4 });
});

test('a request body written by its length or chunked decodes back to its bytes', () => {
  const content = streamBytes(70_001, 12_345);
  for (const chunks of [undefined, [1, 9], [70_000]]) {
    const s = spec({ method: 'POST', target: '/upload', body: Buffer.alloc(0), content, chunks });
    const headEnd = s.bytes.indexOf('\r\n\r\n') + 4;
    const head = s.bytes.subarray(0, headEnd).toString('latin1');
    if (chunks === undefined) {
      assert.match(head, /\r\nContent-Length: 70001\r\n/);
      assert.ok(s.bytes.subarray(headEnd).equals(content));
    } else {
      assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/);
      const got = dechunk(s.bytes, headEnd);
      assert.ok(got.body.equals(content));
      assert.equal(got.end, s.bytes.length);
    }
  }
});

test('the soak app: its download, events and upload answers are the bytes its clients expect', async () => {
  const signal = new AbortController().signal;
  const read = async (body) => {
    const parts = [];
    for await (const c of body) parts.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
    return Buffer.concat(parts);
  };
  for (const n of [0, 1, 65_521, 200_000]) {
    const r = soakApp({ method: 'GET', target: `/stream/${n}`, signal });
    assert.ok((await read(r.body)).equals(streamBytes(n)), `stream ${n}`);
  }
  // Offsets wrap the pattern: any slice of a long stream is the same bytes from that offset.
  assert.ok(streamBytes(100, 65_500).equals(streamBytes(65_600).subarray(65_500)));
  assert.equal(soakApp({ method: 'GET', target: '/stream/5?length', signal }).headers['content-length'], '5');
  const ev = soakApp({ method: 'GET', target: '/events/7', signal });
  assert.equal((await read(ev.body)).toString(), eventsText(7));
  assert.equal((eventsText(7).match(/\n\n/g) ?? []).length, 7);
  const content = streamBytes(1000, 3);
  const up = await soakApp({
    method: 'POST',
    target: '/upload',
    signal,
    stream: () => [content.subarray(0, 10), content.subarray(10)],
  });
  assert.equal(up.body, uploadAnswer(1000, sha256(content)));
  assert.equal(soakApp({ method: 'GET', target: '/anything', signal }).body, FIXED_BODY);
  assert.equal(soakApp({ method: 'GET', target: `/stream/${2 ** 31}`, signal }).status, 404);
});
