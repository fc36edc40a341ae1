/**
 * What a request head is made of, for the parser and for everyone who reads its result:
 * the parse result (a reused {@link RequestHead} of numbers and offsets), its enums, and
 * the character classes of RFC 9110 and 9112. Pure data; imports nothing.
 */

/** What the bytes received so far amount to, when `scanHead` found no end of head. */
export const enum HeadState {
  /** No end of head yet, nothing wrong so far. */
  Partial = 0,
  /** Bytes that no HTTP client sends (binary input, a NUL): close without a response. */
  Garbage = -1,
  /** A text head with a bare CR (RFC 9112 section 2.2) or a control byte in it: 400. */
  Invalid = -2,
}

/** The methods etlt knows by name; any other well-formed method is `Other`. */
export const enum Method {
  Other = 0,
  GET = 1,
  HEAD = 2,
  POST = 3,
  PUT = 4,
  DELETE = 5,
  OPTIONS = 6,
  PATCH = 7,
  TRACE = 8,
  CONNECT = 9,
}

/** The request's framing (RFC 9112 section 6). */
export const enum Framing {
  /** No body. */
  None = 0,
  /** Content-Length bytes. */
  Length = 1,
  /** Transfer-Encoding: chunked. */
  Chunked = 2,
}

/** Expect (RFC 9110 section 10.1.1). */
export const enum Expect {
  None = 0,
  Continue = 1,
  /** An expectation etlt cannot meet: 417. */
  Other = 2,
}

/** Most header fields a head may carry; more is 431 (nginx and Node allow about 100). */
export const MAX_FIELDS = 100;

/** A parsed head: offsets into the buffer it was parsed from, and what the fields said. */
export class RequestHead {
  /** Offset of the method (after any empty lines before the request line). */
  methodStart = 0;
  methodEnd = 0;
  targetStart = 0;
  targetEnd = 0;
  /** Offset just past the empty line that ends the head. */
  end = 0;
  method: Method = Method.Other;
  /** HTTP/major.minor; a request line without a version (HTTP/0.9's form) reads as 1.0. */
  major = 1;
  minor = 0;
  /**
   * HTTP/1.1 and later 1.x (RFC 9110 section 2.5: answered as 1.1): set with the version,
   * a field and not a getter, read on every request by three modules.
   */
  http11 = false;
  framing: Framing = Framing.None;
  /** Content-Length, when framing is Length. */
  contentLength = 0;
  /** Connection: close / keep-alive was among the options. */
  close = false;
  keepAlive = false;
  /** Host fields seen. */
  hosts = 0;
  expect: Expect = Expect.None;
  /** Field offsets: name start, name end, value start, value end (trimmed), per field. */
  readonly fields = new Int32Array(4 * MAX_FIELDS);
  fieldCount = 0;
  /** While parsing Transfer-Encoding: the last coding seen was `chunked` (it must be the final one). */
  chunkedLast = false;
  /** 400 or 501 once a Transfer-Encoding item was refused, else 0. */
  codingError = 0;
}

/** The names of the methods known by name, by Method (Other has none: it is read from the head). */
export const METHOD_NAMES: readonly string[] = [
  '',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'CONNECT',
];

const TAB = 0x09;
const DEL = 0x7f;

/** RFC 9110 tchar: the characters of a token (field names, codings, options). */
export const TCHAR = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) TCHAR[c] = 1;
for (const c of '"(),/:;<=>?@[\\]{}') TCHAR[c.charCodeAt(0)] = 0;

/** Method characters, nginx's set: upper-case letters, digits, '-' and '_'. A lower-case "get" is not HTTP. */
export const METHOD_CHAR = new Uint8Array(256);
for (let c = 0x41; c <= 0x5a; c++) METHOD_CHAR[c] = 1;
for (let c = 0x30; c <= 0x39; c++) METHOD_CHAR[c] = 1;
METHOD_CHAR[0x2d] = 1;
METHOD_CHAR[0x5f] = 1;

/** Field-value bytes: VCHAR, obs-text, SP and HTAB (RFC 9110 section 5.5). */
export const VALUE_CHAR = new Uint8Array(256);
for (let c = 0x20; c < 0x100; c++) VALUE_CHAR[c] = c === DEL ? 0 : 1;
VALUE_CHAR[TAB] = 1;

/**
 * Request-target bytes: visible ASCII and obs-text; never SP or a control. A URI is ASCII
 * (RFC 3986 section 2), and RFC 9112 section 3 says a server SHOULD answer an invalid
 * request-line with 400; etlt keeps the seed's (and nginx's) leniency for raw UTF-8 in
 * the target, which the handler sees as latin1 (llhttp refuses it: docs/http-conformance.md).
 */
export const TARGET_CHAR = new Uint8Array(256);
for (let c = 0x21; c < 0x100; c++) TARGET_CHAR[c] = c === DEL ? 0 : 1;

/** Host field bytes (RFC 3986 reg-name, IP-literal, port): anything else is 400. */
export const HOST_CHAR = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:%[]")
  HOST_CHAR[c.charCodeAt(0)] = 1;
