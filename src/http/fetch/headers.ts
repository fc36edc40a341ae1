/**
 * The request's `Headers`, made on demand. Building undici's `Headers` for a browser's seven
 * fields costs about 2.5 us in Node 20 (a fifth of a whole keep-alive request here); most
 * apps only `get()` a field or two. `RequestHeaders` answers `get` and `has` from the
 * server's own lookup, and builds the real `Headers` for anything else (iteration, `set`,
 * `append`...), which from then on answers everything, so every read sees every write.
 * Repeated fields join with ', ' as `Headers` joins them, but for Cookie, whose lines join
 * with '; ' (RFC 9113 section 8.2.3, RFC 6265 section 5.4: a cookie list is one value).
 */
import type { HttpRequest } from '../handler.js';
import { forwardMembers } from './forward.js';

const NativeHeaders: typeof Headers = globalThis.Headers;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The request as the headers read it: `rawHeaders` and `header()` where the server has them. */
export type FieldSource = HttpRequest & {
  readonly rawHeaders?: readonly string[];
  header?(name: string): string | undefined;
};

/** A `Headers` of the request's fields, in the order sent, Cookie lines joined with '; '. */
export function headersOf(req: FieldSource): Headers {
  const headers = new NativeHeaders();
  const raw = req.rawHeaders;
  if (raw === undefined) {
    const fields = req.headers;
    for (const name in fields) appendField(headers, name, fields[name]!);
    return headers;
  }
  let cookie: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.length === 6 && name.toLowerCase() === 'cookie')
      cookie = cookie === undefined ? value : `${cookie}; ${value}`;
    else appendField(headers, name, value);
  }
  if (cookie !== undefined) appendField(headers, 'cookie', cookie);
  return headers;
}

/**
 * Appends a field the server accepted; one that `Headers` refuses is left out rather than
 * failing the request (the app never sees it, as no browser would send it).
 */
function appendField(headers: Headers, name: string, value: string): void {
  try {
    headers.append(name, value);
  } catch {
    // refused by the Headers class: left out (see above)
  }
}

/** A name as `Headers.get` takes it: a token, any case; anything else is its TypeError. */
function fieldName(name: unknown): string {
  const s = String(name);
  if (!TOKEN.test(s)) throw new TypeError(`Headers.get: Invalid header name "${s}"`);
  return s.toLowerCase();
}

/** The real Headers behind a RequestHeaders (built on the first call). */
export let realHeaders: (headers: RequestHeaders) => Headers;

export class RequestHeaders {
  readonly #req: FieldSource;
  #native: Headers | undefined;

  static {
    realHeaders = (headers) => headers.#materialize();
  }

  constructor(req: FieldSource) {
    this.#req = req;
  }

  get(name: string): string | null {
    if (this.#native !== undefined) return this.#native.get(name);
    const lower = fieldName(name);
    const req = this.#req;
    const value = typeof req.header === 'function' ? req.header(lower) : req.headers[lower];
    return value ?? null;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  #materialize(): Headers {
    return (this.#native ??= headersOf(this.#req));
  }
}

// Everything else (iteration, set, append, delete, getSetCookie, forEach...) from the real one.
forwardMembers(RequestHeaders.prototype, NativeHeaders.prototype, (self) => realHeaders(self));
Object.defineProperty(RequestHeaders.prototype, Symbol.toStringTag, { value: 'Headers', configurable: true });
Object.setPrototypeOf(RequestHeaders.prototype, NativeHeaders.prototype);
