/**
 * The differential corpus, part one: message framing (RFC 9112 section 6) — Content-Length,
 * Transfer-Encoding, the chunked coding (section 7.1) — and the smuggling edges between them.
 * Each case is a raw request as a latin1 string, sent as is.
 */

/** A head: request line, field lines, the empty line; CRLF everywhere. */
export function head(line, ...fields) {
  return `${line}\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;
}

/** A POST with `fields` (Host added) and `body` after the head. */
export function post(fields, body = '') {
  return head('POST / HTTP/1.1', 'Host: a', ...fields) + body;
}

const TE = 'Transfer-Encoding: chunked';
const chunked = (body) => post([TE], body);
const GET = head('GET /next HTTP/1.1', 'Host: a');

export const FRAMING = {
  // ---- plain requests ----
  'get-plain': head('GET / HTTP/1.1', 'Host: a'),
  'get-query': head('GET /a/b?c=d&e=f HTTP/1.1', 'Host: a'),
  'head-plain': head('HEAD /h HTTP/1.1', 'Host: a'),
  'post-cl': post(['Content-Length: 5'], 'hello'),
  'post-cl-zero': post(['Content-Length: 0']),
  'post-cl-leading-zeros': post(['Content-Length: 005'], 'hello'),
  'post-cl-ows': post(['Content-Length:  \t 5  '], 'hello'),
  'post-cl-binary-body': post(['Content-Length: 6'], '\x00\r\n\xff\x80\n'),
  'post-cl-64k-body': post(['Content-Length: 65536'], 'x'.repeat(65536)),
  'post-no-length': post([]),
  'get-with-cl-body': head('GET / HTTP/1.1', 'Host: a', 'Content-Length: 5') + 'hello',
  'put-cl': head('PUT /p HTTP/1.1', 'Host: a', 'Content-Length: 3') + 'abc',
  'delete-plain': head('DELETE /d HTTP/1.1', 'Host: a'),
  'patch-cl': head('PATCH /p HTTP/1.1', 'Host: a', 'Content-Length: 2') + '{}',
  'post-10-cl': head('POST / HTTP/1.0', 'Content-Length: 5') + 'hello',

  // ---- Content-Length edges (RFC 9110 section 8.6, RFC 9112 section 6.3) ----
  'cl-short-data-then-more': post(['Content-Length: 3'], 'hello'),
  'cl-long-incomplete': post(['Content-Length: 10'], 'hello'),
  'cl-duplicate-equal': post(['Content-Length: 5', 'Content-Length: 5'], 'hello'),
  'cl-duplicate-differing': post(['Content-Length: 5', 'Content-Length: 6'], 'hello!'),
  'cl-list-equal': post(['Content-Length: 5, 5'], 'hello'),
  'cl-list-differing': post(['Content-Length: 5, 6'], 'hello!'),
  'cl-negative': post(['Content-Length: -1'], 'hello'),
  'cl-plus-sign': post(['Content-Length: +5'], 'hello'),
  'cl-non-numeric': post(['Content-Length: five'], 'hello'),
  'cl-hex': post(['Content-Length: 0x5'], 'hello'),
  'cl-decimal-point': post(['Content-Length: 5.0'], 'hello'),
  'cl-inner-space': post(['Content-Length: 1 2'], 'hello'),
  'cl-empty': post(['Content-Length:'], 'hello'),
  'cl-trailing-tab': post(['Content-Length: 5\t'], 'hello'),
  'cl-many-leading-zeros': post(['Content-Length: 00000000000000000005'], 'hello'),
  'cl-huge': post(['Content-Length: 99999999999999999999999'], 'hello'),
  'cl-over-body-limit': post(['Content-Length: 2000000'], 'hello'),

  // ---- chunked bodies (RFC 9112 section 7.1) ----
  'chunked-one': chunked('5\r\nhello\r\n0\r\n\r\n'),
  'chunked-two': chunked('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'),
  'chunked-many': chunked('1\r\nx\r\n'.repeat(200) + '0\r\n\r\n'),
  'chunked-empty-body': chunked('0\r\n\r\n'),
  'chunked-upper-hex': chunked('A\r\n0123456789\r\n0\r\n\r\n'),
  'chunked-lower-hex': chunked('a\r\n0123456789\r\n0\r\n\r\n'),
  'chunked-leading-zeros': chunked('0005\r\nhello\r\n000\r\n\r\n'),
  'chunked-crlf-data': chunked('4\r\n\r\n\r\n\r\n0\r\n\r\n'),
  'chunked-ext': chunked('5;name=value\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-no-value': chunked('5;name\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-quoted': chunked('5;n="a b;c\\"d"\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-several': chunked('5;a=1;b;c="x"\r\nhello\r\n0;last=yes\r\n\r\n'),
  'chunked-ext-bws-before-semicolon': chunked('5 ;a=1\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-bws-after-semicolon': chunked('5; a=1\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-bws-around-equals': chunked('5;a = 1\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-trailing-space': chunked('5;a=1 \r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-bad-name': chunked('5;a@b\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-empty-name': chunked('5;\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-empty-value': chunked('5;a=\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-unterminated-quote': chunked('5;a="x\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-ctl': chunked('5;a=\x01\r\nhello\r\n0\r\n\r\n'),
  'chunked-ext-obs-text': chunked('5;a="\xe9"\r\nhello\r\n0\r\n\r\n'),
  'chunked-trailer': chunked('5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n'),
  'chunked-trailers-two': chunked('5\r\nhello\r\n0\r\nX-A: 1\r\nX-B: two words\r\n\r\n'),
  'chunked-trailer-no-colon': chunked('5\r\nhello\r\n0\r\nX-Trailer\r\n\r\n'),
  'chunked-trailer-space-in-name': chunked('5\r\nhello\r\n0\r\nX Trailer: 1\r\n\r\n'),
  'chunked-trailer-space-before-colon': chunked('5\r\nhello\r\n0\r\nX-Trailer : 1\r\n\r\n'),
  'chunked-trailer-empty-name': chunked('5\r\nhello\r\n0\r\n: 1\r\n\r\n'),
  'chunked-trailer-obs-fold': chunked('5\r\nhello\r\n0\r\nX-A: 1\r\n 2\r\n\r\n'),
  'chunked-trailer-lf': chunked('5\r\nhello\r\n0\r\nX-A: 1\n\r\n'),
  'chunked-size-many-leading-zeros': chunked('00000000000000000005\r\nhello\r\n0\r\n\r\n'),
  'chunked-size-overflow': chunked('FFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n'),
  'chunked-size-over-limit': chunked('FFFFFFFF\r\nhello\r\n0\r\n\r\n'),
  'chunked-size-negative': chunked('-5\r\nhello\r\n0\r\n\r\n'),
  'chunked-size-0x': chunked('0x5\r\nhello\r\n0\r\n\r\n'),
  'chunked-size-non-hex': chunked('5g\r\nhello\r\n0\r\n\r\n'),
  'chunked-size-empty': chunked('\r\nhello\r\n0\r\n\r\n'),
  'chunked-size-trailing-space': chunked('5 \r\nhello\r\n0\r\n\r\n'),
  'chunked-size-leading-space': chunked(' 5\r\nhello\r\n0\r\n\r\n'),
  'chunked-data-no-crlf': chunked('5\r\nhello0\r\n\r\n'),
  'chunked-data-too-long': chunked('3\r\nhello\r\n0\r\n\r\n'),
  'chunked-data-bare-cr': chunked('5\r\nhello\r0\r\n\r\n'),
  'chunked-lf-after-size': chunked('5\nhello\r\n0\r\n\r\n'),
  'chunked-lf-after-data': chunked('5\r\nhello\n0\r\n\r\n'),
  'chunked-lf-last-chunk': chunked('5\r\nhello\r\n0\n\r\n'),
  'chunked-lf-final': chunked('5\r\nhello\r\n0\r\n\n'),
  'chunked-bare-cr-after-size': chunked('5\rhello\r\n0\r\n\r\n'),
  'chunked-no-last-chunk': chunked('5\r\nhello\r\n'),
  'chunked-no-final-crlf': chunked('5\r\nhello\r\n0\r\n'),

  // ---- Transfer-Encoding (RFC 9112 sections 6.1 and 6.3) ----
  'te-upper-case': post(['Transfer-Encoding: CHUNKED'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-ows': post(['Transfer-Encoding: \t chunked  '], '5\r\nhello\r\n0\r\n\r\n'),
  'te-trailing-tab': post(['Transfer-Encoding: chunked\t'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-chunked-junk': post(['Transfer-Encoding: chunked x'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-and-cl': post([TE, 'Content-Length: 5'], '5\r\nhello\r\n0\r\n\r\n'),
  'cl-and-te': post(['Content-Length: 5', TE], '5\r\nhello\r\n0\r\n\r\n'),
  'te-gzip-chunked': post(['Transfer-Encoding: gzip, chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-two-fields': post(['Transfer-Encoding: gzip', TE], '5\r\nhello\r\n0\r\n\r\n'),
  'te-chunked-gzip': post(['Transfer-Encoding: chunked, gzip'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-chunked-twice': post(['Transfer-Encoding: chunked, chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-identity': post(['Transfer-Encoding: identity'], 'hello'),
  'te-gzip-only': post(['Transfer-Encoding: gzip'], 'hello'),
  'te-unknown-token': post(['Transfer-Encoding: xchunked'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-chunked-param': post(['Transfer-Encoding: chunked;q=1'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-chunked-trailing-comma': post(['Transfer-Encoding: chunked,'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-empty': post(['Transfer-Encoding:'], 'hello'),
  'te-space-before-colon': post(['Transfer-Encoding : chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-underscore-name': post(['Transfer_Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  'te-http10': head('POST / HTTP/1.0', TE) + '5\r\nhello\r\n0\r\n\r\n',
  'te-http10-with-cl': head('POST / HTTP/1.0', TE, 'Content-Length: 5') + '5\r\nhello\r\n0\r\n\r\n',
  'get-chunked': head('GET / HTTP/1.1', 'Host: a', TE) + '3\r\nabc\r\n0\r\n\r\n',

  // ---- pipelining and smuggling: where does the first request end? ----
  'pipelined-two-gets': head('GET /1 HTTP/1.1', 'Host: a') + head('GET /2 HTTP/1.1', 'Host: a'),
  'pipelined-three-mixed':
    head('HEAD /1 HTTP/1.1', 'Host: a') + post(['Content-Length: 2'], 'ab') + head('GET /3 HTTP/1.1', 'Host: a'),
  'pipelined-chunked-then-get': chunked('5\r\nhello\r\n0\r\n\r\n') + GET,
  'pipelined-trailer-then-get': chunked('0\r\nX-A: 1\r\n\r\n') + GET,
  'smuggle-cl0-get': post(['Content-Length: 0'], GET),
  'smuggle-te-cl-get': post([TE, 'Content-Length: 4'], '0\r\n\r\n' + GET),
  'smuggle-cl-te-get': post(['Content-Length: 4', TE], '0\r\n\r\n' + GET),
  'smuggle-te-space-name-get': post(['Transfer-Encoding : chunked', 'Content-Length: 5'], '0\r\n\r\n' + GET),
  'smuggle-te-lf-size': chunked('5\nhello\r\n0\r\n\r\n') + GET,
  'smuggle-no-length-body-is-next': post([], GET),
};
