/**
 * The request handler's side of the server: the request as strings (made only when there
 * is a handler: the fixed response path allocates nothing per request), and the handler's
 * answer checked and framed. Framing is the server's business: a handler's Content-Length,
 * Transfer-Encoding and Connection fields are replaced, never trusted.
 */
import { TCHAR } from './head.js';
import type { RequestHead } from './parser.js';
import { BodyFraming, Persistence, responseHead, withBody } from './response-head.js';
import type { Segments } from './response-head.js';

/** A request as a handler sees it. */
export interface HttpRequest {
  /** The method, as sent: 'GET', 'POST', ... */
  readonly method: string;
  /** The request-target, as sent: '/path?query', '*', or an absolute URI. */
  readonly target: string;
  /** '1.0' or '1.1' (a later 1.x is answered as 1.1). */
  readonly version: '1.0' | '1.1';
  /** Field values by lower-case name; repeated fields joined with ', ' (Cookie with '; '). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body, decoded from Content-Length or chunked framing; empty when there is none. */
  readonly body: Buffer;
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
  /** The body: a string (sent as UTF-8) or bytes. */
  body?: string | Uint8Array | null;
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

/** The parts of a request made at head time, before its body arrives. */
export interface PendingRequest {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  headers: Record<string, string>;
}

/** Strings from a parsed head in `buf` (valid only until the next read). */
export function pendingRequest(buf: Buffer, head: RequestHead): PendingRequest {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const f = head.fields;
  for (let i = 0; i < head.fieldCount; i++) {
    const name = buf.toString('latin1', f[4 * i], f[4 * i + 1]).toLowerCase();
    const value = buf.toString('latin1', f[4 * i + 2], f[4 * i + 3]);
    const before = headers[name];
    headers[name] = before === undefined ? value : `${before}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return {
    method: buf.toString('latin1', head.methodStart, head.methodEnd),
    target: buf.toString('latin1', head.targetStart, head.targetEnd),
    version: head.http11 ? '1.1' : '1.0',
    headers,
  };
}

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

export { Persistence } from './response-head.js';

/** A handler's answer that cannot be sent. */
export class BadResponse extends Error {}

function bodyBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return body;
  throw new BadResponse(`the response body must be a string or a Uint8Array, not ${typeof body}`);
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

/**
 * The bytes of a handler's response to a request of `http11`'s version, ending as
 * `persistence` says; `head`: a HEAD request (the fields of a GET, no content). Throws
 * BadResponse for a status, field name or value that cannot be sent, and whatever the
 * answer's own getters throw.
 */
export function frameResponse(
  res: unknown,
  http11: boolean,
  persistence: Persistence,
  head: boolean,
  date: string,
): Segments & { readonly closes: boolean } {
  if (typeof res !== 'object' || res === null)
    throw new BadResponse(`the handler must return an object, not ${res === null ? 'null' : typeof res}`);
  const r = res as HttpResponse;
  const status = r.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599)
    throw new BadResponse(`status ${String(status)} is not 200 to 599`);
  const body = bodyBytes(r.body);
  // No content, whatever the handler gave: 204 and 304 without a length either, 205 with a
  // length of 0 (RFC 9110 sections 15.3.5, 15.3.6 and 15.4.5).
  const noLength = status === 204 || status === 304;
  const noContent = noLength || status === 205;
  let fields = '';
  let hasDate = false;
  let closes = persistence === Persistence.Close;
  for (const [name, value] of entriesOf(r.headers)) {
    if (typeof name !== 'string' || !isToken(name))
      throw new BadResponse(`header name ${JSON.stringify(String(name))} is not a token`);
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      // The handler may end the conversation; it may not keep one alive the client ended.
      closes ||= valuesOf(name, value).some((v) => /(^|,)\s*close\s*(,|$)/i.test(v));
      continue;
    }
    if (FRAMING.has(lower)) continue;
    if (lower === 'date') hasDate = true;
    for (const v of valuesOf(name, value)) fields += `${name}: ${v}\r\n`;
  }
  const framing = noLength ? BodyFraming.None : BodyFraming.Length;
  const length = noContent ? 0 : body.byteLength;
  const text = responseHead(
    status,
    http11,
    hasDate ? null : date,
    fields,
    framing,
    length,
    closes ? Persistence.Close : persistence,
  );
  const segs = withBody(text, head || noContent ? null : body);
  return { first: segs.first, body: segs.body, closes };
}

/** A header's values as text: strings and finite numbers, alone or in a list; anything else is refused. */
function valuesOf(name: string, value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  return list.map((v) => {
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw new BadResponse(`header ${name} has a value that is not a string or a number`);
    }
    const s = String(v);
    if (!valueIsSendable(s)) {
      throw new BadResponse(`header ${name} has a control character or a character above U+00FF in its value`);
    }
    return s;
  });
}
