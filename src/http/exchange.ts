/**
 * The exchanges on one connection: input bytes in, responses queued, in request order.
 * Heads are parsed, bodies framed and read (or discarded), each request answered with the
 * fixed response or the handler's, one after another. No syscalls here: the connection
 * reads and writes; this decides what the bytes mean. One `Exchange` per connection, made
 * with it and reset per request (its shape stays fixed), holds the request in progress;
 * its answering half (the handler's answer, a streamed response, the errors) is
 * exchange-answer.ts.
 */
import { OUTPUT_HIGH_WATER } from './buffers.js';
import { ChunkError } from './chunked.js';
import { EtltRequestAbortedError } from '../errors.js';
import type { RequestAbortCause } from '../errors.js';
import type { HttpResponse } from './handler.js';
import { RequestBody, streamedBodyError } from './request-body.js';
import { ServerRequest } from './request.js';
import { Expect, Framing, HeadState, Method, parseHead, scanHead } from './parser.js';
import type { RequestHead } from './parser.js';
import { Persistence } from './response-head.js';
import { CONTINUE } from './responses.js';
import { readStaticRequest } from './static/request.js';
import type { StaticRequest } from './static/request.js';
import { ExchangeAnswer } from './exchange-answer.js';
import { FILES_LIMIT, Phase, requestLineIsHttp11, requestLineLonger } from './exchange-contract.js';
import type { ExchangeConn, ExchangeHost } from './exchange-contract.js';

export { Phase, requestLineIsHttp11 } from './exchange-contract.js';
export type { ExchangeConn, ExchangeHost } from './exchange-contract.js';

/** Whether a connection closed for `cause` was the client's doing (a reset, or its close). */
function clientLeft(cause: RequestAbortCause): boolean {
  return cause === 'reset' || cause === 'peer-closed';
}

function isGetOrHead(method: Method): boolean {
  return method === Method.GET || method === Method.HEAD;
}

/** Fixed-response methods: what the seed answered, it still answers; the rest get 501. */
function fixedAnswers(method: Method): boolean {
  return method !== Method.Other && method !== Method.CONNECT;
}

/** The request in progress on one connection, and how its exchange ends. */
export class Exchange extends ExchangeAnswer {
  /** Bytes of the current head already scanned by scanHead. */
  headScanned = 0;
  /** Requests on this connection so far. */
  requests = 0;
  /** The status decided at the head: 200, or 501 for a method nothing here answers. */
  status = 200;
  /** The response was queued at the head (a fixed response does not wait for its body). */
  answered = false;
  /** The request for the handler, made at its head, until the handler gets it. */
  pending: ServerRequest | null = null;
  /** The request for a file, read at its head (static files only). */
  staticRequest: StaticRequest | null = null;
  /** The request's body as it is read. */
  readonly body: RequestBody;

  constructor(conn: ExchangeConn, host: ExchangeHost) {
    super(conn, host);
    this.body = new RequestBody(host);
  }

  /** Whether the connection is between requests: no head begun, no body, nothing pending. */
  get betweenRequests(): boolean {
    return this.phase === Phase.Head && this.headScanned === 0 && this.body.source === null;
  }

  /** A streamed request body is still arriving: the socket must be read, whatever the answer does. */
  get bodyOpen(): boolean {
    return this.body.source !== null;
  }

  /** Reading stops until the handler pulls what was read of its streamed body. */
  get inputPaused(): boolean {
    const source = this.body.source;
    return source !== null && source.full;
  }

  /**
   * The connection closed (`why`: how, for a request still unanswered; a reset after the
   * peer's FIN is its close): drops what the
   * request held (a body counts against the budget), aborts its signal, stops a stream.
   */
  release(why: RequestAbortCause, peerClosed: boolean): void {
    const inFlight = this.inFlight;
    this.inFlight = null;
    const cause = why === 'reset' && peerClosed ? 'peer-closed' : why;
    inFlight?.abort(cause);
    this.body.closeSource(new EtltRequestAbortedError(cause));
    const stream = this.stream;
    this.stream = null;
    const log = this.host.accessLog;
    if (stream !== null) {
      stream.stop();
      // Its head went out: a response cut off is still a response, and the one an operator looks for.
      log?.(this.access.entry(this.http11, this.conn.fd));
    } else if (log !== undefined && inFlight !== null && this.phase === Phase.Waiting && clientLeft(cause)) {
      // The client left while its handler worked: no response, but a request to account for.
      // (The server's own ends are not the client's: a cut-off handler's 503 has its entry,
      // and a timeout or a shutdown is no "client closed request".)
      this.access.unanswered();
      log(this.access.entry(this.http11, this.conn.fd));
    }
    this.pending = null;
    this.staticRequest = null;
    this.body.drop();
    this.body.chunks = null;
  }

  /**
   * Processes `buf[start, end)`: as many requests as are complete and allowed now. Returns
   * the offset up to which the bytes were used, or -1 when the connection was closed.
   */
  processInput(buf: Buffer, start: number, end: number): number {
    const host = this.host;
    const c = this.conn;
    host.clock.tick();
    let pos = start;
    for (;;) {
      // A streamed body is read while its handler runs and its answer goes out.
      if (this.body.source !== null) {
        pos = this.#readStreamed(buf, pos, end);
        if (this.body.source !== null) return pos;
        continue;
      }
      if (this.phase === Phase.Waiting || this.phase === Phase.Streaming) return pos;
      // A body is read (or discarded) whatever the output: it costs no more than its limit.
      if (this.phase === Phase.Body) {
        pos = this.#readBody(buf, pos, end);
        if (pos < 0) return -1;
        if (this.phase === Phase.Body) return pos;
        continue;
      }
      if (this.phase === Phase.Closing) return end;
      if (c.outBytes > OUTPUT_HIGH_WATER || c.outFiles >= FILES_LIMIT) return pos;
      if (pos >= end) return pos;
      const from = pos + this.headScanned;
      // An offset past the head's end, or a HeadState (0 and below).
      const r = scanHead(buf, pos, from, end);
      const state = r as HeadState;
      if (state === HeadState.Partial) {
        if (this.headScanned === 0) c.headStarted();
        this.headScanned = end - pos;
        if (end - pos > host.maxHeadBytes) return this.#tooLong(buf, pos, end, end);
        return pos;
      }
      if (state === HeadState.Garbage) {
        c.abort();
        return -1;
      }
      if (this.headScanned === 0) c.headStarted();
      this.headScanned = 0;
      if (state === HeadState.Invalid) return this.#uncounted(400, requestLineIsHttp11(buf, pos, end), end);
      if (r - pos > host.maxHeadBytes) return this.#tooLong(buf, pos, r, end);
      const head = host.parsed;
      const status = parseHead(buf, pos, r, head);
      host.counters.requests++;
      this.requests++;
      const headStart = pos;
      pos = r;
      if (this.host.accessLog !== undefined) this.access.begin(buf, status === 0 ? head : null);
      if (status !== 0) return this.#refuse(status, head.http11 && status !== 505, end);
      this.#start(buf, head, headStart, pos, end);
    }
  }

  /** A head too long to read (414 for its request line alone, 431): it counts as a request. */
  #tooLong(buf: Buffer, pos: number, headEnd: number, end: number): number {
    const status = requestLineLonger(buf, pos, headEnd, this.host.maxHeadBytes) ? 414 : 431;
    return this.#uncounted(status, requestLineIsHttp11(buf, pos, headEnd), end);
  }

  /** A refusal before parseHead counted the request. */
  #uncounted(status: number, http11: boolean, end: number): number {
    this.host.counters.requests++;
    this.access.begin(null, null);
    return this.#refuse(status, http11, end);
  }

  /** Answers with an error status and closes after it (lingering: the peer may still be sending). */
  #refuse(status: number, http11: boolean, end: number): number {
    const host = this.host;
    host.counters.rejected++;
    this.send(host.errors.get(status, http11), null);
    this.endAfterThis();
    this.headScanned = 0;
    return end;
  }

  /** A head was parsed: decide how the exchange ends, and read its body or answer it now. */
  #start(buf: Buffer, head: RequestHead, headStart: number, pos: number, end: number): void {
    const host = this.host;
    const http11 = head.http11;
    // close wins over keep-alive in either version (RFC 9112 section 9.3).
    const persistent =
      host.keepAlive && !host.draining && this.requests < host.maxRequests && !head.close && (http11 || head.keepAlive);
    // The seed prints everything received with the request; on a connection that goes on,
    // what follows the head is the next request's, printed with it.
    host.onRequest?.(buf.subarray(headStart, persistent ? pos : end));
    this.http11 = http11;
    this.isHead = head.method === Method.HEAD;
    this.persistence = persistent ? (http11 ? Persistence.Persistent11 : Persistence.KeepAlive10) : Persistence.Close;
    this.closeAfter = !persistent;
    // The server ends a conversation the client meant to go on: its pipelined requests behind
    // this one are still arriving, and must be read, not reset.
    this.lingerNeeded = !persistent && !head.close && (http11 || head.keepAlive);
    if (head.expect === Expect.Other) {
      this.#refuse(417, http11, end);
      return;
    }
    const handled = host.handler !== undefined;
    this.status = head.method === Method.CONNECT || (!handled && !fixedAnswers(head.method)) ? 501 : 200;
    this.pending =
      handled && this.status === 200
        ? new ServerRequest(this.conn, buf, head, headStart, pos, host.maxBodyBytes)
        : null;
    // With a handler too, files first: what is not a file (or not a GET or HEAD) is the handler's.
    if (host.statics !== undefined && this.status === 200 && (!handled || isGetOrHead(head.method)))
      this.staticRequest = readStaticRequest(buf, head);
    if (head.framing === Framing.None) {
      this.#answer();
      return;
    }
    const streamed = host.streamBodies && this.pending !== null;
    if (
      head.framing === Framing.Length &&
      head.contentLength > (streamed ? host.maxStreamBodyBytes : host.maxBodyBytes)
    ) {
      this.#refuse(413, http11, end);
      return;
    }
    if (streamed) {
      this.#startStreamed(head, pos === end);
      return;
    }
    this.body.start(head.framing === Framing.Chunked, head.contentLength, host.maxBodyBytes, host.maxHeadBytes);
    const expectsContinue = head.expect === Expect.Continue && pos === end;
    if (this.pending === null && head.framing === Framing.Length) {
      // Nothing reads this body: answer now and discard it as it comes (nginx does the same
      // for a fixed response). Not a chunked body: it may still prove malformed or too large,
      // and its 400/413 would then be a second response to one request (the next request's,
      // to a pipelining client). A client waiting for 100 Continue still gets it first: one
      // that sees only the final answer may skip its body (curl does) and send its next
      // request, which would be read as that body.
      if (expectsContinue) this.conn.interim(CONTINUE);
      this.#answer();
      this.answered = true;
      this.phase = Phase.Body;
      return;
    }
    this.answered = false;
    this.phase = Phase.Body;
    // A client that waits for 100 Continue has sent nothing of its body yet.
    if (expectsContinue) this.conn.interim(CONTINUE);
  }

  /** The handler runs now, its body streamed to it as it arrives. */
  #startStreamed(head: RequestHead, expectsNow: boolean): void {
    const host = this.host;
    this.bodyRefusal = 0;
    this.body.start(head.framing === Framing.Chunked, head.contentLength, host.maxStreamBodyBytes, host.maxHeadBytes);
    this.pending!.setSource(this.body.stream(() => this.conn.resume()));
    // A client that waits for 100 Continue has sent nothing of its body yet.
    if (head.expect === Expect.Continue && expectsNow) this.conn.interim(CONTINUE);
    this.#answer();
  }

  /** Streamed body bytes: handed to the source, unless it is full (then the socket waits). */
  #readStreamed(buf: Buffer, pos: number, end: number): number {
    const body = this.body;
    const source = body.source!;
    if (source.full) {
      // Nobody pulls, and the answer is all queued: the rest of the body is read and dropped.
      if ((this.phase === Phase.Head || this.phase === Phase.Closing) && this.inFlight === null) source.abandon();
      else return pos;
    }
    if (pos >= end) return pos;
    this.conn.bodyProgress();
    const r = body.read(buf, pos, end, true);
    if (body.error !== ChunkError.None) {
      // Thrown from the handler's iterator; the connection closes after the handler's
      // answer, or at once if it was sent.
      const error = body.error;
      body.closeSource(streamedBodyError(error));
      // Not answered yet: a handler that fails on its read failed for the client's bytes,
      // and the client hears so (400 or 413, as for a buffered body), not a 500.
      if (this.phase === Phase.Waiting) this.bodyRefusal = error === ChunkError.TooLarge ? 413 : 400;
      this.closeAfter = true;
      this.lingerNeeded = false;
      if (this.phase === Phase.Head) this.phase = Phase.Closing;
    } else if (body.done) body.closeSource(null);
    return r;
  }

  /** The body is in (or discarded): answer it, unless that was done at its head. */
  #bodyDone(): void {
    if (!this.answered) this.#answer();
    else this.phase = this.closeAfter ? Phase.Closing : Phase.Head;
    this.answered = false;
  }

  #readBody(buf: Buffer, pos: number, end: number): number {
    if (pos >= end) return pos;
    this.conn.bodyProgress();
    const body = this.body;
    const r = body.read(buf, pos, end, this.pending !== null);
    if (body.error !== ChunkError.None) {
      return this.#refuse(body.error === ChunkError.TooLarge ? 413 : 400, this.http11, end);
    }
    if (body.done) this.#bodyDone();
    return r;
  }

  /** The request is complete: queue its response, or start its handler. */
  #answer(): void {
    const host = this.host;
    const c = this.conn;
    this.phase = this.closeAfter ? Phase.Closing : Phase.Head;
    if (this.status !== 200) {
      this.queueError(this.status);
      return;
    }
    const file = this.staticRequest;
    let request = this.pending;
    if (file !== null) {
      this.staticRequest = null;
      const date = host.clock.text;
      const r = host.statics!.respond(file, this.http11, this.persistence, this.isHead, date, request !== null);
      if (r !== null) {
        this.send(r.first, r.body);
        this.body.drop();
        this.pending = request = null;
        return;
      }
    }
    if (request === null) {
      const segs = host.fixed.get(this.http11, this.persistence, this.isHead);
      this.send(segs.first, segs.body);
      return;
    }
    this.pending = null;
    // The body is the handler's from now on, out of the server's budget.
    if (this.body.collected !== null) request.setBody(this.body.take());
    this.inFlight = request;
    let result: HttpResponse | Promise<HttpResponse>;
    let async: boolean;
    try {
      result = host.handler!(request);
      // Reading `then` runs the answer's own code when it is a getter: it may throw too.
      async =
        result !== null && typeof result === 'object' && typeof (result as Promise<HttpResponse>).then === 'function';
    } catch (err) {
      this.failed(err);
      return;
    }
    if (async) {
      const phase = this.phase;
      this.phase = Phase.Waiting;
      c.setWaiting(true);
      // Its entry may be written after a reset, when the peer's address is not to be had.
      if (host.accessLog !== undefined) this.access.remember(c.fd);
      // Through a real Promise: a thenable's then() may throw, or call back twice, and
      // neither may crash the server or answer one request twice.
      Promise.resolve(result).then(
        (res) => this.settle(phase, res, undefined),
        (err: unknown) => this.settle(phase, undefined, err ?? new Error('the handler rejected')),
      );
      return;
    }
    this.respondWith(result, host.clock.text);
  }
}
