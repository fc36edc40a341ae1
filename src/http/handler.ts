/**
 * The request handler's side of the server: what a handler sees (the request, built
 * lazily in request.ts) and answers, and that answer checked and framed. Framing is the
 * server's business: a handler's Content-Length (but a stream's), Transfer-Encoding and
 * Connection fields are replaced, never trusted.
 */
import { discardStream, isFileBody, isStreamBody, openFileBody } from './answer-body.js';
import type { FileBody, StreamBody } from './answer-body.js';
import type { FileSegment } from './file-output.js';
import { TCHAR } from './head.js';
import { BodyFraming, INLINE_BODY_MAX, Persistence, withBody, withText } from './response-head.js';
import type { ResponseMemo } from './response-memo.js';

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

/**
 * What a field value may hold: HTAB, visible ASCII, SP and obs-text. A CR or LF would split
 * the response (header injection); anything above U+00FF has no byte of its own.
 */
function valueIsSendable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || TCHAR[c] !== 1) return false;
  }
  return true;
}

/** Fields the server frames itself. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

/** A handler's answer that cannot be sent. */
export class BadResponse extends Error {}

function isPlainObject(o: unknown): boolean {
  if (typeof o !== 'object' || o === null) return false;
  const proto = Object.getPrototypeOf(o) as unknown;
  return (proto === Object.prototype || proto === null) && !(Symbol.iterator in o);
}

/** A handler's header fields, checked and serialized one by one. */
class FieldWriter {
  fields = '';
  hasDate = false;
  /** The handler's Connection field ends the connection. */
  closes = false;
  /** A stream's Content-Length as the handler promised it, or -1. */
  declared = -1;
  /**
   * The names and values added, in order, while every value is a string or a number: what a
   * ResponseMemo may keep (null when not asked for, or once a value is a list or anything else).
   */
  names: string[] | null;
  values: (string | number)[] | null;
  readonly #streamed: boolean;

  constructor(streamed: boolean, keep: boolean) {
    this.#streamed = streamed;
    this.names = keep ? [] : null;
    this.values = keep ? [] : null;
  }

  add(name: unknown, value: unknown): void {
    if (typeof name !== 'string' || !isToken(name))
      throw new BadResponse(`header name ${JSON.stringify(String(name))} is not a token`);
    if (this.names !== null) {
      if (typeof value === 'string' || typeof value === 'number') {
        this.names.push(name);
        this.values!.push(value);
      } else this.names = this.values = null;
    }
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      // The handler may end the conversation; it may not keep one alive the client ended.
      this.closes ||= valuesOf(name, value).some((v) => /(^|,)\s*close\s*(,|$)/i.test(v));
      return;
    }
    // A stream's length is the handler's to promise; any other body's the server counts.
    if (lower === 'content-length' && this.#streamed) this.declared = lengthOf(valuesOf(name, value));
    if (FRAMING.has(lower)) return;
    if (lower === 'date') this.hasDate = true;
    if (typeof value === 'string') {
      if (!valueIsSendable(value)) throw unsendable(name);
      this.fields += `${name}: ${value}\r\n`;
      return;
    }
    for (const v of valuesOf(name, value)) this.fields += `${name}: ${v}\r\n`;
  }
}

function unsendable(name: string): BadResponse {
  return new BadResponse(`header ${name} has a control character or a character above U+00FF in its value`);
}

/** The [name, value] pairs of a handler's `headers`, whatever the container; anything else is refused. */
function entriesOf(headers: unknown): Iterable<readonly [unknown, unknown]> {
  if (headers === undefined || headers === null) return [];
  if (typeof headers !== 'object')
    throw new BadResponse(`the response headers must be an object, a Headers or a Map, not ${typeof headers}`);
  if (headers instanceof Map || (typeof Headers === 'function' && headers instanceof Headers))
    return headers as Iterable<readonly [unknown, unknown]>;
  if (Symbol.iterator in headers) return pairs(headers as Iterable<unknown>);
  return Object.entries(headers);
}

function* pairs(list: Iterable<unknown>): Iterable<readonly [unknown, unknown]> {
  for (const pair of list) {
    if (!Array.isArray(pair) || pair.length !== 2)
      throw new BadResponse('each entry of the response headers must be a [name, value] pair');
    yield pair as [unknown, unknown];
  }
}

/** A handler's answer, framed: its head (with a small body), the rest, and what is still to come. */
export interface FramedResponse {
  readonly first: Uint8Array;
  /** Bytes or a file range after the head, or null. */
  readonly body: Uint8Array | FileSegment | null;
  /** The response ends the connection (the request or the handler said so, or its body ends with it). */
  readonly closes: boolean;
  /** A body stream still to be produced, or null. */
  readonly stream: object | null;
  /** The stream's chunks are framed as chunked. */
  readonly chunked: boolean;
  /** The Content-Length the head promised for the stream, or -1. */
  readonly length: number;
}

const EMPTY = new Uint8Array(0);

/**
 * A handler's response to a request of `http11`'s version, ending as `persistence` says;
 * `head`: a HEAD request (the fields of a GET, no content). Throws BadResponse for a status,
 * field name or value that cannot be sent, and whatever the answer's own getters throw.
 */
export function frameResponse(
  res: unknown,
  http11: boolean,
  persistence: Persistence,
  head: boolean,
  date: string,
  memo: ResponseMemo,
): FramedResponse {
  if (typeof res !== 'object' || res === null)
    throw new BadResponse(`the handler must return an object, not ${res === null ? 'null' : typeof res}`);
  const r = res as HttpResponse;
  const status = r.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599)
    throw new BadResponse(`status ${String(status)} is not 200 to 599`);
  const raw: unknown = r.body;
  let bytes: Uint8Array | null = null;
  let file: FileBody | null = null;
  let stream: object | null = null;
  /** A text body, encoded only when the head is written (straight after it, for a small one). */
  let text: string | null = null;
  let textLength = 0;
  if (raw === undefined || raw === null) bytes = EMPTY;
  else if (typeof raw === 'string') {
    text = raw;
    textLength = memo.textLength(raw);
  } else if (raw instanceof Uint8Array) bytes = raw;
  else if (typeof raw === 'object' && isFileBody(raw)) file = raw;
  else if (typeof raw === 'object' && isStreamBody(raw)) stream = raw;
  else
    throw new BadResponse(`the response body must be a string, a Uint8Array, a stream or { file }, not ${typeof raw}`);
  // No content, whatever the handler gave: 204 and 304 without a length either, 205 with a
  // length of 0 (RFC 9110 sections 15.3.5, 15.3.6 and 15.4.5).
  const noLength = status === 204 || status === 304;
  const noContent = noLength || status === 205;
  // A HEAD answered without a body (Hono's and node:http's way) says nothing of the GET's
  // length: its Content-Length is the handler's if it gave one, else none (not a false 0).
  const headOnly = head && !noContent && (raw === undefined || raw === null);
  const streamedFields = stream !== null || headOnly;
  let fields = '';
  let hasDate = false;
  let handlerCloses = false;
  let declared = -1;
  const headers: unknown = r.headers;
  if (headers !== undefined && headers !== null) {
    const plain = isPlainObject(headers);
    const record = headers as Record<string, unknown>;
    if (plain && !streamedFields && memo.sameFields(record)) {
      fields = memo.fields;
      hasDate = memo.hasDate;
      handlerCloses = memo.closes;
    } else {
      const f = new FieldWriter(streamedFields, plain && !streamedFields);
      // The common case, a plain object, without an entries array per response.
      if (plain) for (const name in record) f.add(name, record[name]);
      else for (const [name, value] of entriesOf(headers)) f.add(name, value);
      fields = f.fields;
      hasDate = f.hasDate;
      handlerCloses = f.closes;
      declared = f.declared;
      if (f.names !== null) memo.keepFields(f.names, f.values!, fields, hasDate, handlerCloses);
    }
  }
  let closes = persistence === Persistence.Close || handlerCloses;
  let framing = noLength ? BodyFraming.None : BodyFraming.Length;
  let length = 0;
  let body: Uint8Array | FileSegment | null = null;
  let chunked = false;
  if (stream !== null) {
    if (head || noContent) {
      discardStream(stream);
      stream = null;
    }
    if (noContent) length = 0;
    else if (declared >= 0) length = declared;
    else if (http11) framing = BodyFraming.Chunked;
    else if (head) framing = BodyFraming.None;
    else {
      // HTTP/1.0 has no chunked coding: the body ends with the connection.
      framing = BodyFraming.UntilClose;
      closes = true;
    }
    chunked = framing === BodyFraming.Chunked && stream !== null;
  } else if (file !== null) {
    const opened = openFileBody(file, head || noContent);
    length = noContent ? 0 : opened.length;
    body = opened.segment;
  } else if (headOnly) {
    if (declared >= 0) length = declared;
    else framing = BodyFraming.None;
  } else {
    length = noContent ? 0 : text !== null ? textLength : bytes!.byteLength;
  }
  const headDate = hasDate ? null : date;
  const ending = closes ? Persistence.Close : persistence;
  const headText = memo.head(status, http11, headDate, fields, framing, length, ending);
  if (text !== null) {
    const none = head || noContent || textLength === 0;
    if (!none && textLength <= INLINE_BODY_MAX) {
      const first = memo.headWithText(headText, text);
      return { first, body: null, closes, stream: null, chunked: false, length: -1 };
    }
    const segs = none ? withBody(headText, null) : withText(headText, text, textLength);
    return { first: segs.first, body: segs.body, closes, stream: null, chunked: false, length: -1 };
  }
  if (bytes !== null) {
    const segs = withBody(headText, head || noContent ? null : bytes);
    return { first: segs.first, body: segs.body, closes, stream: null, chunked: false, length: -1 };
  }
  const first = Buffer.from(headText, 'latin1');
  return { first, body, closes, stream, chunked, length: stream !== null && declared >= 0 ? declared : -1 };
}

/** A stream's Content-Length as the handler gave it: one non-negative integer. */
function lengthOf(values: string[]): number {
  const n = values.length === 1 ? Number(values[0]) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || !/^\d+$/.test(values[0]!.trim()))
    throw new BadResponse(`Content-Length ${JSON.stringify(values.join(', '))} is not a length`);
  return n;
}

/** A header's values as text: strings and finite numbers, alone or in a list; anything else is refused. */
function valuesOf(name: string, value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  return list.map((v) => {
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw new BadResponse(`header ${name} has a value that is not a string or a number`);
    }
    const s = String(v);
    if (!valueIsSendable(s)) throw unsendable(name);
    return s;
  });
}
