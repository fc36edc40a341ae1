/**
 * The exchanges on one connection: input bytes in, responses queued, in request order.
 * Heads are parsed, bodies framed and read (or discarded), each request answered with the
 * fixed response or the handler's, one after another. No syscalls here: the connection
 * reads and writes; this decides what the bytes mean. One `Exchange` per connection, made
 * with it and reset per request (its shape stays fixed), holds the request in progress.
 */
import { ResponseStream } from './answer-body.js';
import type { StreamOutput } from './answer-body.js';
import { BodyStream } from './body-stream.js';
import { OUTPUT_HIGH_WATER } from './buffers.js';
import { ChunkError, ChunkedDecoder } from './chunked.js';
import type { ChunkSink } from './chunked.js';
import { EtltRequestAbortedError } from '../errors.js';
import type { RequestAbortCause } from '../errors.js';
import { frameResponse } from './handler.js';
import type { FramedResponse, HttpResponse, RequestHandler } from './handler.js';
import { ServerRequest, addressOf } from './request.js';
import { Expect, Framing, HeadState, Method, parseHead, requestLineLonger, scanHead } from './parser.js';
import type { RequestHead } from './parser.js';
import { Persistence } from './response-head.js';
import { CONTINUE } from './responses.js';
import type { DateClock, ErrorResponses, FixedResponses } from './responses.js';
import type { FileSegment } from './file-output.js';
import type { StaticFiles } from './static/files.js';
import { readStaticRequest } from './static/request.js';
import type { StaticRequest } from './static/request.js';

/** What an exchange needs of the server (the engine provides it). */
export interface ExchangeHost {
  /** The server's one head parser result, reused by every request (parsing never nests). */
  readonly parsed: RequestHead;
  readonly fixed: FixedResponses;
  readonly errors: ErrorResponses;
  readonly clock: DateClock;
  readonly handler: RequestHandler | undefined;
  /** The files served instead of the fixed response (`--root`). */
  readonly statics: StaticFiles | undefined;
  readonly maxHeadBytes: number;
  readonly maxBodyBytes: number;
  /** Bodies go to the handler as they arrive (`requestBody: 'stream'`), up to this many bytes each. */
  readonly streamBodies: boolean;
  readonly maxStreamBodyBytes: number;
  readonly maxRequests: number;
  /** The server is shutting down: every response from now on closes its connection. */
  readonly draining: boolean;
  /** Whether the strategy lets connections persist. */
  readonly keepAlive: boolean;
  /** Called with each request head's bytes (valid only during the call). */
  readonly onRequest: ((request: Buffer) => void) | undefined;
  readonly counters: { requests: number; rejected: number; handlerErrors: number; handlerTimeouts: number };
  /** Called once per response when someone listens for the access log (else undefined: nothing recorded). */
  readonly accessLog: ((entry: AccessEntry) => void) | undefined;
  /** A handler failed (threw, rejected or answered something unsendable). */
  handlerFailed(err: unknown): void;
  /** `delta` bytes more (or fewer) of request input are held in memory (the server's budget). */
  held(delta: number): void;
}

/** One response, for the access log. */
export interface AccessEntry {
  /** The method and target as sent ('-' for a request too broken to read). */
  readonly method: string;
  readonly target: string;
  readonly version: '1.0' | '1.1';
  readonly status: number;
  /** Bytes of the response's content, its head left out (a chunked stream's framing counted), as the common log format's %b. */
  readonly bytes: number;
  /** From the request's head to its response's last byte queued. */
  readonly durationMs: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** When it was logged (ms since the epoch). */
  readonly time: number;
}

/** Where the request in progress is. */
export const enum Phase {
  Head = 0,
  Body = 1,
  /** The handler's answer is pending. */
  Waiting = 2,
  /** A response that closes the connection was queued: later input is not read as requests. */
  Closing = 3,
  /** The response's body is still being produced (a stream): later requests wait for it. */
  Streaming = 4,
}

/** Files queued past which it stops too: tiny files pipelined must not take an fd each by the thousand. */
export const FILES_LIMIT = 16;

/** What the exchange uses of its connection: the output queue and the clock hooks. */
export interface ExchangeConn {
  readonly fd: number;
  /** Unsent output bytes, and the files among them. */
  readonly outBytes: number;
  readonly outFiles: number;
  /** Queues a response's segments (sent in order); a file segment is the queue's to close. */
  queue(first: Uint8Array, body: Uint8Array | FileSegment | null): void;
  /** Queues an interim response (100 Continue): sent in order, not counted as a response. */
  interim(bytes: Uint8Array): void;
  /** Queues more bytes of the response in progress (a streamed body). */
  more(bytes: Uint8Array): void;
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

function isGetOrHead(method: Method): boolean {
  return method === Method.GET || method === Method.HEAD;
}

/** Fixed-response methods: what the seed answered, it still answers; the rest get 501. */
function fixedAnswers(method: Method): boolean {
  return method !== Method.Other && method !== Method.CONNECT;
}

/** The request in progress on one connection, and how its exchange ends. */
export class Exchange implements StreamOutput {
  readonly #conn: ExchangeConn;
  readonly #host: ExchangeHost;
  phase: Phase = Phase.Head;
  /** Bytes of the current head already scanned by scanHead. */
  headScanned = 0;
  /** Requests on this connection so far. */
  requests = 0;
  /** The queued response ends the connection; `lingerNeeded`: half-close and drain first. */
  closeAfter = false;
  lingerNeeded = false;
  // ---- the request in progress (reset by #start) ----
  http11 = false;
  isHead = false;
  persistence: Persistence = Persistence.Close;
  status = 200;
  /** The response was queued at the head (a fixed response does not wait for its body). */
  answered = false;
  bodyLeft = 0;
  chunks: ChunkedDecoder | null = null;
  /** The request for the handler, made at its head, until the handler gets it. */
  pending: ServerRequest | null = null;
  /** The request whose response is not all queued yet: its signal aborts if the connection ends first. */
  #inFlight: ServerRequest | null = null;
  /** The request for a file, read at its head (static files only). */
  staticRequest: StaticRequest | null = null;
  /** The body collected for a handler (one buffer, grown by doubling), and its length. */
  body: Buffer | null = null;
  bodyBytes = 0;
  /** The request body streamed to the handler while it arrives (`requestBody: 'stream'`), or null. */
  source: BodyStream | null = null;
  /** The response body being produced (phase Streaming), or null. */
  stream: ResponseStream | null = null;
  // ---- the access log's record of the request, kept only while someone listens ----
  #logAt = 0;
  #logMethod = '-';
  #logTarget = '-';
  #logStatus = 0;
  #logBytes = 0;
  #peer: [string, number] | null = null;
  /** Hands decoded chunked bytes to the streamed body's source; made on the first one. */
  #push: ChunkSink | null = null;
  /** Receives decoded chunked body bytes; made on the first chunked body kept. */
  #collect: ChunkSink | null = null;

  constructor(conn: ExchangeConn, host: ExchangeHost) {
    this.#conn = conn;
    this.#host = host;
  }

  /** The connection ends after the response queued now: later input is read and dropped. */
  endAfterThis(): void {
    this.closeAfter = true;
    this.lingerNeeded = true;
    this.phase = Phase.Closing;
  }

  /** Whether the connection is between requests: no head begun, no body, nothing pending. */
  get betweenRequests(): boolean {
    return this.phase === Phase.Head && this.headScanned === 0 && this.source === null;
  }

  /** A streamed request body is still arriving: the socket must be read, whatever the answer does. */
  get bodyOpen(): boolean {
    return this.source !== null;
  }

  /** Reading stops until the handler pulls what was read of its streamed body. */
  get inputPaused(): boolean {
    return this.source !== null && this.source.full;
  }

  /**
   * The connection closed (`why`: how, for a request still unanswered; a reset after the
   * peer's FIN is its close): drops what the
   * request held (a body counts against the budget), aborts its signal, stops a stream.
   */
  release(why: RequestAbortCause, peerClosed: boolean): void {
    const inFlight = this.#inFlight;
    this.#inFlight = null;
    const cause = why === 'reset' && peerClosed ? 'peer-closed' : why;
    inFlight?.abort(cause);
    const source = this.source;
    this.source = null;
    source?.fail(new EtltRequestAbortedError(cause));
    const stream = this.stream;
    this.stream = null;
    stream?.stop();
    this.pending = null;
    this.staticRequest = null;
    if (this.body !== null) this.#host.held(-this.body.length);
    this.body = null;
    this.chunks = null;
  }

  /**
   * Processes `buf[start, end)`: as many requests as are complete and allowed now. Returns
   * the offset up to which the bytes were used, or -1 when the connection was closed.
   */
  processInput(buf: Buffer, start: number, end: number): number {
    const host = this.#host;
    const c = this.#conn;
    host.clock.tick();
    let pos = start;
    for (;;) {
      // A streamed body is read while its handler runs and its answer goes out.
      if (this.source !== null) {
        pos = this.#readStreamed(buf, pos, end);
        if (pos < 0) return -1;
        if (this.source !== null) return pos;
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
      if (this.#host.accessLog !== undefined) this.#logBegin(buf, status === 0 ? head : null);
      if (status !== 0) return this.#refuse(status, head.http11 && status !== 505, end);
      this.#start(buf, head, headStart, pos, end);
    }
  }

  /** A head too long to read (414 for its request line alone, 431): it counts as a request. */
  #tooLong(buf: Buffer, pos: number, headEnd: number, end: number): number {
    const status = requestLineLonger(buf, pos, headEnd, this.#host.maxHeadBytes) ? 414 : 431;
    return this.#uncounted(status, requestLineIsHttp11(buf, pos, headEnd), end);
  }

  /** A refusal before parseHead counted the request. */
  #uncounted(status: number, http11: boolean, end: number): number {
    this.#host.counters.requests++;
    this.#logBegin(null, null);
    return this.#refuse(status, http11, end);
  }

  /** Answers with an error status and closes after it (lingering: the peer may still be sending). */
  #refuse(status: number, http11: boolean, end: number): number {
    const host = this.#host;
    host.counters.rejected++;
    this.#send(host.errors.get(status, http11), null);
    this.endAfterThis();
    this.headScanned = 0;
    return end;
  }

  /** A head was parsed: decide how the exchange ends, and read its body or answer it now. */
  #start(buf: Buffer, head: RequestHead, headStart: number, pos: number, end: number): void {
    const host = this.#host;
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
    this.pending = handled && this.status === 200 ? new ServerRequest(this.#conn, buf, head, headStart, pos) : null;
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
    this.bodyLeft = head.framing === Framing.Length ? head.contentLength : 0;
    this.chunks = head.framing === Framing.Chunked ? new ChunkedDecoder(host.maxBodyBytes, host.maxHeadBytes) : null;
    this.body = null;
    this.bodyBytes = 0;
    const expectsContinue = head.expect === Expect.Continue && pos === end;
    if (this.pending === null && head.framing === Framing.Length) {
      // Nothing reads this body: answer now and discard it as it comes (nginx does the same
      // for a fixed response). Not a chunked body: it may still prove malformed or too large,
      // and its 400/413 would then be a second response to one request (the next request's,
      // to a pipelining client). A client waiting for 100 Continue still gets it first: one
      // that sees only the final answer may skip its body (curl does) and send its next
      // request, which would be read as that body.
      if (expectsContinue) this.#conn.interim(CONTINUE);
      this.#answer();
      this.answered = true;
      this.phase = Phase.Body;
      return;
    }
    this.answered = false;
    this.phase = Phase.Body;
    // A client that waits for 100 Continue has sent nothing of its body yet.
    if (expectsContinue) this.#conn.interim(CONTINUE);
  }

  /** The handler runs now, its body streamed to it as it arrives. */
  #startStreamed(head: RequestHead, expectsNow: boolean): void {
    const host = this.#host;
    this.bodyLeft = head.framing === Framing.Length ? head.contentLength : 0;
    this.chunks =
      head.framing === Framing.Chunked ? new ChunkedDecoder(host.maxStreamBodyBytes, host.maxHeadBytes) : null;
    const source = new BodyStream(() => this.#conn.resume());
    this.source = source;
    this.pending!.setSource(source);
    // A client that waits for 100 Continue has sent nothing of its body yet.
    if (head.expect === Expect.Continue && expectsNow) this.#conn.interim(CONTINUE);
    this.#answer();
  }

  /** Streamed body bytes: handed to the source, unless it is full (then the socket waits). */
  #readStreamed(buf: Buffer, pos: number, end: number): number {
    const source = this.source!;
    if (source.full) {
      // Nobody pulls, and the answer is all queued: the rest of the body is read and dropped.
      if ((this.phase === Phase.Head || this.phase === Phase.Closing) && this.#inFlight === null) source.abandon();
      else return pos;
    }
    if (pos >= end) return pos;
    this.#conn.bodyProgress();
    const chunks = this.chunks;
    if (chunks === null) {
      const take = Math.min(this.bodyLeft, end - pos);
      source.push(buf, pos, pos + take);
      this.bodyLeft -= take;
      if (this.bodyLeft === 0) this.#streamedDone(null);
      return pos + take;
    }
    const r = chunks.feed(buf, pos, end, (this.#push ??= (b, s, e) => this.source?.push(b, s, e)));
    if (r < 0) {
      const tooLarge = chunks.error === ChunkError.TooLarge;
      this.#streamedDone(
        new Error(
          tooLarge ? 'the request body is larger than maxStreamBodyBytes' : 'the chunked request body is malformed',
        ),
      );
      return end;
    }
    if (chunks.done) this.#streamedDone(null);
    return r;
  }

  /**
   * The streamed body ended: complete, or failed (thrown from the handler's iterator; the
   * connection then closes after the handler's answer, or at once if it was sent).
   */
  #streamedDone(err: Error | null): void {
    const source = this.source!;
    this.source = null;
    this.chunks = null;
    if (err === null) {
      source.end();
      return;
    }
    source.fail(err);
    this.closeAfter = true;
    this.lingerNeeded = false;
    if (this.phase === Phase.Head) this.phase = Phase.Closing;
  }

  /** A collected body nobody will read (a file answered the request): out of the budget. */
  #dropBody(): void {
    if (this.body !== null) this.#host.held(-this.body.length);
    this.body = null;
  }

  /** The body is in (or discarded): answer it, unless that was done at its head. */
  #bodyDone(): void {
    if (!this.answered) this.#answer();
    else this.phase = this.closeAfter ? Phase.Closing : Phase.Head;
    this.answered = false;
  }

  /**
   * Appends body bytes for a handler: one buffer per request, grown by doubling, so a body
   * sent as a million one-byte chunks costs its bytes, not a million objects; its capacity
   * counts against the server's input budget.
   */
  #collectBody(buf: Uint8Array, s: number, e: number): void {
    const n = e - s;
    const need = this.bodyBytes + n;
    let body = this.body;
    if (body === null || need > body.length) {
      const grown = Buffer.allocUnsafe(
        Math.max(need, body === null ? Math.min(64 * 1024, Math.max(need, this.bodyLeft)) : body.length * 2),
      );
      if (body !== null) body.copy(grown, 0, 0, this.bodyBytes);
      this.#host.held(grown.length - (body === null ? 0 : body.length));
      this.body = body = grown;
    }
    body.set(buf.subarray(s, e), this.bodyBytes);
    this.bodyBytes = need;
  }

  #readBody(buf: Buffer, pos: number, end: number): number {
    if (pos >= end) return pos;
    this.#conn.bodyProgress();
    const keep = this.pending !== null;
    const chunks = this.chunks;
    if (chunks === null) {
      const take = Math.min(this.bodyLeft, end - pos);
      if (keep && take > 0) this.#collectBody(buf, pos, pos + take);
      this.bodyLeft -= take;
      pos += take;
      if (this.bodyLeft === 0) this.#bodyDone();
      return pos;
    }
    const sink = keep ? (this.#collect ??= (b, s, e) => this.#collectBody(b, s, e)) : undefined;
    const r = chunks.feed(buf, pos, end, sink);
    if (r < 0) {
      this.chunks = null;
      return this.#refuse(chunks.error === ChunkError.TooLarge ? 413 : 400, this.http11, end);
    }
    if (chunks.done) {
      this.chunks = null;
      this.#bodyDone();
    }
    return r;
  }

  /** The request is complete: queue its response, or start its handler. */
  #answer(): void {
    const host = this.#host;
    const c = this.#conn;
    this.phase = this.closeAfter ? Phase.Closing : Phase.Head;
    if (this.status !== 200) {
      this.#queueError(this.status);
      return;
    }
    const file = this.staticRequest;
    let request = this.pending;
    if (file !== null) {
      this.staticRequest = null;
      const date = host.clock.text;
      const r = host.statics!.respond(file, this.http11, this.persistence, this.isHead, date, request !== null);
      if (r !== null) {
        this.#send(r.first, r.body);
        this.#dropBody();
        this.pending = request = null;
        return;
      }
    }
    if (request === null) {
      const segs = host.fixed.get(this.http11, this.persistence, this.isHead);
      this.#send(segs.first, segs.body);
      return;
    }
    this.pending = null;
    const body = this.body;
    this.body = null;
    // The body is the handler's from now on, out of the server's budget.
    if (body !== null) host.held(-body.length);
    request.setBody(body === null ? null : body.subarray(0, this.bodyBytes));
    this.#inFlight = request;
    let result: HttpResponse | Promise<HttpResponse>;
    let async: boolean;
    try {
      result = host.handler!(request);
      // Reading `then` runs the answer's own code when it is a getter: it may throw too.
      async =
        result !== null && typeof result === 'object' && typeof (result as Promise<HttpResponse>).then === 'function';
    } catch (err) {
      this.#failed(err);
      return;
    }
    if (async) {
      const phase = this.phase;
      this.phase = Phase.Waiting;
      c.setWaiting(true);
      // Through a real Promise: a thenable's then() may throw, or call back twice, and
      // neither may crash the server or answer one request twice.
      Promise.resolve(result).then(
        (res) => this.#settle(phase, res, undefined),
        (err: unknown) => this.#settle(phase, undefined, err ?? new Error('the handler rejected')),
      );
      return;
    }
    this.#respondWith(result);
  }

  #settle(phase: Phase, res: HttpResponse | undefined, err: unknown): void {
    const c = this.#conn;
    // Gone, or cut off at the idle timeout: the answer has nobody to go to.
    if (c.gone || this.phase !== Phase.Waiting) return;
    this.phase = phase;
    c.setWaiting(false);
    if (err !== undefined) this.#failed(err);
    else this.#respondWith(res);
    c.resume();
  }

  #respondWith(res: unknown): void {
    // Persistence was decided at the head; close() may have begun while the body or the
    // handler was pending, and then this response ends the connection and must say so.
    if (this.#host.draining && this.persistence !== Persistence.Close) {
      this.persistence = Persistence.Close;
      this.endAfterThis();
    }
    let framed: FramedResponse;
    try {
      framed = frameResponse(res, this.http11, this.persistence, this.isHead, this.#host.clock.now());
    } catch (err) {
      // Whatever reading or framing the answer threw (a bad field, a getter of the
      // handler's that throws): a 500 for this request, never the process's end.
      this.#failed(err);
      return;
    }
    this.#send(framed.first, framed.body, framed.stream !== null);
    // The handler said Connection: close: what was pipelined behind is read and dropped.
    if (framed.closes && !this.closeAfter) this.endAfterThis();
    if (framed.stream === null) this.#inFlight = null;
    else {
      this.phase = Phase.Streaming;
      this.stream = new ResponseStream(this, framed.stream, framed.chunked, framed.length);
      this.stream.start();
    }
  }

  // ---- StreamOutput: the streamed body's way out ----

  get outBytes(): number {
    return this.#conn.outBytes;
  }

  more(bytes: Uint8Array): void {
    this.#logBytes += bytes.byteLength;
    this.#conn.more(bytes);
  }

  flush(): void {
    this.#conn.resume();
  }

  end(err: unknown): void {
    if (this.stream === null) return;
    this.stream = null;
    this.#inFlight = null;
    const log = this.#host.accessLog;
    if (log !== undefined) this.#log(log);
    if (err === undefined) {
      this.phase = this.closeAfter ? Phase.Closing : Phase.Head;
    } else {
      // The head went out: no other answer can follow. The connection closes once what was
      // queued is sent, the frame unfinished (no last chunk, fewer bytes than promised), so
      // the client sees a truncated body, never a wrong one.
      this.#host.counters.handlerErrors++;
      this.#host.handlerFailed(err);
      this.closeAfter = true;
      this.lingerNeeded = false;
      this.phase = Phase.Closing;
    }
    this.#conn.resume();
  }

  // ---- the access log ----

  /** A head was read (`head` null when it could not be parsed): its clock starts, with its method and target. */
  #logBegin(buf: Buffer | null, head: RequestHead | null): void {
    this.#logAt = performance.now();
    if (buf === null || head === null) {
      this.#logMethod = this.#logTarget = '-';
      return;
    }
    this.#logMethod = buf.toString('latin1', head.methodStart, head.methodEnd);
    this.#logTarget = buf.toString('latin1', head.targetStart, head.targetEnd);
  }

  /** Queues this request's response (a head, and bytes or a file after it); logs it when someone listens. */
  #send(first: Uint8Array, body: Uint8Array | FileSegment | null, streaming = false): void {
    this.#conn.queue(first, body);
    const log = this.#host.accessLog;
    if (log === undefined) return;
    const rest = body === null ? 0 : body instanceof Uint8Array ? body.byteLength : body.end - body.offset;
    // Content only, as the common log format's %b: the head ends at the first empty line.
    const head = Buffer.from(first.buffer, first.byteOffset, first.byteLength).indexOf('\r\n\r\n') + 4;
    this.#logBytes = first.byteLength - head + rest;
    // The status line's three digits: "HTTP/1.x NNN".
    this.#logStatus = (first[9]! - 48) * 100 + (first[10]! - 48) * 10 + (first[11]! - 48);
    if (!streaming) this.#log(log);
  }

  #log(log: (entry: AccessEntry) => void): void {
    const peer = (this.#peer ??= addressOf(this.#conn.fd, true));
    const now = performance.now();
    log({
      method: this.#logMethod,
      target: this.#logTarget,
      version: this.http11 ? '1.1' : '1.0',
      status: this.#logStatus,
      bytes: this.#logBytes,
      durationMs: this.#logAt === 0 ? 0 : now - this.#logAt,
      remoteAddress: peer[0],
      remotePort: peer[1],
      time: Date.now(),
    });
  }

  /**
   * The idle timeout ran out while the handler's answer was pending: a 503 in its place
   * (nothing of it was sent), and the connection closes; a late answer is dropped.
   */
  cutOff(): void {
    if (this.phase !== Phase.Waiting) return;
    this.#host.counters.handlerTimeouts++;
    this.#queueError(503);
  }

  /** A handler that failed: 500, and the connection closes after it; the server goes on. */
  #failed(err: unknown): void {
    this.#inFlight = null;
    this.#host.counters.handlerErrors++;
    this.#host.handlerFailed(err);
    this.#queueError(500);
  }

  #queueError(status: number): void {
    const host = this.#host;
    host.counters.rejected++;
    this.#send(host.errors.get(status, this.http11), null);
    this.endAfterThis();
  }
}

/** Whether a request line that parseHead never read ends in HTTP/1.1, so its error can say so. */
export function requestLineIsHttp11(buf: Buffer, pos: number, end: number): boolean {
  const nl = buf.indexOf(0x0a, pos);
  if (nl < 0 || nl >= end) return false;
  const stop = nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
  return stop - pos >= 8 && buf.toString('latin1', stop - 8, stop) === 'HTTP/1.1';
}
