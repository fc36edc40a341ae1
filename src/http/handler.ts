/**
 * The request handler's side of the server, as a handler sees it: the request (built
 * lazily in request.ts) and the answer. The answer is checked and framed by the exchange
 * (exchange-answer.ts, its fields by response-fields.ts).
 */
import type { FileBody, StreamBody } from './answer-body.js';

/** A request as a handler sees it: everything but `version` is made when first read. */
export interface HttpRequest {
  /** The method, as sent: 'GET', 'POST', ... */
  readonly method: string;
  /** The request-target, as sent: '/path?query', '*', or an absolute URI. */
  readonly target: string;
  /** '1.0' or '1.1' (a later 1.x is answered as 1.1). */
  readonly version: '1.0' | '1.1';
  /** Field values by lower-case name; repeated fields joined with ', ' (Cookie with '; '). Built on first read. */
  readonly headers: Readonly<Record<string, string>>;
  /** One field's value (repeats joined as in `headers`), looked up case-insensitively without building `headers`. */
  header(name: string): string | undefined;
  /** [name, value, name, value, ...] as sent, like node:http's. */
  readonly rawHeaders: readonly string[];
  /**
   * The body, decoded from Content-Length or chunked framing; empty when there is none. With
   * `requestBody: 'stream'` reading it throws a TypeError: use `stream()`.
   */
  readonly body: Buffer;
  /** The body as it arrives (with `requestBody: 'buffer'`, the whole body once). Callable once. */
  stream(): AsyncIterable<Buffer>;
  /**
   * The server's `maxBodyBytes`: the most a whole body may hold, in `body` and in readers
   * that collect a streamed one (the fetch adapter's `text()`, `json()`, `formData()`).
   */
  readonly maxBodyBytes: number;
  /**
   * Aborts when the client resets, or closes before its request was complete, when the idle
   * timeout cuts the request off, and at `close()`'s deadline, all before the response was
   * sent; its reason is an EtltRequestAbortedError whose `why` says which. Made when first read.
   */
  readonly signal: AbortSignal;
  /** The client's address and port (getpeername(2), on first read; '' and 0 once the connection is gone). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The address and port the client connected to (getsockname(2), on first read). */
  readonly localAddress: string;
  readonly localPort: number;
}

/** What a handler answers: every field has a default (200, no extra headers, no body). */
export interface HttpResponse {
  /** 200 to 599; default 200. */
  status?: number;
  /**
   * Header fields: a plain object, a `Headers`, a `Map`, or an iterable of [name, value]
   * pairs; a value may be a list (sent as one line each, as Set-Cookie must be).
   */
  headers?: ResponseHeaders;
  /**
   * The body: a string (sent as UTF-8) or bytes; a stream (an AsyncIterable such as a Node
   * Readable or an async generator, or a web ReadableStream) of bytes or strings, sent as it
   * comes (chunked on HTTP/1.1 unless `headers` give a Content-Length, until the close on
   * HTTP/1.0); or a file, `{ file: path | fd, start?, end? }` (end inclusive; an fd becomes
   * the server's to close), sent with sendfile(2).
   */
  body?: string | Uint8Array | null | StreamBody | FileBody;
}

/** The header fields a handler may answer with. */
export type ResponseHeaders =
  | Readonly<Record<string, HeaderValue>>
  | Headers
  | ReadonlyMap<string, HeaderValue>
  | Iterable<readonly [string, string]>;

/** One field's value: text, a number, or a list of them (one field line each). */
export type HeaderValue = string | number | readonly (string | number)[];

/** Answers a request, now or later: responses still leave in request order. */
export type RequestHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;
