/**
 * The bytes the server answers with. The fixed responses (no handler) are built once per
 * second, when the Date changes, never per request: every connection shares them and keeps
 * only an offset. HTTP/1.0 without keep-alive gets the seed's own bytes, its 1996 Date
 * included. A large body is its own segment, never copied into a head. The server also
 * remembers its last handler answer (`ResponseMemo`), so the next one like it is not framed
 * anew. Every head is written by response-head.ts.
 */
import {
  BodyFraming,
  INLINE_BODY_MAX,
  Persistence,
  responseHead,
  textResponse,
  withBody,
  withText,
} from './response-head.js';
import type { Segments } from './response-head.js';

export type { Segments } from './response-head.js';

/** The Date line the seed sends, kept byte for byte. */
const SEED_DATE = 'Mon, 1 Jan 1996 01:01:01 GMT';

/** The seed's body. */
export const SEED_BODY: Buffer = Buffer.from('Hello, world!');

/** The IMF-fixdate of `ms` (RFC 9110 section 5.6.7), as `Date.toUTCString` writes it. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * The current Date value, formatted at most once a second. Reading the clock costs more
 * than a pipelined request's parsing (about 70 ns): it is read once per batch of input
 * (`tick`), and the responses of that batch share the value.
 */
export class DateClock {
  #second = -1;
  /** The Date header's value as of the last tick (a field: read per response; only tick() writes it). */
  text = '';

  /** Reads the clock; a new second formats a new value. */
  tick(): void {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.text = httpDate(second * 1000);
    }
  }

  /** Reads the clock, then the value. */
  now(): string {
    this.tick();
    return this.text;
  }

  /** Seconds since the epoch of the value last returned (it changes when `now()` rebuilds). */
  get second(): number {
    return this.#second;
  }
}

/** The fixed 200 responses for one body, in every variant, GET and HEAD. */
export class FixedResponses {
  readonly #body: Uint8Array;
  readonly #clock: DateClock;
  #second = -2;
  /** [persistence * 2 + (head ? 1 : 0)] */
  #built: Segments[] = [];

  constructor(body: Uint8Array, clock: DateClock) {
    this.#body = body;
    this.#clock = clock;
  }

  /**
   * The response to a request of `http11`'s version ending as `persistence` says, as of the
   * clock's last tick; `head`: without the body (RFC 9110 section 9.3.2). HTTP/1.0 without
   * keep-alive gets the seed's own bytes.
   */
  get(http11: boolean, persistence: Persistence, head: boolean): Segments {
    if (this.#clock.second !== this.#second || this.#built.length === 0) this.#build();
    const p = !http11 && persistence === Persistence.Close ? Persistence.CloseUnsaid : persistence;
    return this.#built[p * 2 + (head ? 1 : 0)]!;
  }

  #build(): void {
    if (this.#clock.second < 0) this.#clock.tick();
    const date = this.#clock.text;
    this.#second = this.#clock.second;
    const body = this.#body;
    const fields = 'Content-Type: text/plain\r\n';
    const length = body.byteLength;
    // In Persistence's order.
    const heads = [
      responseHead(200, true, date, fields, BodyFraming.Length, length, Persistence.Close),
      responseHead(200, false, date, fields, BodyFraming.Length, length, Persistence.KeepAlive10),
      responseHead(200, true, date, fields, BodyFraming.Length, length, Persistence.Persistent11),
      responseHead(200, false, SEED_DATE, fields, BodyFraming.Length, length, Persistence.CloseUnsaid),
    ];
    const built: Segments[] = [];
    for (const text of heads) {
      built.push(withBody(text, body));
      built.push({ first: Buffer.from(text, 'latin1'), body: null });
    }
    this.#built = built;
  }
}

/**
 * A short error response that closes the connection, `HTTP/1.0` or `HTTP/1.1` as the request
 * was (HTTP/1.0 for requests too broken to tell). Built once per status and version.
 */
export class ErrorResponses {
  readonly #cache = new Map<number, Uint8Array>();
  readonly #clock: DateClock;

  constructor(clock: DateClock) {
    this.#clock = clock;
  }

  get(status: number, http11: boolean): Uint8Array {
    // The current Date in either version: the seed's 1996 date is its 200's alone.
    const date = this.#clock.now();
    const key = status * 2 + (http11 ? 1 : 0) + this.#clock.second * 2000;
    let r = this.#cache.get(key);
    if (r === undefined) {
      if (this.#cache.size > 64) this.#cache.clear();
      r = errorResponse(status, http11, date);
      this.#cache.set(key, r);
    }
    return r;
  }
}

/** An error response: status line, Date, a one-line text body, Connection: close. */
export function errorResponse(status: number, http11: boolean, date: string): Buffer {
  return textResponse(status, http11, date, '', Persistence.Close, false);
}

/** The interim response to `Expect: 100-continue` (RFC 9110 section 15.2.1). */
export const CONTINUE: Buffer = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/**
 * The last handler answer's framing, kept by the server so that the next answer like it is
 * not written anew. Most applications answer with the same few header objects and, per
 * route, often the same text: checking that an answer equals the last one (a few string
 * comparisons, most of them of the same interned string) costs far less than checking each
 * field name and value, writing the head and encoding the body again. One memo per server,
 * used only synchronously while one answer is framed; it holds at most one small response.
 */
export class ResponseMemo {
  // ---- the header fields of the last plain-object `headers` (valid: fieldsKept) ----
  #names: string[] = [];
  #values: (string | number)[] = [];
  #fieldsKept = false;
  fields = '';
  hasDate = false;
  /** The handler's own Connection field said close. */
  closes = false;

  // ---- the last head written ----
  #status = 0;
  #http11 = false;
  #date: string | null = null;
  #fieldsOfHead = '';
  #framing: BodyFraming | -1 = -1;
  #length = -1;
  #persistence: Persistence | -1 = -1;
  #head = '';

  // ---- the last text body, its length, and the head with it encoded behind ----
  #text = '';
  #textLength = 0;
  #textHead = '';
  #textFirst: Uint8Array | null = null;

  /** Whether `record`'s fields are those kept, in the same order with the same values. */
  sameFields(record: Readonly<Record<string, unknown>>): boolean {
    if (!this.#fieldsKept) return false;
    const names = this.#names;
    const values = this.#values;
    let i = 0;
    for (const name in record) {
      if (i >= names.length || names[i] !== name || values[i] !== record[name]) return false;
      i++;
    }
    return i === names.length;
  }

  /**
   * Keeps the fields `names`/`values` serialized as `fields`; `values` hold only strings and
   * finite numbers (a list or anything else is not kept: it may change in place).
   */
  keepFields(names: string[], values: (string | number)[], fields: string, hasDate: boolean, closes: boolean): void {
    this.#names = names;
    this.#values = values;
    this.fields = fields;
    this.hasDate = hasDate;
    this.closes = closes;
    this.#fieldsKept = true;
  }

  /** Forgets the kept fields (the last plain-object headers could not be kept). */
  dropFields(): void {
    this.#fieldsKept = false;
  }

  /**
   * responseHead's stand-in, typed as it (one parameter list, checked by the compiler): the
   * last head when the arguments are the same, else written by responseHead now and kept.
   */
  readonly head: typeof responseHead = (status, http11, date, fields, framing, length, persistence) => {
    if (
      status === this.#status &&
      http11 === this.#http11 &&
      date === this.#date &&
      fields === this.#fieldsOfHead &&
      framing === this.#framing &&
      length === this.#length &&
      persistence === this.#persistence
    )
      return this.#head;
    this.#head = responseHead(status, http11, date, fields, framing, length, persistence);
    this.#status = status;
    this.#http11 = http11;
    this.#date = date;
    this.#fieldsOfHead = fields;
    this.#framing = framing;
    this.#length = length;
    this.#persistence = persistence;
    return this.#head;
  };

  /** UTF-8 length of `text` (remembered for the last text). */
  textLength(text: string): number {
    if (text === this.#text) return this.#textLength;
    const length = Buffer.byteLength(text);
    this.#text = text;
    this.#textLength = length;
    this.#textFirst = null;
    return length;
  }

  /**
   * `head` with `text` (at most INLINE_BODY_MAX bytes) encoded behind it, in one buffer
   * shared by every response that is the same: queued buffers are never written to.
   */
  headWithText(head: string, text: string): Uint8Array {
    if (this.#textFirst !== null && text === this.#text && head === this.#textHead) return this.#textFirst;
    const length = this.textLength(text);
    if (length > INLINE_BODY_MAX) throw new RangeError('headWithText: the text is too large to go with its head');
    const first = withText(head, text, length).first;
    this.#textHead = head;
    this.#textFirst = first;
    return first;
  }
}
