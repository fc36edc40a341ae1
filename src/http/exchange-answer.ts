/**
 * The answering half of an exchange (exchange.ts reads the requests): a handler's answer
 * settled, framed (`frameResponse`) and queued, a streamed response body's way out (StreamOutput), the error
 * answers, and how the exchange ends after them. Kept apart so that each half stays
 * readable; one object at run time (Exchange extends it), its shape fixed per connection.
 */
import type { StreamOutput } from './answer-body.js';
import { ResponseStream } from './answer-body.js';
import { AccessRecord } from './access-record.js';
import { EtltBodyTooLargeError } from '../errors.js';
import type { FileSegment } from './file-output.js';
import { discardStream, isFileBody, isStreamBody, openFileBody } from './answer-body.js';
import type { FileBody } from './answer-body.js';
import type { HttpResponse } from './handler.js';
import type { ServerRequest } from './request.js';
import { BodyFraming, INLINE_BODY_MAX, Persistence, withBody, withText } from './response-head.js';
import { BadResponse, FieldWriter, entriesOf } from './response-fields.js';
import type { ResponseMemo } from './responses.js';
import { Phase } from './exchange-contract.js';
import type { ExchangeConn, ExchangeHost } from './exchange-contract.js';

export abstract class ExchangeAnswer implements StreamOutput {
  protected readonly conn: ExchangeConn;
  protected readonly host: ExchangeHost;
  phase: Phase = Phase.Head;
  /** The queued response ends the connection; `lingerNeeded`: half-close and drain first. */
  closeAfter = false;
  lingerNeeded = false;
  // ---- the request in progress (reset at its head) ----
  http11 = false;
  isHead = false;
  persistence: Persistence = Persistence.Close;
  /** The request whose response is not all queued yet: its signal aborts if the connection ends first. */
  protected inFlight: ServerRequest | null = null;
  /** The response body being produced (phase Streaming), or null. */
  stream: ResponseStream | null = null;
  /** The access log's record of the response in progress, kept only while someone listens. */
  protected readonly access = new AccessRecord();
  /** The streamed body proved malformed (400) or too large (413) before the handler answered; else 0. */
  protected bodyRefusal = 0;

  constructor(conn: ExchangeConn, host: ExchangeHost) {
    this.conn = conn;
    this.host = host;
  }

  /** The connection ends after the response queued now: later input is read and dropped. */
  endAfterThis(): void {
    this.closeAfter = true;
    this.lingerNeeded = true;
    this.phase = Phase.Closing;
  }

  protected settle(phase: Phase, res: HttpResponse | undefined, err: unknown): void {
    const c = this.conn;
    // Gone, or cut off at the idle timeout: the answer has nobody to go to.
    if (c.gone || this.phase !== Phase.Waiting) return;
    this.phase = phase;
    c.setWaiting(false);
    if (err !== undefined) this.failed(err);
    else this.respondWith(res, this.host.clock.now());
    c.resume();
  }

  /** Frames and queues the handler's answer; `date`: the Date value now. */
  protected respondWith(res: unknown, date: string): void {
    // Persistence was decided at the head; close() may have begun while the body or the
    // handler was pending, and then this response ends the connection and must say so.
    if (this.host.draining && this.persistence !== Persistence.Close) {
      this.persistence = Persistence.Close;
      this.endAfterThis();
    }
    let framed: FramedResponse;
    try {
      framed = frameResponse(res, this.http11, this.persistence, this.isHead, date, this.host.responseMemo);
    } catch (err) {
      // Whatever reading or framing the answer threw (a bad field, a getter of the
      // handler's that throws): a 500 for this request, never the process's end.
      this.failed(err);
      return;
    }
    this.send(framed.first, framed.body, framed.stream !== null);
    // The handler said Connection: close: what was pipelined behind is read and dropped.
    if (framed.closes && !this.closeAfter) this.endAfterThis();
    if (framed.stream === null) this.inFlight = null;
    else {
      this.phase = Phase.Streaming;
      this.stream = new ResponseStream(this, framed.stream, framed.chunked, framed.length);
      this.stream.start();
    }
  }

  // ---- StreamOutput: the streamed body's way out ----

  get outBytes(): number {
    return this.conn.outBytes;
  }

  more(bytes: Uint8Array): void {
    this.access.bytes += bytes.byteLength;
    this.conn.more(bytes);
  }

  flush(): void {
    this.conn.resume();
  }

  end(err: unknown): void {
    if (this.stream === null) return;
    this.stream = null;
    this.inFlight = null;
    const log = this.host.accessLog;
    if (log !== undefined) log(this.access.entry(this.http11, this.conn.fd));
    if (err === undefined) {
      this.phase = this.closeAfter ? Phase.Closing : Phase.Head;
    } else {
      // The head went out: no other answer can follow. The connection closes once what was
      // queued is sent, the frame unfinished (no last chunk, fewer bytes than promised), so
      // the client sees a truncated body, never a wrong one.
      this.host.counters.handlerErrors++;
      this.host.handlerFailed(err);
      this.closeAfter = true;
      this.lingerNeeded = false;
      this.phase = Phase.Closing;
    }
    this.conn.resume();
  }

  /** Queues this request's response (a head, and bytes or a file after it); logs it when someone listens. */
  protected send(first: Uint8Array, body: Uint8Array | FileSegment | null, streaming = false): void {
    this.conn.queue(first, body);
    const log = this.host.accessLog;
    if (log === undefined) return;
    this.access.queued(
      first,
      body === null ? 0 : body instanceof Uint8Array ? body.byteLength : body.end - body.offset,
    );
    if (!streaming) log(this.access.entry(this.http11, this.conn.fd));
    // Its entry may be written once the peer is gone (a reset), when its address is not to be had.
    else this.access.remember(this.conn.fd);
  }

  /**
   * The idle timeout ran out while the handler's answer was pending: a 503 in its place
   * (nothing of it was sent), and the connection closes; a late answer is dropped.
   */
  cutOff(): void {
    if (this.phase !== Phase.Waiting) return;
    this.host.counters.handlerTimeouts++;
    this.queueError(503);
  }

  /**
   * The idle timeout ran out while a request was arriving (its head, or a body no answer has
   * gone out for): a 408, and the connection closes. A head never read is '-' in the access log.
   */
  requestTimedOut(http11: boolean): void {
    if (this.phase === Phase.Head) {
      this.http11 = http11;
      if (this.host.accessLog !== undefined) this.access.begin(null, null);
    }
    this.send(this.host.errors.get(408, http11), null);
  }

  /** A handler that failed: 500, and the connection closes after it; the server goes on. */
  protected failed(err: unknown): void {
    this.inFlight = null;
    // What the handler's read threw (or a collector's limit): the client's fault, not the handler's.
    const refusal = err instanceof EtltBodyTooLargeError ? 413 : this.bodyRefusal;
    if (refusal !== 0) {
      this.bodyRefusal = 0;
      this.queueError(refusal);
      return;
    }
    this.host.counters.handlerErrors++;
    this.host.handlerFailed(err);
    this.queueError(500);
  }

  protected queueError(status: number): void {
    const host = this.host;
    host.counters.rejected++;
    this.send(host.errors.get(status, this.http11), null);
    this.endAfterThis();
  }
}

function isPlainObject(o: unknown): boolean {
  if (typeof o !== 'object' || o === null) return false;
  const proto = Object.getPrototypeOf(o) as unknown;
  return (proto === Object.prototype || proto === null) && !(Symbol.iterator in o);
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
