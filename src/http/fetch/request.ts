/**
 * The web `Request` a fetch app gets, made cheap: a stand-in whose prototype chain ends in
 * `Request.prototype` (so `instanceof Request` holds), answering `method`, `url` and the body
 * readers (`text()`, `json()`, `arrayBuffer()`, `blob()`) from the server's own request, and
 * building undici's objects only when the app touches what needs them: `headers` a view that
 * answers `get`/`has` from the server's lookup (headers.ts), `body` a `ReadableStream` over
 * `req.stream()`, `signal` from `req.signal`, and a real `Request` (for `formData()`,
 * `clone()`, `cache`, ...) only then. In Node 20 a `new Request(url)` costs about 10 us, a
 * whole request in the C server 13.5.
 */
import { EtltBodyTooLargeError } from '../../errors.js';
import type { HttpRequest } from '../handler.js';
import { forwardMembers } from './forward.js';
import { RequestHeaders, realHeaders } from './headers.js';

const NativeRequest: typeof Request = globalThis.Request;
/** The web's RequestInfo (not a global type without the DOM library). */
type RequestInfo = ConstructorParameters<typeof Request>[0];

/**
 * What the application-path work adds to the request (CONTRACT.md); absent on a server
 * without it, where the body is `req.body`, whole.
 */
export interface RequestExtras {
  readonly rawHeaders: readonly string[];
  stream(): AsyncIterable<Buffer>;
  readonly signal: AbortSignal;
}
/** The server's request, with what it may have of the contract's additions. */
export type ExchangeRequest = HttpRequest & Partial<RequestExtras>;

const EMPTY = Buffer.alloc(0);
const decoder = new TextDecoder();

/** The rejection of a second read of a body, in undici's words. */
function unusable(): TypeError {
  return new TypeError('Body is unusable: Body has already been read');
}

/** The methods the fetch standard normalizes (upper-cases); PATCH is not among them. */
const NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/** A method as a `Request` holds it: one of NORMALIZED upper-cased, every other as sent (methods are case-sensitive). */
function normalizeMethod(method: string): string {
  if (NORMALIZED.has(method)) return method;
  const upper = method.toUpperCase();
  return NORMALIZED.has(upper) ? upper : method;
}

/**
 * The whole body of a request, with at most one copy (none when it came in one piece). A
 * streamed body past the server's `maxBodyBytes` stops being read (the server drops the
 * rest) and rejects with an EtltBodyTooLargeError: a collector must not take the memory a
 * streamed upload may not (`maxStreamBodyBytes` bounds streams read piece by piece).
 */
export async function wholeBody(req: ExchangeRequest): Promise<Buffer> {
  if (typeof req.stream !== 'function') return req.body;
  const limit = typeof req.maxBodyBytes === 'number' ? req.maxBodyBytes : Infinity;
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req.stream()) {
    n += chunk.length;
    if (n > limit) throw new EtltBodyTooLargeError(limit);
    chunks.push(chunk);
  }
  if (chunks.length === 0) return EMPTY;
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n);
}

/** A ReadableStream over the request's body (pulled only when read: highWaterMark 0). */
function bodyStream(req: ExchangeRequest, onPull: () => void): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        onPull();
        if (iterator === undefined) {
          if (typeof req.stream !== 'function') {
            if (req.body.length > 0) controller.enqueue(req.body);
            controller.close();
            return;
          }
          iterator = req.stream()[Symbol.asyncIterator]();
        }
        const r = await iterator.next();
        if (r.done === true) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel() {
        onPull();
        await iterator?.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** The body of a request whose body was read: empty, and locked as a read one is. */
function usedStream(): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close();
    },
  });
  stream.getReader();
  return stream;
}

/** Whether a value is a stand-in (set in the class's static block, which sees its private names). */
let isStandIn: (value: unknown) => value is FetchRequest;
/** The real `Request` behind a stand-in (built on the first call). */
export let nativeOf: (request: FetchRequest) => Request;

/**
 * The stand-in. Built by the adapter only (its constructor is not public API): `new Request()`
 * by an app makes a real one.
 */
export class FetchRequest {
  readonly #req: ExchangeRequest;
  readonly #url: string;
  readonly #method: string;
  #headers: RequestHeaders | undefined;
  #signal: AbortSignal | undefined;
  #body: ReadableStream<Uint8Array> | null | undefined;
  #bodyTouched = false;
  #bodyUsed = false;
  #native: Request | undefined;

  static {
    isStandIn = (value: unknown): value is FetchRequest => typeof value === 'object' && value !== null && #req in value;
    nativeOf = (request) => request.#materialize();
  }

  constructor(req: ExchangeRequest, url: string) {
    this.#req = req;
    this.#url = url;
    this.#method = normalizeMethod(req.method);
  }

  get method(): string {
    return this.#method;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    return (this.#headers ??= new RequestHeaders(this.#req)) as unknown as Headers;
  }

  /** Aborts when the server's request does (client gone, idle timeout, close()'s deadline). */
  get signal(): AbortSignal {
    return (this.#signal ??= this.#req.signal ?? new AbortController().signal);
  }

  /** GET and HEAD have no body (the fetch standard); any other a stream, empty or not. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#native !== undefined) return this.#native.body;
    if (this.#body === undefined) {
      if (!this.#hasBody()) this.#body = null;
      else if (this.#bodyUsed) this.#body = usedStream();
      else
        this.#body = bodyStream(this.#req, () => {
          this.#bodyTouched = true;
        });
    }
    return this.#body;
  }

  get bodyUsed(): boolean {
    if (this.#native !== undefined) return this.#native.bodyUsed;
    return this.#bodyUsed || this.#bodyTouched;
  }

  text(): Promise<string> {
    return this.#read('text', (b) => decoder.decode(b));
  }

  json(): Promise<unknown> {
    return this.#read('json', (b) => JSON.parse(decoder.decode(b)) as unknown);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#read('arrayBuffer', (b) =>
      b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
        ? (b.buffer as ArrayBuffer)
        : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
    );
  }

  bytes(): Promise<Uint8Array> {
    return this.#read('bytes', (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  }

  blob(): Promise<Blob> {
    return this.#read('blob', (b) => new Blob([b], { type: this.headers.get('content-type') ?? '' }));
  }

  formData(): Promise<FormData> {
    if (this.#bodyUsed) return Promise.reject(unusable());
    // Untouched, the body is collected here first (within maxBodyBytes), then parsed by
    // undici's Request, which would otherwise read a stream of any length.
    if (
      this.#native === undefined &&
      this.#body === undefined &&
      this.#hasBody() &&
      typeof this.#req.stream === 'function'
    ) {
      this.#bodyUsed = true;
      return wholeBody(this.#req).then((body) => this.#materialize(body).formData());
    }
    return this.#materialize().formData();
  }

  clone(): Request {
    if (this.#bodyUsed) throw unusable();
    return this.#materialize().clone();
  }

  #hasBody(): boolean {
    return this.#method !== 'GET' && this.#method !== 'HEAD';
  }

  /**
   * A body reader: straight from the server's request while nothing else touched the body
   * (no stream made, no real Request), else through the real Request, which then owns it.
   */
  #read<T>(name: 'text' | 'json' | 'arrayBuffer' | 'bytes' | 'blob', decode: (body: Buffer) => T): Promise<T> {
    // A request without a body (GET, HEAD) reads as empty, as often as asked (fetch: a null
    // body is never "unusable").
    if (!this.#hasBody()) return settle(EMPTY, decode);
    if (this.#bodyUsed || (this.#native === undefined && this.#bodyTouched)) return Promise.reject(unusable());
    if (this.#native !== undefined || this.#body !== undefined) {
      // Through a Promise: the real Request refuses a body stream already read, by a throw.
      return new Promise<T>((resolve) => {
        const native = this.#materialize() as unknown as Record<string, (() => Promise<T>) | undefined>;
        const read = native[name];
        if (typeof read !== 'function') throw new TypeError(`Request has no ${name}()`);
        resolve(read.call(native));
      });
    }
    this.#bodyUsed = true;
    if (typeof this.#req.stream !== 'function') return settle(this.#req.body, decode);
    return wholeBody(this.#req).then(decode);
  }

  /**
   * The real Request, built once. TRACE is one undici refuses: it is built as a GET and the
   * stand-in keeps answering 'TRACE' for its method. A body already read through the fast
   * path is not given again.
   */
  #materialize(collected?: Buffer): Request {
    if (this.#native !== undefined) return this.#native;
    const method = this.#method;
    const init: RequestInit & { duplex: 'half' } = {
      method: method.toUpperCase() === 'TRACE' || method.toUpperCase() === 'TRACK' ? 'GET' : method,
      headers: realHeaders((this.#headers ??= new RequestHeaders(this.#req))),
      signal: this.signal,
      duplex: 'half',
    };
    const body = collected ?? (this.#bodyUsed ? null : this.body);
    if (body !== null && init.method !== 'GET') init.body = body;
    return (this.#native = new NativeRequest(this.#url, init));
  }
}

/** The decoded body as a Promise: a decoder that throws (JSON) rejects it. */
function settle<T>(body: Buffer, decode: (body: Buffer) => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(decode(body)));
}

// The rest of Request's members (cache, credentials, mode, redirect, keepalive, duplex...)
// come from the real one, made on first use.
forwardMembers(FetchRequest.prototype, NativeRequest.prototype, (self) => nativeOf(self));
Object.defineProperty(FetchRequest.prototype, Symbol.toStringTag, { value: 'Request', configurable: true });
Object.setPrototypeOf(FetchRequest.prototype, NativeRequest.prototype);

/**
 * `Request` as `serve()` installs it on globalThis (as @hono/node-server does): a subclass of
 * undici's that accepts a stand-in where undici wants a real Request (`new Request(c.req.raw)`,
 * `new Request(url, c.req.raw)`), adds `duplex: 'half'` for a streamed body, and keeps
 * `instanceof` true for every real Request and every stand-in.
 */
export class WebRequest extends NativeRequest {
  constructor(input: RequestInfo | URL | FetchRequest, init?: RequestInit) {
    const source = isStandIn(input) ? nativeOf(input) : input;
    let options: unknown = init;
    // A Request as the init dictionary: undici reads its members (a stand-in's body is a
    // stream, which would need duplex: its real Request answers 'half').
    if (isStandIn(init)) options = nativeOf(init);
    else if (
      init !== null &&
      typeof init === 'object' &&
      init.body instanceof ReadableStream &&
      (init as { duplex?: string }).duplex === undefined
    )
      options = { ...init, duplex: 'half' };
    super(source, options as RequestInit);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== WebRequest) return Function.prototype[Symbol.hasInstance].call(this, value);
    return value instanceof NativeRequest;
  }
}

/** Whether a value is one of the adapter's stand-ins. */
export function isFetchRequest(value: unknown): value is FetchRequest {
  return isStandIn(value);
}
