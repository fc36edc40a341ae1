/**
 * A web `Response` read into the server's answer (`HttpResponse`): status, fields (every
 * Set-Cookie its own line) and body, with at most one copy of the body. A light response
 * (response.ts) is read from what it kept; undici's through its `headers` and `body`.
 */
import type { HttpResponse } from '../handler.js';
import { TEXT_PLAIN, lightParts } from './response.js';
import type { HeadersInit } from './response.js';

const NativeResponse: typeof Response = globalThis.Response;

/** Field values by name, as the server takes them (a list: one line each). */
type Fields = Record<string, string | string[]>;

/** Shared, never mutated: the server may recognise a fields object it has seen. */
const NO_FIELDS: Fields = Object.freeze(Object.create(null) as Fields);
const TEXT_FIELDS: Fields = Object.freeze({ 'content-type': TEXT_PLAIN });

/** A body the server takes: whole, or (on a server that streams) a ReadableStream or an iterable. */
type Body = string | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null;

/** An empty stream for HEAD: the server frames the answer as it would the GET's, and sends nothing. */
async function* nothing(): AsyncGenerator<Uint8Array> {}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return `an object (${Object.prototype.toString.call(value)})`;
}

/**
 * The server's answer for what `fetch` returned; `isHead`: a HEAD request; `streaming`: the
 * server takes stream bodies (else a stream is collected into bytes first). Throws a
 * TypeError for anything that is not a Response: the server answers 500 and emits
 * 'handlerError'.
 */
export function toHttpResponse(
  res: unknown,
  isHead: boolean,
  streaming: boolean,
): HttpResponse | Promise<HttpResponse> {
  const light = lightParts(res);
  if (light !== undefined)
    return answer(light.status, fieldsOf(light.headers, typeof light.body === 'string'), light.body, isHead, streaming);
  if (!(res instanceof NativeResponse))
    throw new TypeError(`fetch must return a Response or a Promise of one, not ${describe(res)}`);
  if (res.type === 'error') throw new TypeError('fetch returned Response.error(), a network error');
  // Read already (`await res.text()`, a response cached and returned twice): no body can come
  // of it, and a 200 head with a body that breaks off would be a lie (node-server: a 500).
  if (res.bodyUsed) throw new TypeError('fetch returned a Response whose body was already read (bodyUsed)');
  return answer(res.status, fieldsOfHeaders(res.headers), res.body, isHead, streaming);
}

function answer(
  status: number,
  headers: Fields,
  body: Body,
  isHead: boolean,
  streaming: boolean,
): HttpResponse | Promise<HttpResponse> {
  if (body === null || typeof body === 'string' || body instanceof Uint8Array) return { status, headers, body };
  const stream = body as ReadableStream<Uint8Array>;
  if (stream.locked) throw new TypeError('fetch returned a Response whose body is locked (a reader holds it)');
  if (isHead) {
    // Nothing of it is sent: the app's stream (endless, for server-sent events) is cancelled now.
    stream.cancel().catch(() => {});
    return { status, headers, body: streaming ? nothing() : null };
  }
  if (streaming) return { status, headers, body: stream };
  return collect(stream).then((bytes) => ({ status, headers, body: bytes }));
}

/**
 * Most a stream body may hold on a server that cannot stream it (it is collected first): an
 * endless one (server-sent events) must fail, not take the process's memory.
 */
export const MAX_COLLECTED_BYTES = 64 << 20;

/** A stream's bytes in one buffer: one copy (none for a single chunk). */
async function collect(stream: ReadableStream<Uint8Array | string>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!(bytes instanceof Uint8Array))
      throw new TypeError(`a response body stream gave ${describe(bytes)}, not a Uint8Array or a string`);
    chunks.push(bytes);
    n += bytes.byteLength;
    if (n > MAX_COLLECTED_BYTES)
      throw new RangeError(
        `a response body stream passed ${MAX_COLLECTED_BYTES} bytes on a server that sends no stream before its end`,
      );
  }
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, n);
}

/** Fields from a HeadersInit as a light response kept it. */
function fieldsOf(init: HeadersInit | undefined, textBody: boolean): Fields {
  if (init === undefined) return textBody ? TEXT_FIELDS : NO_FIELDS;
  if (init instanceof Headers) return fieldsOfHeaders(init);
  if (Array.isArray(init) || typeof (init as unknown as Iterable<unknown>)[Symbol.iterator] === 'function')
    return fieldsOfHeaders(new Headers(init));
  const record = init as Record<string, unknown>;
  // A record as the app wrote it goes out as it is when it needs nothing done: string values
  // without surrounding whitespace (Headers would strip it), no Set-Cookie, a Content-Type.
  let plain = true;
  let typed = !textBody;
  for (const name in record) {
    if (!Object.prototype.hasOwnProperty.call(record, name)) continue;
    const value = record[name];
    if (typeof value !== 'string' || trimmed(value) !== value) plain = false;
    const lower = name.toLowerCase();
    if (lower === 'content-type') typed = true;
    else if (lower === 'set-cookie') plain = false;
  }
  if (plain && typed) return record as Fields;
  return fieldsOfHeaders(withType(new Headers(record as Record<string, string>), textBody));
}

function withType(headers: Headers, textBody: boolean): Headers {
  if (textBody && !headers.has('content-type')) headers.set('content-type', TEXT_PLAIN);
  return headers;
}

/** HTTP whitespace (HTAB, SP, CR, LF) off both ends, as Headers normalizes a value. */
function trimmed(value: string): string {
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  const ws = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  return ws(first) || ws(last) ? value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '') : value;
}

/** Fields from a Headers: names lower-case as it holds them, each Set-Cookie its own line. */
function fieldsOfHeaders(headers: Headers): Fields {
  const out = Object.create(null) as Fields;
  for (const [name, value] of headers) if (name !== 'set-cookie') out[name] = value;
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}
