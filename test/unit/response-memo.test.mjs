/**
 * The server remembers its last handler answer's framing (src/http/responses.ts) and
 * reuses it for the next answer like it. Whatever the sequence of answers (shared header
 * objects changed in place between answers, new literals, other statuses, versions, HEAD,
 * another Date, bodies small and large), each must be framed byte for byte as a server
 * with no memory would frame it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { frameResponse } from '../../dist/src/http/exchange-answer.js';
import { ResponseMemo } from '../../dist/src/http/responses.js';

const SHARED = [{ 'content-type': 'text/plain' }, { 'content-type': 'application/json', 'x-a': 1 }, {}];
const BODIES = ['Hello, world!', 'Hello, world?', 'héllo', '', 'x'.repeat(20000), null, undefined];
const DATES = ['Mon, 07 Dec 2026 21:00:00 GMT', 'Mon, 07 Dec 2026 21:00:01 GMT'];

const step = fc.record({
  status: fc.constantFrom(undefined, 200, 201, 204, 304, 404),
  headers: fc.oneof(
    fc.constantFrom(0, 1, 2).map((i) => ({ shared: i })),
    fc.constantFrom(
      { literal: { 'content-type': 'text/plain' } },
      { literal: { 'Content-Type': 'text/plain', Connection: 'close' } },
      { literal: { date: 'Sun, 06 Nov 1994 08:49:37 GMT' } },
      { literal: { 'set-cookie': ['a=1', 'b=2'] } },
      { literal: undefined },
    ),
  ),
  mutate: fc.option(
    fc.record({
      which: fc.constantFrom(0, 1, 2),
      name: fc.constantFrom('content-type', 'x-a', 'x-b', 'connection'),
      value: fc.constantFrom('text/html', 'close', 2, undefined),
    }),
  ),
  body: fc.constantFrom(...BODIES.keys()),
  http11: fc.boolean(),
  persistence: fc.constantFrom(0, 1, 2),
  head: fc.boolean(),
  date: fc.constantFrom(...DATES),
});

function bytes(framed) {
  const body = framed.body === null ? '' : Buffer.from(framed.body).toString('latin1');
  return `${Buffer.from(framed.first).toString('latin1')}|${body}|${framed.closes}`;
}

test('a remembered answer is framed exactly as a fresh one', () => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
      const shared = SHARED.map((h) => ({ ...h }));
      const memo = new ResponseMemo();
      for (const s of steps) {
        if (s.mutate !== null) {
          const target = shared[s.mutate.which];
          if (s.mutate.value === undefined) delete target[s.mutate.name];
          else target[s.mutate.name] = s.mutate.value;
        }
        const headers = 'shared' in s.headers ? shared[s.headers.shared] : s.headers.literal;
        const res = { status: s.status, headers, body: BODIES[s.body] };
        const args = [res, s.http11, s.persistence, s.head, s.date];
        assert.equal(bytes(frameResponse(...args, memo)), bytes(frameResponse(...args, new ResponseMemo())));
      }
    }),
    { numRuns: 300 },
  );
});

test('the same answer again is the same shared buffer, not a new one', () => {
  const memo = new ResponseMemo();
  const answer = () => ({ headers: { 'content-type': 'text/plain' }, body: 'Hello, world!' });
  const a = frameResponse(answer(), true, 2, false, DATES[0], memo);
  const b = frameResponse(answer(), true, 2, false, DATES[0], memo);
  assert.equal(a.first, b.first);
  const c = frameResponse(answer(), true, 2, false, DATES[1], memo);
  assert.notEqual(c.first, b.first);
  assert.match(Buffer.from(c.first).toString('latin1'), /Date: Mon, 07 Dec 2026 21:00:01 GMT\r\n/);
});
