/**
 * The exchanges on one connection: input bytes in, responses queued, in request order.
 * Heads are parsed, bodies framed and read (or discarded), each request answered with the
 * fixed response or the handler's, one after another. No syscalls here: the connection
 * reads and writes; this decides what the bytes mean.
 */
import { ChunkError, ChunkedDecoder } from './chunked.js';
import type { ChunkSink } from './chunked.js';
import { BadResponse, Persistence, frameResponse, pendingRequest } from './handler.js';
import type { HttpRequest, HttpResponse, PendingRequest, RequestHandler } from './handler.js';
import { Expect, Framing, HeadState, Method, RequestHead, parseHead, requestLineLonger, scanHead } from './parser.js';
import { CONTINUE, Variant } from './responses.js';
import type { DateClock, ErrorResponses, FixedResponses } from './responses.js';
import type { FileSegment } from './file-output.js';
import type { StaticFiles } from './static/files.js';
import { readStaticRequest } from './static/request.js';
import type { StaticRequest } from './static/request.js';

/** What an exchange needs of the server (the engine provides it). */
export interface ExchangeHost {
  readonly fixed: FixedResponses;
  readonly errors: ErrorResponses;
  readonly clock: DateClock;
  readonly handler: RequestHandler | undefined;
  /** The files served instead of the fixed response (`--root`). */
  readonly statics: StaticFiles | undefined;
  readonly maxHeadBytes: number;
  readonly maxBodyBytes: number;
  readonly maxRequests: number;
  /** The server is shutting down: every response from now on closes its connection. */
  readonly draining: boolean;
  /** Whether the strategy lets connections persist. */
  readonly keepAlive: boolean;
  /** Called with each request head's bytes (valid only during the call). */
  readonly onRequest: ((request: Buffer) => void) | undefined;
  readonly counters: { requests: number; rejected: number; handlerErrors: number };
  /** A handler failed (threw, rejected or answered something unsendable). */
  handlerFailed(err: unknown): void;
  /** `delta` bytes more (or fewer) of request input are held in memory (the server's budget). */
  held(delta: number): void;
}

/** Where the request in progress is. */
export const enum Phase {
  Head = 0,
  Body = 1,
  /** The handler's answer is pending. */
  Waiting = 2,
  /** A response that closes the connection was queued: later input is not read as requests. */
  Closing = 3,
}

/** Unsent bytes past which a connection stops answering pipelined requests until they drain. */
export const OUTPUT_LIMIT = 64 * 1024;

/** What the exchange uses of a connection. */
export interface ExchangeConn {
  readonly exchangeHost: ExchangeHost;
  phase: Phase;
  /** Bytes of the current head already scanned by scanHead. */
  headScanned: number;
  /** Requests on this connection so far. */
  requests: number;
  /** The queued response ends the connection; `lingerNeeded`: half-close and drain first. */
  closeAfter: boolean;
  lingerNeeded: boolean;
  /** Unsent output bytes. */
  readonly outBytes: number;
  // The request in progress.
  reqHttp11: boolean;
  reqIsHead: boolean;
  reqPersistence: Persistence;
  reqStatus: number;
  /** The response was queued at the head (a fixed response does not wait for its body). */
  reqAnswered: boolean;
  bodyLeft: number;
  chunks: ChunkedDecoder | null;
  pending: PendingRequest | null;
  /** The request for a file, read at its head (static files only). */
  staticRequest: StaticRequest | null;
  /** The body collected for a handler (one buffer, grown by doubling), and its length. */
  body: Buffer | null;
  bodyBytes: number;
  /** Queues a response's segments (sent in order); a file segment is the queue's to close. */
  queue(first: Uint8Array, body: Uint8Array | FileSegment | null): void;
  /** Queues an interim response (100 Continue): sent in order, not counted as a response. */
  interim(bytes: Uint8Array): void;
  /** A head's first bytes arrived: its idle clock starts now. */
  headStarted(): void;
  /** A body made progress. */
  bodyProgress(): void;
  /** Enters or leaves the handler wait. */
  setWaiting(waiting: boolean): void;
  /** The handler's answer came: the connection goes on with its input and output. */
  resume(): void;
  /** The connection is gone (closed meanwhile): a late handler answer is dropped. */
  readonly gone: boolean;
  /** Closes without a response (binary garbage). */
  abort(): void;
}

/** The one head parsed at a time (parsing is synchronous and never nests). */
const head = new RequestHead();

/** Fixed-response methods: what the seed answered, it still answers; the rest get 501. */
function fixedAnswers(method: Method): boolean {
  return method !== Method.Other && method !== Method.CONNECT;
}

/**
 * Processes `buf[start, end)`: as many requests as are complete and allowed now. Returns
 * the offset up to which the bytes were used, or -1 when the connection was closed.
 */
export function processInput(c: ExchangeConn, buf: Buffer, start: number, end: number): number {
  const host = c.exchangeHost;
  host.clock.tick();
  let pos = start;
  for (;;) {
    if (c.phase === Phase.Waiting) return pos;
    // A body is read (or discarded) whatever the output: it costs no more than its limit.
    if (c.phase === Phase.Body) {
      pos = readBody(c, buf, pos, end);
      if (pos < 0) return -1;
      if (c.phase === Phase.Body) return pos;
      continue;
    }
    if (c.phase === Phase.Closing) return end;
    if (c.outBytes > OUTPUT_LIMIT) return pos;
    if (pos >= end) return pos;
    const from = pos + c.headScanned;
    // An offset past the head's end, or a HeadState (0 and below).
    const r = scanHead(buf, pos, from, end);
    const state = r as HeadState;
    if (state === HeadState.Partial) {
      if (c.headScanned === 0) c.headStarted();
      c.headScanned = end - pos;
      if (end - pos > host.maxHeadBytes) return tooLong(c, buf, pos, end, end);
      return pos;
    }
    if (state === HeadState.Garbage) {
      c.abort();
      return -1;
    }
    if (c.headScanned === 0) c.headStarted();
    c.headScanned = 0;
    if (state === HeadState.Invalid) return uncounted(c, 400, requestLineIsHttp11(buf, pos, end), end);
    if (r - pos > host.maxHeadBytes) return tooLong(c, buf, pos, r, end);
    const status = parseHead(buf, pos, r, head);
    host.counters.requests++;
    c.requests++;
    const headStart = pos;
    pos = r;
    if (status !== 0) return refuse(c, status, head.http11 && status !== 505, end);
    startRequest(c, buf, headStart, pos, end);
  }
}

/** Answers with an error status and closes after it (lingering: the peer may still be sending). */
/** A head too long to read (414 for its request line alone, 431): it counts as a request. */
function tooLong(c: ExchangeConn, buf: Buffer, pos: number, headEnd: number, end: number): number {
  const status = requestLineLonger(buf, pos, headEnd, c.exchangeHost.maxHeadBytes) ? 414 : 431;
  return uncounted(c, status, requestLineIsHttp11(buf, pos, headEnd), end);
}

/** A refusal before parseHead counted the request. */
function uncounted(c: ExchangeConn, status: number, http11: boolean, end: number): number {
  c.exchangeHost.counters.requests++;
  return refuse(c, status, http11, end);
}

/** Whether a request line that parseHead never read ends in HTTP/1.1, so its error can say so. */
export function requestLineIsHttp11(buf: Buffer, pos: number, end: number): boolean {
  const nl = buf.indexOf(0x0a, pos);
  if (nl < 0 || nl >= end) return false;
  const stop = nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
  return stop - pos >= 8 && buf.toString('latin1', stop - 8, stop) === 'HTTP/1.1';
}

function refuse(c: ExchangeConn, status: number, http11: boolean, end: number): number {
  const host = c.exchangeHost;
  host.counters.rejected++;
  c.queue(host.errors.get(status, http11), null);
  c.closeAfter = true;
  c.lingerNeeded = true;
  c.phase = Phase.Closing;
  c.headScanned = 0;
  return end;
}

/** A head was parsed: decide how the exchange ends, and read its body or answer it now. */
function startRequest(c: ExchangeConn, buf: Buffer, headStart: number, pos: number, end: number): void {
  const host = c.exchangeHost;
  const http11 = head.http11;
  // close wins over keep-alive in either version (RFC 9112 section 9.3).
  const persistent =
    host.keepAlive && !host.draining && c.requests < host.maxRequests && !head.close && (http11 || head.keepAlive);
  // The seed prints everything received with the request; on a connection that goes on,
  // what follows the head is the next request's, printed with it.
  host.onRequest?.(buf.subarray(headStart, persistent ? pos : end));
  c.reqHttp11 = http11;
  c.reqIsHead = head.method === Method.HEAD;
  c.reqPersistence = persistent ? (http11 ? Persistence.Persistent11 : Persistence.KeepAlive10) : Persistence.Close;
  c.closeAfter = !persistent;
  // The server ends a conversation the client meant to go on: its pipelined requests behind
  // this one are still arriving, and must be read, not reset.
  c.lingerNeeded = !persistent && !head.close && (http11 || head.keepAlive);
  if (head.expect === Expect.Other) {
    refuse(c, 417, http11, end);
    return;
  }
  const handled = host.handler !== undefined;
  c.reqStatus = head.method === Method.CONNECT || (!handled && !fixedAnswers(head.method)) ? 501 : 200;
  c.pending = handled && c.reqStatus === 200 ? pendingRequest(buf, head) : null;
  if (host.statics !== undefined && c.reqStatus === 200) c.staticRequest = readStaticRequest(buf, head);
  if (head.framing === Framing.None) {
    answer(c);
    return;
  }
  if (head.framing === Framing.Length && head.contentLength > host.maxBodyBytes) {
    refuse(c, 413, http11, end);
    return;
  }
  c.bodyLeft = head.framing === Framing.Length ? head.contentLength : 0;
  c.chunks = head.framing === Framing.Chunked ? new ChunkedDecoder(host.maxBodyBytes, host.maxHeadBytes) : null;
  c.body = null;
  c.bodyBytes = 0;
  if (c.pending === null && head.framing === Framing.Length) {
    // Nothing reads this body: answer now and discard it as it comes (nginx does the same
    // for a fixed response). Not a chunked body: it may still prove malformed or too large,
    // and its 400/413 would then be a second response to one request (the next request's,
    // to a pipelining client). A client waiting for 100 Continue still gets it first: one
    // that sees only the final answer may skip its body (curl does) and send its next
    // request, which would be read as that body.
    if (head.expect === Expect.Continue && pos === end) c.interim(CONTINUE);
    answer(c);
    c.reqAnswered = true;
    c.phase = Phase.Body;
    return;
  }
  c.reqAnswered = false;
  c.phase = Phase.Body;
  // A client that waits for 100 Continue has sent nothing of its body yet.
  if (head.expect === Expect.Continue && pos === end) c.interim(CONTINUE);
}

/** The body is in (or discarded): answer it, unless that was done at its head. */
function bodyDone(c: ExchangeConn): void {
  if (!c.reqAnswered) answer(c);
  else c.phase = c.closeAfter ? Phase.Closing : Phase.Head;
  c.reqAnswered = false;
}

/**
 * Appends body bytes for a handler: one buffer per request, grown by doubling, so a body
 * sent as a million one-byte chunks costs its bytes, not a million objects; its capacity
 * counts against the server's input budget.
 */
function collectBody(c: ExchangeConn, buf: Uint8Array, s: number, e: number): void {
  const n = e - s;
  const need = c.bodyBytes + n;
  let body = c.body;
  if (body === null || need > body.length) {
    const grown = Buffer.allocUnsafe(
      Math.max(need, body === null ? Math.min(64 * 1024, Math.max(need, c.bodyLeft)) : body.length * 2),
    );
    if (body !== null) body.copy(grown, 0, 0, c.bodyBytes);
    c.exchangeHost.held(grown.length - (body === null ? 0 : body.length));
    c.body = body = grown;
  }
  body.set(buf.subarray(s, e), c.bodyBytes);
  c.bodyBytes = need;
}

/** Sink for body bytes on the handler path (module-level: one body is fed at a time). */
let sinkTarget: ExchangeConn | null = null;
const collect: ChunkSink = (buf, s, e) => collectBody(sinkTarget!, buf, s, e);

function readBody(c: ExchangeConn, buf: Buffer, pos: number, end: number): number {
  if (pos >= end) return pos;
  c.bodyProgress();
  const keep = c.pending !== null;
  if (c.chunks === null) {
    const take = Math.min(c.bodyLeft, end - pos);
    if (keep && take > 0) collectBody(c, buf, pos, pos + take);
    c.bodyLeft -= take;
    pos += take;
    if (c.bodyLeft === 0) bodyDone(c);
    return pos;
  }
  sinkTarget = c;
  const r = c.chunks.feed(buf, pos, end, keep ? collect : undefined);
  sinkTarget = null;
  if (r < 0) {
    const error = c.chunks.error;
    c.chunks = null;
    return refuse(c, error === ChunkError.TooLarge ? 413 : 400, c.reqHttp11, end);
  }
  if (c.chunks.done) {
    c.chunks = null;
    bodyDone(c);
  }
  return r;
}

/** The request is complete: queue its response, or start its handler. */
function answer(c: ExchangeConn): void {
  const host = c.exchangeHost;
  c.phase = c.closeAfter ? Phase.Closing : Phase.Head;
  if (c.reqStatus !== 200) {
    queueError(c, c.reqStatus);
    return;
  }
  const file = c.staticRequest;
  if (file !== null) {
    c.staticRequest = null;
    const r = host.statics!.respond(file, c.reqHttp11, c.reqPersistence, c.reqIsHead, host.clock.text);
    c.queue(r.first, r.body);
    return;
  }
  const pending = c.pending;
  if (pending === null) {
    const variant = c.reqHttp11
      ? c.closeAfter
        ? Variant.Close11
        : Variant.Persistent11
      : c.closeAfter
        ? Variant.SeedClose
        : Variant.KeepAlive10;
    const segs = host.fixed.get(variant, c.reqIsHead);
    c.queue(segs.first, segs.body);
    return;
  }
  c.pending = null;
  const body = c.body;
  c.body = null;
  // The body is the handler's from now on, out of the server's budget.
  if (body !== null) host.held(-body.length);
  const request: HttpRequest = {
    ...pending,
    body: body === null ? Buffer.alloc(0) : body.subarray(0, c.bodyBytes),
  };
  let result: HttpResponse | Promise<HttpResponse>;
  try {
    result = host.handler!(request);
  } catch (err) {
    failed(c, err);
    return;
  }
  if (result !== null && typeof result === 'object' && typeof (result as Promise<HttpResponse>).then === 'function') {
    const phase = c.phase;
    c.phase = Phase.Waiting;
    c.setWaiting(true);
    // Through a real Promise: a thenable's then() may throw, or call back twice, and
    // neither may crash the server or answer one request twice.
    Promise.resolve(result).then(
      (res) => settle(c, phase, res, undefined),
      (err: unknown) => settle(c, phase, undefined, err ?? new Error('the handler rejected')),
    );
    return;
  }
  respondWith(c, result);
}

function settle(c: ExchangeConn, phase: Phase, res: HttpResponse | undefined, err: unknown): void {
  if (c.gone) return;
  c.phase = phase;
  c.setWaiting(false);
  if (err !== undefined) failed(c, err);
  else respondWith(c, res);
  c.resume();
}

function respondWith(c: ExchangeConn, res: unknown): void {
  // Persistence was decided at the head; close() may have begun while the body or the
  // handler was pending, and then this response ends the connection and must say so.
  if (c.exchangeHost.draining && c.reqPersistence !== Persistence.Close) {
    c.reqPersistence = Persistence.Close;
    c.closeAfter = true;
    c.lingerNeeded = true;
    c.phase = Phase.Closing;
  }
  try {
    const segs = frameResponse(res, c.reqHttp11, c.reqPersistence, c.reqIsHead, c.exchangeHost.clock.now());
    c.queue(segs.first, segs.body);
    if (segs.closes && !c.closeAfter) {
      // The handler said Connection: close: what was pipelined behind is read and dropped.
      c.closeAfter = true;
      c.lingerNeeded = true;
      c.phase = Phase.Closing;
    }
  } catch (err) {
    if (!(err instanceof BadResponse)) throw err;
    failed(c, err);
  }
}

/** A handler that failed: 500, and the connection closes after it; the server goes on. */
function failed(c: ExchangeConn, err: unknown): void {
  c.exchangeHost.counters.handlerErrors++;
  c.exchangeHost.handlerFailed(err);
  queueError(c, 500);
}

function queueError(c: ExchangeConn, status: number): void {
  const host = c.exchangeHost;
  host.counters.rejected++;
  c.queue(host.errors.get(status, c.reqHttp11), null);
  c.closeAfter = true;
  c.lingerNeeded = true;
  c.phase = Phase.Closing;
}
