/**
 * Table tests of the request-head parser (scanHead, parseHead) and the chunked decoder,
 * called directly on bytes. The decoder is fed each body in one piece and byte by byte: the
 * two must give the same bytes, the same end and the same error.
 *
 * tsc inlines const enums, so the compiled module exports no HeadState, Method, Framing,
 * Expect or ChunkError objects: their numeric values (from src/http/parser.ts and
 * src/http/chunked.ts) are spelled out here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ChunkedDecoder } from '../../dist/src/http/chunked.js';
import { RequestHead, parseHead, scanHead } from '../../dist/src/http/parser.js';

/** HeadState */
const PARTIAL = 0;
const GARBAGE = -1;
/** HeadState.Invalid: a bare CR or a control byte in a text head (400). */
const INVALID = -2;
/** Method */
const M = { Other: 0, GET: 1, HEAD: 2, POST: 3, PUT: 4, DELETE: 5, OPTIONS: 6, PATCH: 7, TRACE: 8, CONNECT: 9 };
/** Framing */
const NONE = 0;
const LENGTH = 1;
const CHUNKED = 2;
/** Expect */
const CONTINUE = 1;
const EXPECT_OTHER = 2;
/** ChunkError */
const MALFORMED = 400;
const TOO_LARGE = 413;

const bytes = (s) => Buffer.from(s, 'latin1');

describe('scanHead', () => {
  const H = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
  /** The whole input is the head. */
  const ALL = 'all';
  /** [name, input, expected: an end offset, ALL, or a HeadState] */
  const TABLE = [
    ['CRLF head', H, ALL],
    ['LF head', 'GET / HTTP/1.0\n\n', ALL],
    ['LF then CRLF', 'GET / HTTP/1.0\nHost: a\n\r\n', ALL],
    ['stops at the first head of two', H + H, H.length],
    ['empty lines before the request line are not its end', `\r\n\n${H}`, ALL],
    ['only empty lines', '\r\n\r\n', PARTIAL],
    ['no empty line yet', 'GET / HTTP/1.1\r\nHost: a\r\n', PARTIAL],
    ['a CR last: maybe a CRLF', 'GET / HTTP/1.1\r', PARTIAL],
    ['bare CR', 'GET / HTTP/1.1\rHost: a\r\n\r\n', INVALID],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n', INVALID],
    ['binary first byte', '\x16\x03\x01\x00', GARBAGE],
    ['obs-text first byte', '\xc3GET / HTTP/1.1\r\n\r\n', GARBAGE],
    ['NUL in a value', 'GET / HTTP/1.1\r\nX: a\x00\r\n\r\n', INVALID],
    ['DEL in a value: a control byte in a text head, 400', 'GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n', INVALID],
    ['HTAB is fine', 'GET / HTTP/1.1\r\nX: a\tb\r\n\r\n', ALL],
    ['obs-text in a value is fine', 'GET / HTTP/1.1\r\nX: caf\xe9\r\n\r\n', ALL],
  ];
  for (const [name, input, want] of TABLE) {
    test(name, () => {
      const buf = bytes(input);
      assert.equal(scanHead(buf, 0, 0, buf.length), want === ALL ? buf.length : want);
    });
  }

  test('resumes where an earlier scan stopped, the end marker split anywhere', () => {
    for (const input of [H, 'GET / HTTP/1.0\n\n', 'GET / HTTP/1.0\nHost: a\n\r\n', `\r\n${H}`]) {
      const buf = bytes(input);
      const want = scanHead(buf, 0, 0, buf.length);
      for (let split = 1; split < buf.length; split++) {
        assert.equal(scanHead(buf, 0, 0, split), PARTIAL, `${JSON.stringify(input)} cut at ${split}`);
        assert.equal(scanHead(buf, 0, split, buf.length), want, `${JSON.stringify(input)} resumed at ${split}`);
      }
    }
  });

  test('a byte no method has is Garbage however the reads fall (found by fuzz-head)', () => {
    for (const input of ['!!!\x7f', 'GET\x80 / HTTP/1.1\r\nHost: a\r\n\r\n']) {
      const buf = bytes(input);
      assert.equal(scanHead(buf, 0, 0, buf.length), GARBAGE);
      for (let split = 1; split < buf.length; split++) {
        assert.equal(scanHead(buf, 0, split, buf.length), GARBAGE, `${JSON.stringify(input)} resumed at ${split}`);
      }
    }
  });

  test('a head that starts past the buffer start', () => {
    const buf = bytes(`xxxx${H}`);
    assert.equal(scanHead(buf, 4, 4, buf.length), buf.length);
  });
});

describe('parseHead', () => {
  const head = new RequestHead();
  const parse = (input) => {
    const buf = bytes(input);
    const end = scanHead(buf, 0, 0, buf.length);
    assert.ok(end > 0, `no complete head in ${JSON.stringify(input)}: ${end}`);
    return parseHead(buf, 0, end, head);
  };
  const P = (fields) => `POST / HTTP/1.1\r\nHost: a\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;
  /** [name, head, status, what the RequestHead then says (checked when status is 0)] */
  const TABLE = [
    [
      'GET',
      'GET /x?y HTTP/1.1\r\nHost: a\r\n\r\n',
      0,
      { method: M.GET, target: '/x?y', major: 1, minor: 1, framing: NONE, hosts: 1, fieldCount: 1 },
    ],
    ['HTTP/1.0 needs no Host', 'HEAD / HTTP/1.0\r\n\r\n', 0, { method: M.HEAD, minor: 0, hosts: 0, fieldCount: 0 }],
    ['no version: read as 1.0', 'GET /x\r\n\r\n', 0, { method: M.GET, target: '/x', major: 1, minor: 0 }],
    ['HTTP/1.9 is answered as 1.1', 'GET / HTTP/1.9\r\nHost: a\r\n\r\n', 0, { minor: 9, http11: true }],
    ['an unknown method is Other', 'FOO * HTTP/1.1\r\nHost: a\r\n\r\n', 0, { method: M.Other, target: '*' }],
    ['CONNECT authority-form', 'CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n', 0, { method: M.CONNECT, target: 'a:443' }],
    ['absolute-form', 'OPTIONS http://a/ HTTP/1.1\r\nHost: a\r\n\r\n', 0, { method: M.OPTIONS, target: 'http://a/' }],
    ['empty lines first', '\r\n\nDELETE /d HTTP/1.1\r\nHost: a\r\n\r\n', 0, { method: M.DELETE, target: '/d' }],
    ['Content-Length', P(['Content-Length: 5']), 0, { method: M.POST, framing: LENGTH, contentLength: 5 }],
    ['Content-Length 0 is no body', P(['Content-Length: 0']), 0, { framing: NONE, contentLength: 0 }],
    ['Content-Length, OWS trimmed', P(['Content-Length: \t 7 \t']), 0, { framing: LENGTH, contentLength: 7 }],
    [
      'Content-Length, leading zeros past 15 digits',
      P(['Content-Length: 00000000000000000005']),
      0,
      { framing: LENGTH, contentLength: 5 },
    ],
    ['Content-Length, 15 digits', P(['Content-Length: 999999999999999']), 0, { contentLength: 999999999999999 }],
    ['Content-Length, 16 digits', P(['Content-Length: 1000000000000000']), 400],
    ['Content-Length twice, equal', P(['Content-Length: 5', 'Content-Length: 5']), 0, { contentLength: 5 }],
    ['Content-Length list, equal', P(['Content-Length: 5 , 5']), 0, { contentLength: 5 }],
    ['Content-Length twice, differing', P(['Content-Length: 5', 'Content-Length: 6']), 400],
    ['Content-Length list, differing', P(['Content-Length: 5, 6']), 400],
    ['Content-Length negative', P(['Content-Length: -1']), 400],
    ['Content-Length empty', P(['Content-Length:']), 400],
    ['Content-Length trailing comma', P(['Content-Length: 5,']), 400],
    ['chunked', P(['Transfer-Encoding: chunked']), 0, { framing: CHUNKED }],
    ['chunked, any case', P(['transfer-encoding: ChUnKeD']), 0, { framing: CHUNKED }],
    ['chunked, empty list elements', P(['Transfer-Encoding: , chunked,']), 0, { framing: CHUNKED }],
    ['gzip, chunked: 501', P(['Transfer-Encoding: gzip, chunked']), 501],
    ['gzip with a parameter, chunked: 501', P(['Transfer-Encoding: gzip;level=1, chunked']), 501],
    ['gzip and chunked in two fields: 501', P(['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked']), 501],
    // A coding etlt does not know is 501 wherever it stands (RFC 9112 section 6.1, as nginx).
    ['gzip alone: an unknown coding, 501', P(['Transfer-Encoding: gzip']), 501],
    ['identity: an unknown coding, 501', P(['Transfer-Encoding: identity']), 501],
    ['chunked, gzip', P(['Transfer-Encoding: chunked, gzip']), 400],
    ['chunked twice', P(['Transfer-Encoding: chunked, chunked']), 400],
    ['chunked in two fields', P(['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']), 400],
    ['chunked with a parameter: not the chunked etlt knows, 501', P(['Transfer-Encoding: chunked;q=1']), 501],
    ['chunked then junk', P(['Transfer-Encoding: chunked x']), 400],
    ['empty Transfer-Encoding', P(['Transfer-Encoding:']), 400],
    ['Transfer-Encoding and Content-Length', P(['Transfer-Encoding: chunked', 'Content-Length: 5']), 400],
    ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['Host missing in 1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n', 400],
    ['two Hosts in 1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['Host with a bad byte', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 400],
    ['Host empty', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', 0, { hosts: 1 }],
    [
      'Connection: close',
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n',
      0,
      { close: true, keepAlive: true },
    ],
    ['Expect: 100-continue', P(['Expect: 100-Continue', 'Content-Length: 1']), 0, { expect: CONTINUE }],
    ['Expect: other', P(['Expect: 100-continue, x']), 0, { expect: EXPECT_OTHER }],
    ['Expect in 1.0 is ignored', 'GET / HTTP/1.0\r\nExpect: x\r\n\r\n', 0, { expect: 0 }],
    [
      'field offsets, OWS trimmed',
      'GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v w \t\r\n\r\n',
      0,
      { field1: ['X-A', 'v w'] },
    ],
    ['empty value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A:\r\n\r\n', 0, { field1: ['X-A', ''] }],
    ['LF line ends', 'GET / HTTP/1.1\nHost: a\nX: 1\n\n', 0, { fieldCount: 2 }],
    ['lower-case method', 'get / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['two spaces', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['relative target', 'GET a/b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['"*x" target', 'OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['lower-case version', 'GET / http/1.1\r\nHost: a\r\n\r\n', 400],
    ['HTTP/2.0: 505', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['HTTP/0.9: 505', 'GET / HTTP/0.9\r\n\r\n', 505],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
    ['empty name', 'GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n', 400],
    ['no colon', 'GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n', 400],
    ['100 fields', `GET / HTTP/1.1\r\nHost: a\r\n${'X: 1\r\n'.repeat(99)}\r\n`, 0, { fieldCount: 100 }],
    ['101 fields: 431', `GET / HTTP/1.1\r\nHost: a\r\n${'X: 1\r\n'.repeat(100)}\r\n`, 431],
  ];
  for (const [name, input, status, want] of TABLE) {
    test(name, () => {
      assert.equal(parse(input), status);
      if (status !== 0) return;
      const buf = bytes(input);
      for (const [key, value] of Object.entries(want)) {
        if (key === 'target') assert.equal(buf.toString('latin1', head.targetStart, head.targetEnd), value, key);
        else if (key === 'field1') {
          const f = head.fields;
          assert.deepEqual([buf.toString('latin1', f[4], f[5]), buf.toString('latin1', f[6], f[7])], value, key);
        } else assert.equal(head[key], value, key);
      }
      assert.equal(head.end, buf.length);
    });
  }

  test('the RequestHead is reset between heads', () => {
    assert.equal(parse(P(['Content-Length: 5', 'Connection: close', 'Expect: x'])), 0);
    assert.equal(parse('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 0);
    assert.deepEqual(
      [head.framing, head.contentLength, head.close, head.expect, head.fieldCount],
      [NONE, 0, false, 0, 1],
    );
  });
});

describe('ChunkedDecoder', () => {
  /** Decodes `input` in one piece and byte by byte; both must give the same result. */
  function decode(input, maxBody = 1 << 20, maxTrailer = 1024) {
    const buf = bytes(input);
    const whole = new ChunkedDecoder(maxBody, maxTrailer);
    const parts = [];
    const r = whole.feed(buf, 0, buf.length, (b, s, e) => parts.push(Buffer.from(b.subarray(s, e))));
    const one = {
      body: Buffer.concat(parts).toString('latin1'),
      end: r,
      done: whole.done,
      error: whole.error,
      total: whole.total,
    };
    const stepwise = new ChunkedDecoder(maxBody, maxTrailer);
    const bits = [];
    let end = buf.length;
    for (let i = 0; i < buf.length; i++) {
      const ri = stepwise.feed(buf, i, i + 1, (b, s, e) => bits.push(Buffer.from(b.subarray(s, e))));
      if (ri < 0 || stepwise.done) {
        end = ri;
        break;
      }
      assert.equal(ri, i + 1, 'a byte fed alone is used up');
    }
    const two = {
      body: Buffer.concat(bits).toString('latin1'),
      end,
      done: stepwise.done,
      error: stepwise.error,
      total: stepwise.total,
    };
    assert.deepEqual(two, one, 'byte by byte differs from one piece');
    return one;
  }

  /** Done with `body`, stopped at `end` (default: the end of the input). */
  const ok = (body, end = 'all') => ({ body, end, done: true, error: 0, total: body.length });
  const bad = (error = MALFORMED) => ({ end: -1, done: false, error });
  /** [name, chunked body (perhaps followed by more bytes), expected result] */
  const TABLE = [
    ['one chunk', '5\r\nhello\r\n0\r\n\r\n', ok('hello')],
    ['two chunks, then the next request', '2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\nGET /', ok('hello', 20)],
    ['empty body', '0\r\n\r\n', ok('')],
    ['hex, both cases', 'a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n', ok('0123456789abcdefghij')],
    ['CRLF inside data', '4\r\n\r\n\r\n\r\n0\r\n\r\n', ok('\r\n\r\n')],
    ['leading zeros', '00000000000000000005\r\nhello\r\n000\r\n\r\n', ok('hello')],
    ['extensions', '5;a=1;b;c="x;\\"y"\r\nhello\r\n0;last\r\n\r\n', ok('hello')],
    ['BWS around ; and =', '5 ; a = 1 ;b\r\nhello\r\n0\r\n\r\n', ok('hello')],
    ['quoted obs-text', '5;a="\xe9"\r\nhello\r\n0\r\n\r\n', ok('hello')],
    ['trailers', '5\r\nhello\r\n0\r\nX-A: 1\r\nX-B:\r\n\r\n', ok('hello')],
    ['whitespace after the size', '5 \r\nhello\r\n0\r\n\r\n', bad()],
    ['whitespace after a value', '5;a=1 \r\nhello\r\n0\r\n\r\n', bad()],
    ['whitespace after a name', '5;a \r\nhello\r\n0\r\n\r\n', bad()],
    ['empty value', '5;a=\r\nhello\r\n0\r\n\r\n', bad()],
    ['empty name', '5;\r\nhello\r\n0\r\n\r\n', bad()],
    ['bad name', '5;a@b\r\nhello\r\n0\r\n\r\n', bad()],
    ['control in a quoted value', '5;a="\x01"\r\nhello\r\n0\r\n\r\n', bad()],
    ['no size', '\r\nhello\r\n0\r\n\r\n', bad()],
    ['leading space', ' 5\r\nhello\r\n0\r\n\r\n', bad()],
    ['0x prefix', '0x5\r\nhello\r\n0\r\n\r\n', bad()],
    ['size past 2**52', '10000000000000\r\n', bad()],
    ['size 2**52 - 1: too large for the limit', 'fffffffffffff\r\n', bad(TOO_LARGE)],
    ['more than maxBody', '5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n', { ...bad(TOO_LARGE), max: 5 }],
    ['LF after the size', '5\nhello\r\n0\r\n\r\n', bad()],
    ['bare CR after the size', '5\rhello\r\n0\r\n\r\n', bad()],
    ['data longer than its size', '3\r\nhello\r\n0\r\n\r\n', bad()],
    ['LF after data', '5\r\nhello\n0\r\n\r\n', bad()],
    ['LF after the last chunk', '0\n\r\n', bad()],
    ['LF as the final line', '0\r\n\n', bad()],
    ['trailer without a colon', '0\r\nX-A\r\n\r\n', bad()],
    ['trailer, space in the name', '0\r\nX A: 1\r\n\r\n', bad()],
    ['trailer, space before the colon', '0\r\nX-A : 1\r\n\r\n', bad()],
    ['trailer, empty name', '0\r\n: 1\r\n\r\n', bad()],
    ['trailer, obs-fold', '0\r\nX-A: 1\r\n 2\r\n\r\n', bad()],
    ['trailer, LF line end', '0\r\nX-A: 1\n\r\n', bad()],
    ['trailer, control in the value', '0\r\nX-A: \x01\r\n\r\n', bad()],
    ['trailers over maxTrailer', `0\r\nX-A: ${'v'.repeat(2000)}\r\n\r\n`, bad()],
  ];
  for (const [name, input, want] of TABLE) {
    test(name, () => {
      const got = decode(input, want.max ?? 1 << 20);
      const { max: _max, ...expected } = want;
      if (expected.end === 'all') expected.end = input.length;
      if (expected.error === 0) assert.deepEqual(got, expected);
      else assert.deepEqual({ end: got.end, done: got.done, error: got.error }, expected);
    });
  }

  test('an unfinished body is neither done nor wrong', () => {
    for (const input of [
      '5\r\nhel',
      '5\r\nhello\r\n',
      '5\r\nhello\r\n0\r\n',
      '5\r\nhello\r\n0\r\nX: 1\r\n',
      '5;a="x',
    ]) {
      const got = decode(input);
      assert.deepEqual([got.done, got.error, got.end], [false, 0, input.length], JSON.stringify(input));
    }
  });
});
