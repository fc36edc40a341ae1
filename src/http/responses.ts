/**
 * The bytes the server answers with. The fixed responses (no handler) are built once per
 * second, when the Date changes, never per request: every connection shares them and keeps
 * only an offset. HTTP/1.0 without keep-alive gets the seed's own bytes, its 1996 Date
 * included. A large body is its own segment, never copied into a head. Every head is
 * written by response-head.ts.
 */
import { BodyFraming, Persistence, responseHead, textResponse, withBody } from './response-head.js';
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
  #text = '';

  /** Reads the clock; a new second formats a new value. */
  tick(): void {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#text = httpDate(second * 1000);
    }
  }

  /** The Date header's value as of the last tick. */
  get text(): string {
    return this.#text;
  }

  /** Reads the clock, then the value. */
  now(): string {
    this.tick();
    return this.#text;
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
