/**
 * The request-head parser: pure functions over bytes, allocating nothing (its only import
 * is the head's types and character classes), and the readers of the field values that
 * frame a request and decide its connection's fate (Content-Length, Transfer-Encoding,
 * Connection), read from the bytes without a string.
 *
 * Two steps, as nginx and llhttp also split them: `scanHead` finds where a head ends (it
 * runs on every read, from where the last one stopped, and turns away binary input and
 * bare CRs early); `parseHead` then reads the complete head once, into a reused
 * {@link RequestHead} of numbers and offsets, with the rules of RFC 9112 (message syntax)
 * and RFC 9110 (field semantics). The handler path makes strings from the offsets later.
 */

import type { RequestHead } from './head.js';
import {
  Expect,
  Framing,
  HOST_CHAR as HOST_TABLE,
  HeadState,
  MAX_FIELDS,
  METHOD_CHAR as METHOD_TABLE,
  METHOD_NAMES,
  Method,
  TARGET_CHAR as TARGET_TABLE,
  TCHAR as TOKEN_TABLE,
  VALUE_CHAR as VALUE_TABLE,
} from './head.js';

export { Expect, Framing, HeadState, MAX_FIELDS, Method, RequestHead } from './head.js';

/*
 * The bytes and tables the loops compare against are this module's own consts: an imported
 * binding is loaded through its module cell at every use, which made scanHead about twice as
 * slow (measured: 120 ns against 55 ns for a 40-byte head).
 */
const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const SP = 0x20;
const COLON = 0x3a;
const DEL = 0x7f;
const SLASH = 0x2f;
const STAR = 0x2a;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const TCHAR = TOKEN_TABLE;
const METHOD_CHAR = METHOD_TABLE;
const VALUE_CHAR = VALUE_TABLE;
const TARGET_CHAR = TARGET_TABLE;
const HOST_CHAR = HOST_TABLE;

/** Whether `buf[at, at + len)` is `name` (lower case), compared ASCII-case-insensitively. */
export function nameIs(buf: Uint8Array, at: number, len: number, name: string): boolean {
  if (len !== name.length) return false;
  for (let k = 0; k < len; k++) if ((buf[at + k]! | 0x20) !== name.charCodeAt(k)) return false;
  return true;
}

/** Offset of the first byte after any empty lines (CRLF or LF) at `from` (RFC 9112 section 2.2). */
export function skipEmptyLines(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  for (;;) {
    if (i < to && buf[i] === LF) i++;
    else if (i + 1 < to && buf[i] === CR && buf[i + 1] === LF) i += 2;
    else return i;
  }
}

/**
 * Scans `buf[start, to)` for the end of a head that begins at `start`; bytes before `from`
 * were scanned by an earlier call. Returns the offset just past the empty line that ends it
 * ("\n\n" or "\n\r\n": LF alone may end a line, RFC 9112 section 2.2), or a {@link HeadState}.
 * Empty lines before the request line are skipped, not taken for the end.
 */
export function scanHead(buf: Uint8Array, start: number, from: number, to: number): number {
  const first = skipEmptyLines(buf, start, to);
  // Checked on every call, not only the first: a resumed scan does not know whether the
  // method had ended when the last read did, and "GE" then "T\x80" must be Garbage as
  // "GET\x80" read whole is (found by test/unit/fuzz-head.test.mjs). It stops at the
  // method's first space, so a resumed call pays a few bytes for it.
  if (!methodPlausible(buf, first, to)) return HeadState.Garbage;
  // A marker may straddle the boundary of the last scan: back up two bytes.
  let i = Math.max(first, from - 2);
  for (; i < to; i++) {
    const b = buf[i]!;
    if (b >= SP && b !== DEL) continue;
    if (b === LF) {
      if (i + 1 < to) {
        const n1 = buf[i + 1];
        if (n1 === LF) return i + 2;
        if (n1 === CR && i + 2 < to && buf[i + 2] === LF) return i + 3;
      }
    } else if (b === CR) {
      if (i + 1 < to && buf[i + 1] !== LF) return HeadState.Invalid;
    } else if (b !== TAB && i >= from) {
      // A control byte (NUL too) in what began as a request: malformed text, 400 and close
      // (RFC 9112 section 2.2; nginx answers so too). Binary input never got this far.
      return HeadState.Invalid;
    }
  }
  return HeadState.Partial;
}

/**
 * Whether the first bytes can start a request: up to the first space, no byte outside
 * printable ASCII. Binary input (0x80 and up, controls) fails at its first byte, so such a
 * client is closed at once instead of waiting for a blank line or the idle timeout.
 */
export function methodPlausible(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === SP || b === CR || b === LF) return true;
    if (b >= DEL || b < SP) return false;
  }
  return true;
}

function methodOf(buf: Uint8Array, at: number, len: number): Method {
  const c = buf[at];
  switch (len) {
    case 3:
      if (c === 0x47 && buf[at + 1] === 0x45 && buf[at + 2] === 0x54) return Method.GET;
      if (c === 0x50 && buf[at + 1] === 0x55 && buf[at + 2] === 0x54) return Method.PUT;
      return Method.Other;
    case 4:
      if (c === 0x48 && buf[at + 1] === 0x45 && buf[at + 2] === 0x41 && buf[at + 3] === 0x44) return Method.HEAD;
      if (c === 0x50 && buf[at + 1] === 0x4f && buf[at + 2] === 0x53 && buf[at + 3] === 0x54) return Method.POST;
      return Method.Other;
    default:
      return exactMethod(buf, at, len);
  }
}

/** The methods of more than four letters, by their names in METHOD_NAMES. */
function exactMethod(buf: Uint8Array, at: number, len: number): Method {
  outer: for (let m = Method.DELETE; m <= Method.CONNECT; m++) {
    const name = METHOD_NAMES[m]!;
    if (name.length !== len) continue;
    for (let k = 0; k < len; k++) if (buf[at + k] !== name.charCodeAt(k)) continue outer;
    return m;
  }
  return Method.Other;
}

/** Whether a line ends at `i` (LF, or CR LF); returns the offset after it, or -1. */
function lineEnd(buf: Uint8Array, i: number, end: number): number {
  if (buf[i] === LF) return i + 1;
  if (buf[i] === CR && i + 1 < end && buf[i + 1] === LF) return i + 2;
  return -1;
}

/**
 * RFC 9112 section 3.2: origin-form ("/path"), asterisk-form ("*"), absolute-form
 * ("scheme://..."), or for CONNECT authority-form ("host:port").
 */
function targetFormValid(buf: Uint8Array, method: Method, start: number, end: number): boolean {
  const first = buf[start];
  if (first === SLASH) return true;
  if (first === STAR) return end === start + 1;
  if (method === Method.CONNECT) return true;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://"
  let i = start;
  if (!isAlpha(buf[i]!)) return false;
  while (
    i < end &&
    (isAlpha(buf[i]!) || (buf[i]! >= 0x30 && buf[i]! <= 0x39) || buf[i] === 0x2b || buf[i] === 0x2d || buf[i] === 0x2e)
  )
    i++;
  return i + 3 <= end && buf[i] === COLON && buf[i + 1] === SLASH && buf[i + 2] === SLASH;
}

function isAlpha(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a);
}

/**
 * Parses the request line at `start` into `head`. Returns the offset of the first field
 * line, or a negative status: -400 malformed, -505 a version other than 1.x.
 */
function parseRequestLine(buf: Uint8Array, start: number, end: number, head: RequestHead): number {
  let i = start;
  while (i < end && METHOD_CHAR[buf[i]!] === 1) i++;
  if (i === start || i >= end || buf[i] !== SP) return -400;
  head.methodStart = start;
  head.methodEnd = i;
  head.method = methodOf(buf, start, i - start);
  const targetStart = ++i;
  while (i < end && TARGET_CHAR[buf[i]!] === 1) i++;
  if (i === targetStart) return -400;
  head.targetStart = targetStart;
  head.targetEnd = i;
  if (!targetFormValid(buf, head.method, targetStart, i)) return -400;
  const eol = lineEnd(buf, i, end);
  if (eol > 0) {
    // No version: HTTP/0.9's form of a request line, answered as HTTP/1.0.
    head.major = 1;
    head.minor = 0;
    head.http11 = false;
    return eol;
  }
  if (buf[i] !== SP) return -400;
  i++;
  // "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 section 2.3).
  if (
    i + 8 > end ||
    buf[i] !== 0x48 ||
    buf[i + 1] !== 0x54 ||
    buf[i + 2] !== 0x54 ||
    buf[i + 3] !== 0x50 ||
    buf[i + 4] !== SLASH
  )
    return -400;
  const major = buf[i + 5]! - 0x30;
  const minor = buf[i + 7]! - 0x30;
  if (major < 0 || major > 9 || buf[i + 6] !== 0x2e || minor < 0 || minor > 9) return -400;
  const after = lineEnd(buf, i + 8, end);
  if (after < 0) return -400;
  head.major = major;
  head.minor = minor;
  head.http11 = major === 1 && minor >= 1;
  if (major !== 1) return -505;
  return after;
}

/**
 * Parses the complete head `buf[start, end)` (`end` from scanHead) into `head`. Returns 0,
 * or the status to refuse it with: 400 (malformed, smuggling-prone framing), 431 (too many
 * fields), 501 (an unknown transfer coding before a final chunked), 505 (a version other
 * than 1.x). Framing rules: Content-Length and Transfer-Encoding together, differing
 * lengths, chunked not final, or Transfer-Encoding in HTTP/1.0 are 400 (RFC 9112 sections
 * 6.1 and 6.3).
 */
export function parseHead(buf: Uint8Array, start: number, end: number, head: RequestHead): number {
  head.end = end;
  head.framing = Framing.None;
  head.contentLength = 0;
  head.close = false;
  head.keepAlive = false;
  head.hosts = 0;
  head.expect = Expect.None;
  head.fieldCount = 0;
  const lineStart = skipEmptyLines(buf, start, end);
  let i = parseRequestLine(buf, lineStart, end, head);
  if (i < 0) return -i;
  let length = -1;
  let sawTe = false;
  head.chunkedLast = false;
  head.codingError = 0;
  const fields = head.fields;
  for (;;) {
    const eol = lineEnd(buf, i, end);
    if (eol > 0) {
      i = eol;
      break;
    }
    // obs-fold (a line starting with SP or HTAB) is refused (RFC 9112 section 5.2).
    const nameStart = i;
    while (i < end && TCHAR[buf[i]!] === 1) i++;
    // No whitespace between the name and the colon (RFC 9112 section 5.1).
    if (i === nameStart || i >= end || buf[i] !== COLON) return 400;
    const nameEnd = i++;
    while (i < end && (buf[i] === SP || buf[i] === TAB)) i++;
    const valueStart = i;
    while (i < end && VALUE_CHAR[buf[i]!] === 1) i++;
    let valueEnd = i;
    const next = lineEnd(buf, i, end);
    if (next < 0) return 400;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === TAB)) valueEnd--;
    i = next;
    if (head.fieldCount >= MAX_FIELDS) return 431;
    const f = 4 * head.fieldCount++;
    fields[f] = nameStart;
    fields[f + 1] = nameEnd;
    fields[f + 2] = valueStart;
    fields[f + 3] = valueEnd;
    const nameLen = nameEnd - nameStart;
    const c = buf[nameStart]! | 0x20;
    if (c === 0x63 /* c */) {
      if (nameIs(buf, nameStart, nameLen, 'content-length')) {
        const n = contentLengthOf(buf, valueStart, valueEnd);
        if (n < 0 || (length >= 0 && n !== length)) return 400;
        length = n;
      } else if (nameIs(buf, nameStart, nameLen, 'connection')) {
        eachListItem(buf, valueStart, valueEnd, head, onConnectionOption);
      }
    } else if (c === 0x74 /* t */) {
      if (nameIs(buf, nameStart, nameLen, 'transfer-encoding')) {
        sawTe = true;
        if (!eachListItem(buf, valueStart, valueEnd, head, onCoding)) return head.codingError;
      }
    } else if (c === 0x68 /* h */) {
      if (nameIs(buf, nameStart, nameLen, 'host')) {
        head.hosts++;
        for (let k = valueStart; k < valueEnd; k++) if (HOST_CHAR[buf[k]!] !== 1) return 400;
      }
    } else if (c === 0x65 /* e */) {
      if (nameIs(buf, nameStart, nameLen, 'expect')) {
        // Field lines combine into one list (RFC 9110 section 5.3): one expectation etlt
        // cannot meet, in any line, makes the whole request a 417.
        if (head.expect !== Expect.Other) {
          head.expect = nameIs(buf, valueStart, valueEnd - valueStart, '100-continue') ? Expect.Continue : Expect.Other;
        }
      }
    }
  }
  if (i !== end) return 400;
  // RFC 9112 section 3.2: 400 for an HTTP/1.1 request without Host, and for any request
  // (HTTP/1.0 too) with more than one Host field line.
  if (head.hosts > 1 || (head.http11 && head.hosts === 0)) return 400;
  if (sawTe) {
    // Transfer-Encoding in HTTP/1.0 is faulty framing (RFC 9112 section 6.1); with
    // Content-Length too, a smuggling attempt (section 6.3, rule 3): 400 and close.
    if (!head.http11 || length >= 0) return 400;
    // A coding etlt does not know SHOULD get 501 (section 6.1), wherever it stands: nginx
    // answers so, and it closes the connection as the 400 below does.
    if (head.codingError !== 0) return head.codingError;
    // chunked not the final coding, or no coding at all (an empty field): the body's length
    // cannot be determined, and the server MUST answer 400 (section 6.3, rule 4).
    if (!head.chunkedLast) return 400;
    head.framing = Framing.Chunked;
  } else if (length > 0) {
    head.framing = Framing.Length;
    head.contentLength = length;
  }
  // An expectation in HTTP/1.0 is ignored (RFC 9110 section 10.1.1).
  if (!head.http11) head.expect = Expect.None;
  return 0;
}

// ---- field values ----

/**
 * The value of a Content-Length field (RFC 9110 section 8.6: 1*DIGIT), or a list of one
 * repeated value ("5, 5", which section 8.6 lets a recipient take as 5); -1 malformed.
 */
function contentLengthOf(buf: Uint8Array, start: number, end: number): number {
  let value = -1;
  let i = start;
  for (;;) {
    if (i >= end) return -1;
    const digits = i;
    // Leading zeros are digits like any other ("0005" is 5): skipped before the count below.
    while (i < end && buf[i] === 0x30) i++;
    const significant = i;
    let n = 0;
    while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
      n = n * 10 + (buf[i]! - 0x30);
      i++;
    }
    // Past 15 significant digits a double loses exactness; no body is that large anyway.
    if (i === digits || i - significant > 15) return -1;
    if (value >= 0 && n !== value) return -1;
    value = n;
    while (i < end && (buf[i] === SP || buf[i] === TAB)) i++;
    if (i === end) return value;
    if (buf[i] !== COMMA) return -1;
    i++;
    while (i < end && (buf[i] === SP || buf[i] === TAB)) i++;
  }
}

type ListItem = (buf: Uint8Array, s: number, e: number, head: RequestHead) => boolean;

/**
 * Calls `each(buf, s, e, head)` for each element of a comma-separated list (RFC 9110
 * section 5.6.1), trimmed, empty elements skipped. Stops and returns false when `each`
 * does. The head is passed through (no closure per head): the callbacks record in it.
 */
function eachListItem(buf: Uint8Array, start: number, end: number, head: RequestHead, each: ListItem): boolean {
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === SP || buf[i] === TAB || buf[i] === COMMA)) i++;
    const s = i;
    while (i < end && buf[i] !== COMMA) i++;
    let e = i;
    while (e > s && (buf[e - 1] === SP || buf[e - 1] === TAB)) e--;
    if (e > s && !each(buf, s, e, head)) return false;
  }
  return true;
}

/**
 * One element of Transfer-Encoding: transfer-coding = token *( OWS ";" OWS transfer-parameter )
 * (RFC 9112 section 7). Anything else after the token is malformed (400). Section 7.1
 * defines chunked without parameters, so "chunked;x=1" is not the chunked coding etlt
 * decodes: it counts as an unknown coding, and chunked is then not final (400 below).
 */
function onCoding(buf: Uint8Array, s: number, e: number, head: RequestHead): boolean {
  let n = s;
  while (n < e && TCHAR[buf[n]!] === 1) n++;
  let p = n;
  while (p < e && (buf[p] === SP || buf[p] === TAB)) p++;
  if (n === s || (p < e && buf[p] !== SEMICOLON)) {
    head.codingError = 400;
    return false;
  }
  if (head.chunkedLast) {
    // chunked must be the final coding, applied once (RFC 9112 section 6.1).
    head.codingError = 400;
    return false;
  }
  if (p === e && nameIs(buf, s, n - s, 'chunked')) head.chunkedLast = true;
  else head.codingError = 501;
  return true;
}

function onConnectionOption(buf: Uint8Array, s: number, e: number, head: RequestHead): boolean {
  if (nameIs(buf, s, e - s, 'close')) head.close = true;
  else if (nameIs(buf, s, e - s, 'keep-alive')) head.keepAlive = true;
  return true;
}
