/**
 * The chunked transfer coding's decoder (RFC 9112 section 7.1): a byte-at-a-time state
 * machine that can stop at any byte and go on with the next read, importing nothing.
 * Framing lines must end in CRLF: a lone LF inside a chunked body is where front ends and
 * back ends disagree about where a request ends (request smuggling), so it is refused.
 */

/** Where the decoder is. */
const enum Step {
  Size = 0,
  /** After the size's digits: optional whitespace, then ';' or CR. */
  SizeEnd = 1,
  /** In a chunk extension: `;name[=value]`, value a token or a quoted string. */
  ExtName = 2,
  ExtNameEnd = 3,
  ExtValueStart = 4,
  ExtToken = 5,
  ExtQuoted = 6,
  ExtQuotedEscape = 7,
  ExtAfterValue = 8,
  SizeLf = 9,
  Data = 10,
  DataCr = 11,
  DataLf = 12,
  /** After the last chunk: trailer field lines, then an empty line. */
  TrailerStart = 13,
  TrailerLine = 14,
  TrailerLf = 15,
  FinalLf = 16,
  Done = 17,
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

const TCHAR = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) TCHAR[c] = 1;
for (const c of '"(),/:;<=>?@[\\]{}') TCHAR[c.charCodeAt(0)] = 0;

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Most hex digits in a chunk size: 13 are enough for 2**52, beyond which sizes lose exactness. */
const MAX_SIZE_DIGITS = 13;

/** Receives decoded body bytes: `buf[start, end)`, valid only during the call. */
export type ChunkSink = (buf: Uint8Array, start: number, end: number) => void;

export class ChunkedDecoder {
  #step: Step = Step.Size;
  #size = 0;
  #digits = 0;
  /** Data bytes left in the current chunk. */
  #left = 0;
  #total = 0;
  #trailerBytes = 0;
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
    switch (this.#step) {
      case Step.Size: {
        const h = hexValue(b);
        if (h >= 0) {
          if (++this.#digits > MAX_SIZE_DIGITS) return this.#fail(ChunkError.Malformed);
          this.#size = this.#size * 16 + h;
          return true;
        }
        if (this.#digits === 0) return this.#fail(ChunkError.Malformed);
        return this.#sizeEnd(b);
      }
      case Step.SizeEnd:
        return this.#sizeEnd(b);
      case Step.ExtName:
        if (TCHAR[b] === 1) {
          this.#step = Step.ExtNameEnd;
          return true;
        }
        if (b === SP || b === TAB) return true;
        return this.#fail(ChunkError.Malformed);
      case Step.ExtNameEnd:
        if (TCHAR[b] === 1) return true;
        if (b === '='.charCodeAt(0)) {
          this.#step = Step.ExtValueStart;
          return true;
        }
        return this.#extEnd(b);
      case Step.ExtValueStart:
        if (b === 0x22) {
          this.#step = Step.ExtQuoted;
          return true;
        }
        if (TCHAR[b] === 1) {
          this.#step = Step.ExtToken;
          return true;
        }
        return this.#fail(ChunkError.Malformed);
      case Step.ExtToken:
        if (TCHAR[b] === 1) return true;
        return this.#extEnd(b);
      case Step.ExtQuoted:
        if (b === 0x22) this.#step = Step.ExtAfterValue;
        else if (b === 0x5c) this.#step = Step.ExtQuotedEscape;
        else if ((b < SP && b !== TAB) || b === 0x7f) return this.#fail(ChunkError.Malformed);
        return true;
      case Step.ExtQuotedEscape:
        if ((b < SP && b !== TAB) || b === 0x7f) return this.#fail(ChunkError.Malformed);
        this.#step = Step.ExtQuoted;
        return true;
      case Step.ExtAfterValue:
        return this.#extEnd(b);
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
        // A trailer field line: its bytes are counted and dropped (nothing uses trailers here).
        if (TCHAR[b] !== 1) return this.#fail(ChunkError.Malformed);
        this.#step = Step.TrailerLine;
        return this.#countTrailer();
      case Step.TrailerLine:
        if (b === CR) this.#step = Step.TrailerLf;
        else if (b === LF || (b < SP && b !== TAB) || b === 0x7f) return this.#fail(ChunkError.Malformed);
        return this.#countTrailer();
      case Step.TrailerLf:
        if (b !== LF) return this.#fail(ChunkError.Malformed);
        this.#step = Step.TrailerStart;
        return this.#countTrailer();
      case Step.FinalLf:
        if (b !== LF) return this.#fail(ChunkError.Malformed);
        this.#step = Step.Done;
        return true;
      default:
        return this.#fail(ChunkError.Malformed);
    }
  }

  #sizeEnd(b: number): boolean {
    // BWS before ';' is tolerated (RFC 9112 section 7.1.1); anything else ends the size.
    if (b === SP || b === TAB) {
      this.#step = Step.SizeEnd;
      return true;
    }
    return this.#extEnd(b);
  }

  /** After a size or an extension: another extension, or the line's end. */
  #extEnd(b: number): boolean {
    if (b === 0x3b) {
      this.#step = Step.ExtName;
      return true;
    }
    if (b === SP || b === TAB) {
      this.#step = Step.ExtAfterValue;
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
