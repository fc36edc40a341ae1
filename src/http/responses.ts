/**
 * The bytes the server answers with. The fixed responses (no handler) are built once per
 * second, when the Date changes, never per request: every connection shares them and keeps
 * only an offset. HTTP/1.0 without keep-alive gets the seed's own bytes, its 1996 Date
 * included. A large body is its own segment, never copied into a head.
 */

/** The Date line the seed sends, kept byte for byte. */
const SEED_DATE = 'Mon, 1 Jan 1996 01:01:01 GMT';

/** The seed's body. */
export const SEED_BODY: Buffer = Buffer.from('Hello, world!');

/** Bodies up to this size are copied after their head (one segment, one send); larger stay apart. */
const INLINE_BODY_MAX = 16 * 1024;

/** Reason phrases of the statuses the server sends itself, and common ones a handler may. */
export const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  511: 'Network Authentication Required',
};

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

/** Which fixed response a request gets. */
export const enum Variant {
  /** HTTP/1.0 without keep-alive: the seed's bytes, then close. */
  SeedClose = 0,
  /** HTTP/1.0 with Connection: keep-alive. */
  KeepAlive10 = 1,
  /** HTTP/1.1, persistent. */
  Persistent11 = 2,
  /** HTTP/1.1 with Connection: close. */
  Close11 = 3,
}

/** A response as the segments to send: a head (perhaps with its body), and a large body apart. */
export interface Segments {
  readonly first: Uint8Array;
  readonly body: Uint8Array | null;
}

/** The fixed 200 responses for one body, in every variant, GET and HEAD. */
export class FixedResponses {
  readonly #body: Uint8Array;
  readonly #clock: DateClock;
  #second = -2;
  /** [variant * 2 + (head ? 1 : 0)] */
  #built: Segments[] = [];

  constructor(body: Uint8Array, clock: DateClock) {
    this.#body = body;
    this.#clock = clock;
  }

  /** The response for `variant` as of the clock's last tick; `head`: without the body (RFC 9110 section 9.3.2). */
  get(variant: Variant, head: boolean): Segments {
    if (this.#clock.second !== this.#second || this.#built.length === 0) this.#build();
    return this.#built[variant * 2 + (head ? 1 : 0)]!;
  }

  #build(): void {
    if (this.#clock.second < 0) this.#clock.tick();
    const date = this.#clock.text;
    this.#second = this.#clock.second;
    const body = this.#body;
    const common = `Content-Type: text/plain\r\nContent-Length: ${body.byteLength}\r\n`;
    const heads = [
      `HTTP/1.0 200 OK\r\nDate: ${SEED_DATE}\r\n${common}\r\n`,
      `HTTP/1.0 200 OK\r\nDate: ${date}\r\n${common}Connection: keep-alive\r\n\r\n`,
      `HTTP/1.1 200 OK\r\nDate: ${date}\r\n${common}\r\n`,
      `HTTP/1.1 200 OK\r\nDate: ${date}\r\n${common}Connection: close\r\n\r\n`,
    ];
    const built: Segments[] = [];
    for (const text of heads) {
      const head = Buffer.from(text, 'latin1');
      built.push(
        body.byteLength <= INLINE_BODY_MAX ? { first: Buffer.concat([head, body]), body: null } : { first: head, body },
      );
      built.push({ first: head, body: null });
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
    const date = http11 ? this.#clock.now() : SEED_DATE;
    const key = status * 2 + (http11 ? 1 : 0) + (http11 ? this.#clock.second : 0) * 2000;
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
export function errorResponse(status: number, http11: boolean, date = SEED_DATE): Buffer {
  const reason = REASONS[status] ?? 'Error';
  const body = `${status} ${reason}\n`;
  return Buffer.from(
    `HTTP/1.${http11 ? 1 : 0} ${status} ${reason}\r\nDate: ${date}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    'latin1',
  );
}

/** The interim response to `Expect: 100-continue` (RFC 9110 section 15.2.1). */
export const CONTINUE: Buffer = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
