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
 * Calls `each(start, end)` for each element of a comma-separated list (RFC 9110 section
 * 5.6.1), trimmed, empty elements skipped. Stops and returns false when `each` does.
 */
export function eachListItem(
  buf: Uint8Array,
  start: number,
  end: number,
  each: (s: number, e: number) => boolean,
): boolean {
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === SP || buf[i] === TAB || buf[i] === COMMA)) i++;
    const s = i;
    while (i < end && buf[i] !== COMMA) i++;
    let e = i;
    while (e > s && (buf[e - 1] === SP || buf[e - 1] === TAB)) e--;
    if (e > s && !each(s, e)) return false;
  }
  return true;
}

/**
 * What the list callbacks below found in the head being parsed: shared, since parsing is
 * synchronous and never nests, so that no closure is made per head. Reset by resetFieldState.
 */
export const fieldState = {
  /** The last coding seen was `chunked` (it must be the final one). */
  chunkedLast: false,
  /** 400 or 501 once a Transfer-Encoding item was refused, else 0. */
  codingError: 0,
  buf: new Uint8Array(0) as Uint8Array,
  head: null as RequestHead | null,
};

/** Starts reading the fields of a new head in `buf`. */
export function resetFieldState(buf: Uint8Array, head: RequestHead): void {
  fieldState.chunkedLast = false;
  fieldState.codingError = 0;
  fieldState.buf = buf;
  fieldState.head = head;
}

/**
 * One element of Transfer-Encoding: transfer-coding = token *( OWS ";" OWS transfer-parameter )
 * (RFC 9112 section 7). Anything else after the token is malformed (400). Section 7.1
 * defines chunked without parameters, so "chunked;x=1" is not the chunked coding etlt
 * decodes: it counts as an unknown coding, and chunked is then not final (400 below).
 */
export function onCoding(s: number, e: number): boolean {
  const buf = fieldState.buf;
  let n = s;
  while (n < e && TCHAR[buf[n]!] === 1) n++;
  let p = n;
  while (p < e && (buf[p] === SP || buf[p] === TAB)) p++;
  if (n === s || (p < e && buf[p] !== SEMICOLON)) {
    fieldState.codingError = 400;
    return false;
  }
  if (fieldState.chunkedLast) {
    // chunked must be the final coding, applied once (RFC 9112 section 6.1).
    fieldState.codingError = 400;
    return false;
  }
  if (p === e && nameIs(buf, s, n - s, 'chunked')) fieldState.chunkedLast = true;
  else fieldState.codingError = 501;
  return true;
}

export function onConnectionOption(s: number, e: number): boolean {
  const buf = fieldState.buf;
  if (nameIs(buf, s, e - s, 'close')) fieldState.head!.close = true;
  else if (nameIs(buf, s, e - s, 'keep-alive')) fieldState.head!.keepAlive = true;
  return true;
}
