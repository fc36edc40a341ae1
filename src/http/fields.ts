/**
 * The values of the fields that frame a request and decide its connection's fate
 * (Content-Length, Transfer-Encoding, Connection), read from bytes without a string.
 * Pure; imports only the head's character classes.
 */
import { TCHAR as TOKEN_TABLE, nameIs } from './head.js';
import type { RequestHead } from './head.js';

/* Local consts, not imports: see parser.ts. */
const SP = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const TCHAR = TOKEN_TABLE;

/**
 * The value of a Content-Length field (RFC 9110 section 8.6: 1*DIGIT), or a list of one
 * repeated value ("5, 5", which section 8.6 lets a recipient take as 5); -1 malformed.
 */
export function contentLengthOf(buf: Uint8Array, start: number, end: number): number {
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

/**
 * Calls `each(buf, s, e, head)` for each element of a comma-separated list (RFC 9110
 * section 5.6.1), trimmed, empty elements skipped. Stops and returns false when `each`
 * does. The head is passed through (no closure per head): the callbacks record in it.
 */
export function eachListItem(
  buf: Uint8Array,
  start: number,
  end: number,
  head: RequestHead,
  each: (buf: Uint8Array, s: number, e: number, head: RequestHead) => boolean,
): boolean {
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
export function onCoding(buf: Uint8Array, s: number, e: number, head: RequestHead): boolean {
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

export function onConnectionOption(buf: Uint8Array, s: number, e: number, head: RequestHead): boolean {
  if (nameIs(buf, s, e - s, 'close')) head.close = true;
  else if (nameIs(buf, s, e - s, 'keep-alive')) head.keepAlive = true;
  return true;
}
