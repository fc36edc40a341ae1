/**
 * A request as a handler sees it, built lazily: at its head only the method and target
 * are made, and the head's bytes copied (the receive buffer is reused by the next read)
 * with the field offsets; the header object, raw list, signal and addresses are made when first read,
 * so a handler that reads nothing of them pays nothing for them.
 */
import { decodeAddress } from '../address.js';
import { SOCKADDR_STORAGE_SIZE } from '../constants.js';
import { EtltRequestAbortedError } from '../errors.js';
import type { RequestAbortCause } from '../errors.js';
import { sys } from '../sys.js';
import type { HttpRequest } from './handler.js';
import { METHOD_NAMES, Method } from './head.js';
import type { RequestHead } from './head.js';

/** What a request reads of its connection, lazily. */
export interface RequestLink {
  readonly fd: number;
  /** The connection is closed (its fd may already name another socket). */
  readonly gone: boolean;
}

/** A streamed request body's source (see body-stream.ts): pulled by `stream()`. */
export interface BodySource {
  [Symbol.asyncIterator](): AsyncIterator<Buffer>;
}

/**
 * Bytes as a latin1 string (one character a byte), the cheapest way Node has:
 * `Buffer#latin1Slice`, which `toString('latin1', start, end)` calls after an encoding
 * lookup and a wrapper (together about 40% of the copy, profiled on the pipelined handler
 * path: 4.8% of the server's CPU against 6.2% for the copy itself). The method has no
 * documentation of its own, so where it is missing the documented call is used.
 */
type Latin1Slicer = { latin1Slice?: (start: number, end: number) => string };

const latin1: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as Latin1Slicer).latin1Slice === 'function'
    ? (buf, start, end) => (buf as Latin1Slicer).latin1Slice!(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);

const EMPTY = Buffer.alloc(0);

export class ServerRequest implements HttpRequest {
  // Own data properties, made at once: every handler routes on them, and `{ ...req }` keeps them.
  readonly method: string;
  readonly target: string;
  readonly version: '1.0' | '1.1';
  readonly #maxBodyBytes: number;
  readonly #link: RequestLink;
  /**
   * The head as latin1 text, one character a byte: a single copy out of the receive buffer
   * (which the next read reuses), cheaper than any Buffer copy (a view and a pool slice each).
   */
  readonly #head: string;
  /** The field offsets into `#head`, found on first read: name start, end, value start, end. */
  #offsets: Int32Array | undefined;
  #headers: Record<string, string> | undefined;
  #raw: string[] | undefined;
  #body: Buffer | null = null;
  #source: BodySource | null = null;
  #streamed = false;
  #controller: AbortController | null = null;
  #aborted: EtltRequestAbortedError | null = null;
  #remote: [string, number] | undefined;
  #local: [string, number] | undefined;

  /** The request whose head is `buf[start, end)`, parsed into `head`; `maxBodyBytes`: the server's. */
  constructor(link: RequestLink, buf: Buffer, head: RequestHead, start: number, end: number, maxBodyBytes: number) {
    this.#link = link;
    this.#maxBodyBytes = maxBodyBytes;
    const text = latin1(buf, start, end);
    this.#head = text;
    this.method =
      head.method === Method.Other
        ? text.slice(head.methodStart - start, head.methodEnd - start)
        : METHOD_NAMES[head.method]!;
    this.target = text.slice(head.targetStart - start, head.targetEnd - start);
    this.version = head.http11 ? '1.1' : '1.0';
  }

  /** The fields' offsets into `#head`. */
  get #fields(): Int32Array {
    return (this.#offsets ??= fieldOffsets(this.#head));
  }

  /** The server's limit of a whole body (a getter: `{ ...req }` keeps only what the client sent). */
  get maxBodyBytes(): number {
    return this.#maxBodyBytes;
  }

  get headers(): Readonly<Record<string, string>> {
    if (this.#headers !== undefined) return this.#headers;
    const headers = Object.create(null) as Record<string, string>;
    const f = this.#fields;
    const buf = this.#head;
    for (let i = 0; i < f.length; i += 4) {
      const name = buf.slice(f[i], f[i + 1]).toLowerCase();
      const value = buf.slice(f[i + 2], f[i + 3]);
      const before = headers[name];
      headers[name] = before === undefined ? value : `${before}${name === 'cookie' ? '; ' : ', '}${value}`;
    }
    return (this.#headers = headers);
  }

  header(name: string): string | undefined {
    if (this.#headers !== undefined) return this.#headers[name.toLowerCase()];
    const text = this.#head;
    const len = name.length;
    let found: string | undefined;
    // Line by line through the text, nothing built but the value (a lookup of Host or
    // Content-Type is the common case, and needs no other field).
    for (let at = firstFieldLine(text); ;) {
      const lf = text.indexOf('\n', at);
      if (lf < 0 || lf === at || (lf === at + 1 && text.charCodeAt(at) === 0x0d)) return found;
      if (text.charCodeAt(at + len) === 0x3a && sameName(text, at, name)) {
        const value = fieldValue(text, at + len + 1, lf);
        if (found === undefined) found = value;
        else found += `${len === 6 && sameName(text, at, 'cookie') ? '; ' : ', '}${value}`;
      }
      at = lf + 1;
    }
  }

  get rawHeaders(): readonly string[] {
    if (this.#raw !== undefined) return this.#raw;
    const f = this.#fields;
    const buf = this.#head;
    const raw: string[] = [];
    for (let i = 0; i < f.length; i += 2) raw.push(buf.slice(f[i], f[i + 1]));
    return (this.#raw = raw);
  }

  get body(): Buffer {
    if (this.#source !== null)
      throw new TypeError('the request body is streamed (requestBody: "stream"): read it with req.stream()');
    return this.#body ?? EMPTY;
  }

  /** The body as it arrives; in 'buffer' mode the whole body, once. Callable once. */
  stream(): AsyncIterable<Buffer> {
    if (this.#streamed) throw new TypeError('req.stream() can be called once per request');
    this.#streamed = true;
    if (this.#source !== null) return this.#source;
    const chunks = this.#body !== null && this.#body.length > 0 ? [this.#body] : [];
    return {
      [Symbol.asyncIterator]: () => {
        let i = 0;
        return {
          next: () =>
            Promise.resolve<IteratorResult<Buffer>>(
              i < chunks.length ? { done: false, value: chunks[i++]! } : { done: true, value: undefined },
            ),
        };
      },
    };
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted !== null) this.#controller.abort(this.#aborted);
    }
    return this.#controller.signal;
  }

  get remoteAddress(): string {
    return (this.#remote ??= this.#address(true))[0];
  }

  get remotePort(): number {
    return (this.#remote ??= this.#address(true))[1];
  }

  get localAddress(): string {
    return (this.#local ??= this.#address(false))[0];
  }

  get localPort(): number {
    return (this.#local ??= this.#address(false))[1];
  }

  // ---- the server's side ----

  /** The whole body, collected ('buffer' mode). */
  setBody(body: Buffer | null): void {
    this.#body = body;
  }

  /** The body's source ('stream' mode). */
  setSource(source: BodySource): void {
    this.#source = source;
  }

  /** The request ended before its response was sent: its signal aborts (now, or when first read). */
  abort(why: RequestAbortCause): void {
    if (this.#aborted !== null) return;
    this.#aborted = new EtltRequestAbortedError(why);
    this.#controller?.abort(this.#aborted);
  }

  /** Whether the signal was aborted (read or not). */
  get aborted(): boolean {
    return this.#aborted !== null;
  }

  /** Its address from the kernel, while the connection is open ('' and 0 after: the fd may be another's). */
  #address(peer: boolean): [string, number] {
    return this.#link.gone ? ['', 0] : addressOf(this.#link.fd, peer);
  }
}

/** The peer's (or, `peer` false, the local) address and port of the socket `fd`; '' and 0 when unknown. */
export function addressOf(fd: number, peer: boolean): [string, number] {
  const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
  const n = peer ? sys.getpeername(fd, sa) : sys.getsockname(fd, sa);
  if (n < 0) return ['', 0];
  const a = decodeAddress(sa, n);
  return typeof a === 'string' ? [a, 0] : [a[0], a[1]];
}

/** Whether `text` at `at` holds `name`, compared ASCII-case-insensitively (the lengths match). */
function sameName(text: string, at: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) {
    let c = name.charCodeAt(k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    let b = text.charCodeAt(at + k);
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (b !== c) return false;
  }
  return true;
}

/**
 * The field offsets of a head that parseHead accepted (name start, end, value start, end,
 * as the parser found them): its lines end in LF or CRLF, empty lines may come before the
 * request line, a field line is a name, a colon and a value with SP or HTAB around it, and
 * neither a value nor a name holds CR or LF.
 */
export function fieldOffsets(head: string): Int32Array {
  let count = 0;
  for (let at = head.indexOf('\n', firstFieldLine(head)); at >= 0; at = head.indexOf('\n', at + 1)) count++;
  // Every line but the empty one that ends the head is a field line.
  const offsets = new Int32Array(4 * Math.max(0, count - 1));
  let i = firstFieldLine(head);
  for (let f = 0; f < offsets.length; f += 4) {
    const lf = head.indexOf('\n', i);
    const colon = head.indexOf(':', i);
    let from = colon + 1;
    let to = lf > 0 && head.charCodeAt(lf - 1) === 0x0d ? lf - 1 : lf;
    while (from < to && isBlank(head.charCodeAt(from))) from++;
    while (to > from && isBlank(head.charCodeAt(to - 1))) to--;
    offsets[f] = i;
    offsets[f + 1] = colon;
    offsets[f + 2] = from;
    offsets[f + 3] = to;
    i = lf + 1;
  }
  return offsets;
}

/** Where the first field line starts: past any empty lines and the request line. */
function firstFieldLine(head: string): number {
  let i = 0;
  for (;;) {
    const c = head.charCodeAt(i);
    if (c === 0x0a) i++;
    else if (c === 0x0d && head.charCodeAt(i + 1) === 0x0a) i += 2;
    else break;
  }
  return head.indexOf('\n', i) + 1;
}

/** The value of the field line whose colon is just before `from` and whose LF is at `lf`: SP and HTAB trimmed. */
function fieldValue(head: string, from: number, lf: number): string {
  let to = head.charCodeAt(lf - 1) === 0x0d ? lf - 1 : lf;
  while (from < to && isBlank(head.charCodeAt(from))) from++;
  while (to > from && isBlank(head.charCodeAt(to - 1))) to--;
  return head.slice(from, to);
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
