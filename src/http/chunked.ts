/**
 * The chunked transfer coding's decoder (RFC 9112 section 7.1): a byte-at-a-time state
 * machine that can stop at any byte and go on with the next read, importing nothing.
 * Framing lines must end in CRLF: a lone LF inside a chunked body is where front ends and
 * back ends disagree about where a request ends (request smuggling), so it is refused.
 */

/**
 * Where the decoder is. The framing lines follow RFC 9112 section 7.1:
 *
 *   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val = token / quoted-string
 *   last-chunk = 1*("0") [ chunk-ext ] CRLF, then trailer-section CRLF
 *
 * BWS ("bad" whitespace, RFC 9110 section 5.6.3) must be accepted where the grammar has it,
 * around ";" and "=", and nowhere else: "5 \r\n" is malformed.
 */
const enum Step {
  Size = 0,
  /** Whitespace after the size or an extension's value: only more of it, or ';'. */
  Bws = 1,
  /** After ';': BWS, then an extension's name. */
  ExtName = 2,
  /** In an extension's name. */
  ExtNameIn = 3,
  /** Whitespace after a name: '=' or ';' next (or more whitespace). */
  ExtNameBws = 4,
  /** After '=': BWS, then a token or a quoted string. */
  ExtValueStart = 5,
  ExtToken = 6,
  ExtQuoted = 7,
  ExtQuotedEscape = 8,
  /** After a quoted string's closing quote. */
  ExtAfterValue = 9,
  SizeLf = 10,
  Data = 11,
  DataCr = 12,
  DataLf = 13,
  /** After the last chunk: a trailer field line, or the empty line that ends the body. */
  TrailerStart = 14,
  /** In a trailer field's name (RFC 9112 section 7.1.2: field-line, as in a head). */
  TrailerName = 15,
  /** In a trailer field's value. */
  TrailerValue = 16,
  TrailerLf = 17,
  FinalLf = 18,
  Done = 19,
}

/** Why a chunked body was refused. */
export const enum ChunkError {
  None = 0,
  /** Malformed framing: 400 and close. */
  Malformed = 400,
  /** Larger than the body limit: 413 and close. */
  TooLarge = 413,
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const DEL = 0x7f;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const COLON = 0x3a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const TCHAR = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) TCHAR[c] = 1;
for (const c of '"(),/:;<=>?@[\\]{}') TCHAR[c.charCodeAt(0)] = 0;

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * A size at or above this cannot take one more hex digit and stay below 2**52 (13 hex
 * digits), beyond which sizes lose exactness. Leading zeros cost nothing ("0005" is 5).
 */
const SIZE_SHIFT_LIMIT = 2 ** 48;

/** Receives decoded body bytes: `buf[start, end)`, valid only during the call. */
export type ChunkSink = (buf: Uint8Array, start: number, end: number) => void;

/** Most hex digits in one chunk size, leading zeros included. */
const MAX_SIZE_DIGITS = 64;
/** Most bytes of chunk extensions (and whitespace in chunk lines) in one body. */
const MAX_EXTENSION_BYTES = 16 * 1024;

export class ChunkedDecoder {
  #step: Step = Step.Size;
  #size = 0;
  #digits = 0;
  /** Data bytes left in the current chunk. */
  #left = 0;
  #total = 0;
  #trailerBytes = 0;
  /** Bytes of chunk extensions and whitespace so far, over the whole body. */
  #extBytes = 0;
  #error: ChunkError = ChunkError.None;
  readonly #maxBody: number;
  readonly #maxTrailer: number;

  /** `maxBody`: most decoded bytes allowed; `maxTrailer`: most trailer-section bytes. */
  constructor(maxBody: number, maxTrailer: number) {
    this.#maxBody = maxBody;
    this.#maxTrailer = maxTrailer;
  }

  /** The body ended (the last chunk and the trailer section are in). */
  get done(): boolean {
    return this.#step === Step.Done;
  }

  /** Why decoding failed, or None. */
  get error(): ChunkError {
    return this.#error;
  }

  /** Decoded body bytes so far. */
  get total(): number {
    return this.#total;
  }

  /**
   * Decodes `buf[start, end)`, handing body bytes to `sink`. Returns the offset it stopped
   * at: `end`, or just past the body once it is done, or -1 on an error (see `error`).
   */
  feed(buf: Uint8Array, start: number, end: number, sink?: ChunkSink): number {
    let i = start;
    while (i < end) {
      const step = this.#step;
      if (step === Step.Data) {
        const take = Math.min(this.#left, end - i);
        sink?.(buf, i, i + take);
        i += take;
        this.#left -= take;
        if (this.#left === 0) this.#step = Step.DataCr;
        continue;
      }
      if (step === Step.Done) return i;
      const b = buf[i++]!;
      if (!this.#byte(b)) return -1;
      if (this.#step === Step.Done) return i;
    }
    return i;
  }

  #fail(error: ChunkError): boolean {
    this.#error = error;
    return false;
  }

  /** One framing byte; false on an error. */
  #byte(b: number): boolean {
    // What follows a chunk's size up to its line's end carries no data: bounded over the
    // whole body, or a client could send extensions for ever, each read counting as
    // progress (Node's CVE-2024-22019 was this; it too caps them at 16 KiB).
    if (this.#step >= Step.Bws && this.#step <= Step.ExtAfterValue && ++this.#extBytes > MAX_EXTENSION_BYTES) {
      return this.#fail(ChunkError.Malformed);
    }
    switch (this.#step) {
      case Step.Size: {
        const h = hexValue(b);
        if (h >= 0) {
          // Leading zeros are allowed, but not endless ones.
          if (this.#size >= SIZE_SHIFT_LIMIT || ++this.#digits > MAX_SIZE_DIGITS)
            return this.#fail(ChunkError.Malformed);
          this.#size = this.#size * 16 + h;
          return true;
        }
        if (this.#digits === 0) return this.#fail(ChunkError.Malformed);
        return this.#afterItem(b);
      }
      case Step.Bws:
        if (b === SP || b === TAB) return true;
        if (b === SEMI) {
          this.#step = Step.ExtName;
          return true;
        }
        return this.#fail(ChunkError.Malformed);
      case Step.ExtName:
        if (TCHAR[b] === 1) {
          this.#step = Step.ExtNameIn;
          return true;
        }
        if (b === SP || b === TAB) return true;
        return this.#fail(ChunkError.Malformed);
      case Step.ExtNameIn:
        if (TCHAR[b] === 1) return true;
        if (b === EQUALS) {
          this.#step = Step.ExtValueStart;
          return true;
        }
        if (b === SP || b === TAB) {
          this.#step = Step.ExtNameBws;
          return true;
        }
        return this.#afterItem(b);
      case Step.ExtNameBws:
        if (b === SP || b === TAB) return true;
        if (b === EQUALS) {
          this.#step = Step.ExtValueStart;
          return true;
        }
        if (b === SEMI) {
          this.#step = Step.ExtName;
          return true;
        }
        return this.#fail(ChunkError.Malformed);
      case Step.ExtValueStart:
        if (b === QUOTE) {
          this.#step = Step.ExtQuoted;
          return true;
        }
        if (TCHAR[b] === 1) {
          this.#step = Step.ExtToken;
          return true;
        }
        if (b === SP || b === TAB) return true;
        // An empty value: chunk-ext-val is a token (1*tchar) or a quoted string.
        return this.#fail(ChunkError.Malformed);
      case Step.ExtToken:
        if (TCHAR[b] === 1) return true;
        return this.#afterItem(b);
      case Step.ExtQuoted:
        // qdtext and quoted-pair (RFC 9110 section 5.6.4): HTAB, SP, VCHAR, obs-text.
        if (b === QUOTE) this.#step = Step.ExtAfterValue;
        else if (b === BACKSLASH) this.#step = Step.ExtQuotedEscape;
        else if ((b < SP && b !== TAB) || b === DEL) return this.#fail(ChunkError.Malformed);
        return true;
      case Step.ExtQuotedEscape:
        if ((b < SP && b !== TAB) || b === DEL) return this.#fail(ChunkError.Malformed);
        this.#step = Step.ExtQuoted;
        return true;
      case Step.ExtAfterValue:
        return this.#afterItem(b);
      case Step.SizeLf:
        if (b !== LF) return this.#fail(ChunkError.Malformed);
        if (this.#size === 0) {
          this.#step = Step.TrailerStart;
          return true;
        }
        this.#total += this.#size;
        if (this.#total > this.#maxBody) return this.#fail(ChunkError.TooLarge);
        this.#left = this.#size;
        this.#step = Step.Data;
        return true;
      case Step.DataCr:
        if (b !== CR) return this.#fail(ChunkError.Malformed);
        this.#step = Step.DataLf;
        return true;
      case Step.DataLf:
        if (b !== LF) return this.#fail(ChunkError.Malformed);
        this.#step = Step.Size;
        this.#size = 0;
        this.#digits = 0;
        return true;
      case Step.TrailerStart:
        if (b === CR) {
          this.#step = Step.FinalLf;
          return true;
        }
        // A trailer field line: checked as a head's field line is (a token, then ':' with
        // no whitespace before it, RFC 9112 section 5.1; no obs-fold, section 5.2), its
        // bytes counted and dropped (nothing uses trailers here).
        if (TCHAR[b] !== 1) return this.#fail(ChunkError.Malformed);
        this.#step = Step.TrailerName;
        return this.#countTrailer();
      case Step.TrailerName:
        if (b === COLON) this.#step = Step.TrailerValue;
        else if (TCHAR[b] !== 1) return this.#fail(ChunkError.Malformed);
        return this.#countTrailer();
      case Step.TrailerValue:
        if (b === CR) this.#step = Step.TrailerLf;
        else if ((b < SP && b !== TAB) || b === DEL) return this.#fail(ChunkError.Malformed);
        return this.#countTrailer();
      case Step.TrailerLf:
        if (b !== LF) return this.#fail(ChunkError.Malformed);
        this.#step = Step.TrailerStart;
        return this.#countTrailer();
      case Step.FinalLf:
        if (b !== LF) return this.#fail(ChunkError.Malformed);
        this.#step = Step.Done;
        return true;
      // feed() handles these two itself; a framing byte never reaches them.
      case Step.Data:
      case Step.Done:
        return this.#fail(ChunkError.Malformed);
    }
  }

  /** After the size, a name or a value: BWS, another extension, or the line's end. */
  #afterItem(b: number): boolean {
    if (b === SEMI) {
      this.#step = Step.ExtName;
      return true;
    }
    if (b === SP || b === TAB) {
      this.#step = Step.Bws;
      return true;
    }
    if (b === CR) {
      this.#step = Step.SizeLf;
      return true;
    }
    return this.#fail(ChunkError.Malformed);
  }

  #countTrailer(): boolean {
    if (++this.#trailerBytes > this.#maxTrailer) return this.#fail(ChunkError.Malformed);
    return true;
  }
}
