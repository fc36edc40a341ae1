/**
 * `Response` made cheap. In Node 20 `new Response('text')` costs about 23 us (undici builds a
 * Headers, a ReadableStream for the body and checks every argument), more than a whole request
 * in the C server (13.5 us). `LightResponse` keeps what it was given and builds undici's
 * Response only when the app touches what needs it (`body`, `text()`, `clone()`, ...); the
 * adapter reads status, headers and body straight from what it kept. `serve()` installs it as
 * `globalThis.Response` (as @hono/node-server does; `overrideGlobalObjects: false` opts out),
 * since an app calls `new Response()` by its global name: there is no other way in.
 *
 * Kept safe: `instanceof Response` is true for undici's Responses and for light ones (and a
 * subclass's `instanceof` stays its own); the static `json`, `redirect` and `error` work as
 * the standard says; a subclass (`class R extends Response`) gets a light response with its
 * own prototype; every member not answered here goes to the real Response, made once.
 */

import { forwardMembers } from './forward.js';

const NativeResponse: typeof Response = globalThis.Response;

/** The web's HeadersInit and BodyInit (not global types without the DOM library). */
export type HeadersInit = ConstructorParameters<typeof Headers>[0];
type BodyInit = ConstructorParameters<typeof Response>[0];

/** undici's Content-Type for a string body. */
export const TEXT_PLAIN = 'text/plain;charset=UTF-8';
/** Statuses whose response has no content, so a body is refused (fetch: "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The parts of a light response the adapter reads without building undici's objects. */
export interface LightParts {
  status: number;
  /** A HeadersInit as given (undefined: none), or the Headers the app already made. */
  headers: HeadersInit | undefined;
  body: string | Uint8Array | ReadableStream<Uint8Array> | null;
}

/** What lightParts returns, reused: read at once by the one caller, never kept (no allocation per response). */
const parts: LightParts = { status: 200, headers: undefined, body: null };

/** The parts of a light response (valid until the next call), or undefined for any other value (undici's Responses). */
export let lightParts: (value: unknown) => LightParts | undefined;

/** A body kept as is: the kinds the adapter sends without undici. */
function keepable(body: unknown): body is string | Uint8Array | ArrayBuffer | ReadableStream | null | undefined {
  return (
    body === null ||
    body === undefined ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    body instanceof ReadableStream
  );
}

export class LightResponse {
  #body: string | Uint8Array | ReadableStream<Uint8Array> | null = null;
  #init: ResponseInit | undefined;
  #headers: Headers | undefined;
  #native: Response | undefined;

  static {
    lightParts = (value) => {
      if (typeof value !== 'object' || value === null || !(#body in value) || value.#native !== undefined)
        return undefined;
      parts.status = value.#init?.status ?? 200;
      parts.headers = value.#headers ?? value.#init?.headers;
      parts.body = value.#body;
      return parts;
    };
  }

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    if (!keepable(body) || (init !== undefined && (init === null || typeof init !== 'object'))) {
      // Any other body (Blob, FormData, URLSearchParams, a DataView, an async iterable...):
      // undici's own, made now, so its type, length and errors are the standard's.
      this.#native = new NativeResponse(body, init);
      return;
    }
    const status = init?.status;
    if (status !== undefined) {
      if (!Number.isInteger(status) || status < 200 || status > 599)
        throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive, not ${String(status)}`);
      if (body !== null && body !== undefined && NULL_BODY.has(status))
        throw new TypeError(`Response constructor: Invalid response status code ${status}`);
    }
    if (init?.statusText !== undefined && !/^[\t\x20-\x7e\x80-\xff]*$/.test(init.statusText))
      throw new TypeError('Response constructor: Invalid statusText');
    this.#init = init;
    this.#body = body instanceof ArrayBuffer ? new Uint8Array(body) : (body ?? null);
  }

  /** As undici's `Response.json`, lightly. */
  static json(data: unknown, init?: ResponseInit): Response {
    const body = JSON.stringify(data);
    if (body === undefined) throw new TypeError('Value is not JSON serializable');
    let headers: HeadersInit = { 'content-type': 'application/json' };
    if (init?.headers !== undefined) {
      const given = new Headers(init.headers);
      if (!given.has('content-type')) given.set('content-type', 'application/json');
      headers = given;
    }
    return new LightResponse(body, { ...init, headers }) as unknown as Response;
  }

  /** As undici's `Response.redirect`: an absolute URL (no base in Node), a redirect status. */
  static redirect(url: string | URL, status = 302): Response {
    let location: string;
    try {
      location = new URL(String(url)).href;
    } catch {
      throw new TypeError(`Failed to parse URL from ${String(url)}`);
    }
    if (!REDIRECTS.has(status)) throw new RangeError(`Invalid status code ${status}`);
    return new LightResponse(null, { status, headers: { location } }) as unknown as Response;
  }

  static error(): Response {
    return NativeResponse.error();
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    if (this !== LightResponse) return Function.prototype[Symbol.hasInstance].call(this, value);
    return value instanceof NativeResponse;
  }

  get status(): number {
    return this.#native?.status ?? this.#init?.status ?? 200;
  }

  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status <= 299;
  }

  get statusText(): string {
    return this.#native?.statusText ?? this.#init?.statusText ?? '';
  }

  /** The fields, with the Content-Type a string body implies, as undici would make them. */
  get headers(): Headers {
    if (this.#native !== undefined) return this.#native.headers;
    if (this.#headers === undefined) {
      const headers = new Headers(this.#init?.headers);
      if (typeof this.#body === 'string' && !headers.has('content-type')) headers.set('content-type', TEXT_PLAIN);
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** undici's Response with what this one holds (its headers as they are now), made once. */
  #materialize(): Response {
    if (this.#native === undefined) {
      const init = this.#init;
      this.#native = new NativeResponse(this.#body, {
        status: init?.status ?? 200,
        statusText: init?.statusText ?? '',
        headers: this.headers,
      });
      this.#body = null;
    }
    return this.#native;
  }

  static {
    forwardMembers(LightResponse.prototype, NativeResponse.prototype, (self) => self.#materialize());
  }
}

Object.defineProperty(LightResponse.prototype, Symbol.toStringTag, { value: 'Response', configurable: true });
Object.setPrototypeOf(LightResponse, NativeResponse);
Object.setPrototypeOf(LightResponse.prototype, NativeResponse.prototype);
