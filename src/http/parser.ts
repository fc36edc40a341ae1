/**
 * The request-head scanner: pure functions over bytes, importing nothing.
 *
 * A request is complete, as in the seed, when its bytes contain "\n\n" or "\n\r\n". Before
 * that, each chunk is checked so a hostile or confused client is turned away early.
 */

/** What the bytes received so far amount to. */
export const enum HeadState {
  /** No end of head yet, nothing wrong so far. */
  Partial = 0,
  /** Bytes that no HTTP client sends (NUL, other control bytes): close without a response. */
  Garbage = -1,
  /** A complete head whose request line is not `METHOD SP target [SP HTTP/d.d]`: 400. */
  BadRequest = -2,
}

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const SP = 0x20;
const DEL = 0x7f;
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f];
const SLASH = 0x2f;
const STAR = 0x2a;
const CONNECT = [0x43, 0x4f, 0x4e, 0x4e, 0x45, 0x43, 0x54];

/** RFC 9110 tchar: the characters of a method token. */
function isTokenChar(b: number): boolean {
  if (b >= 0x61 && b <= 0x7a) return true; // a-z
  if (b >= 0x41 && b <= 0x5a) return true; // A-Z
  if (b >= 0x30 && b <= 0x39) return true; // 0-9
  return b === 0x21 || (b >= 0x23 && b <= 0x27) || b === 0x2a || b === 0x2b || b === 0x2d ||
    b === 0x2e || b === 0x5e || b === 0x5f || b === 0x60 || b === 0x7c || b === 0x7e;
}

/**
 * Scans `buf[from, to)` (earlier bytes up to `from` were scanned before) for the end of
 * the head. Returns the offset just past "\n\n" or "\n\r\n", or a {@link HeadState}.
 * A marker may straddle the scan boundary, so the scan backs up two bytes.
 */
export function scanHead(buf: Uint8Array, from: number, to: number): number {
  let i = from > 2 ? from - 2 : 0;
  for (; i < to; i++) {
    const b = buf[i]!;
    if (b === LF) {
      const n1 = i + 1 < to ? buf[i + 1] : -1;
      if (n1 === LF) return i + 2;
      if (n1 === CR && i + 2 < to && buf[i + 2] === LF) return i + 3;
    } else if ((b < SP && b !== TAB && b !== CR) || b === DEL) {
      if (i >= from) return HeadState.Garbage;
    }
  }
  return HeadState.Partial;
}

/**
 * Checks the request line of a complete head: a method token, one space, a target, and
 * optionally " HTTP/d.d". Leading empty lines are tolerated (RFC 9112 section 2.2).
 */
export function requestLineValid(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && (buf[i] === CR || buf[i] === LF)) i++;
  const methodStart = i;
  while (i < end && isTokenChar(buf[i]!)) i++;
  if (i === methodStart || i >= end || buf[i] !== SP) return false;
  i++;
  const methodEnd = i - 1;
  const targetStart = i;
  while (i < end && buf[i]! > SP && buf[i] !== DEL) i++;
  if (i === targetStart) return false;
  if (!targetFormValid(buf, methodStart, methodEnd, targetStart, i)) return false;
  if (buf[i] === CR || buf[i] === LF) return true; // HTTP/0.9 style: "GET /"
  if (buf[i] !== SP) return false;
  i++;
  // "HTTP/" digit "." digit
  for (const c of HTTP_SLASH) {
    if (i >= end || buf[i] !== c) return false;
    i++;
  }
  if (i + 3 > end) return false;
  const major = buf[i]!, dot = buf[i + 1]!, minor = buf[i + 2]!;
  if (major < 0x30 || major > 0x39 || dot !== 0x2e || minor < 0x30 || minor > 0x39) return false;
  i += 3;
  return buf[i] === CR || buf[i] === LF;
}

/**
 * RFC 9112 section 3.2: origin-form ("/path"), asterisk-form ("*"), absolute-form
 * ("scheme://..."), or for CONNECT authority-form. Two words of text ("hello there") are
 * then not taken for a request.
 */
function targetFormValid(buf: Uint8Array, methodStart: number, methodEnd: number, start: number, end: number): boolean {
  const first = buf[start];
  if (first === SLASH) return true;
  if (first === STAR) return end === start + 1;
  if (methodEnd - methodStart === CONNECT.length) {
    let k = 0;
    while (k < CONNECT.length && buf[methodStart + k] === CONNECT[k]) k++;
    if (k === CONNECT.length) return true;
  }
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://"
  let i = start;
  if (!isAlpha(buf[i]!)) return false;
  while (i < end && (isAlpha(buf[i]!) || (buf[i]! >= 0x30 && buf[i]! <= 0x39) || buf[i] === 0x2b || buf[i] === 0x2d || buf[i] === 0x2e)) i++;
  return i + 3 <= end && buf[i] === 0x3a && buf[i + 1] === SLASH && buf[i + 2] === SLASH;
}

function isAlpha(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a);
}

/**
 * Whether the first bytes can start a request: optional empty lines, then, up to the first
 * space, no byte outside printable ASCII. Binary input (0x80 and up) fails at its first
 * byte, so such a client is closed at once instead of waiting for a blank line or the idle
 * timeout; printable text that is not HTTP gets its 400 from requestLineValid.
 */
export function methodPlausible(buf: Uint8Array, end: number): boolean {
  let i = 0;
  while (i < end && (buf[i] === CR || buf[i] === LF)) i++;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === SP || b === CR || b === LF) return true;
    if (b > DEL - 1 || b < SP) return false;
  }
  return true;
}
