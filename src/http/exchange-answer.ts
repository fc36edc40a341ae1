/**
 * The answering half of an exchange (exchange.ts reads the requests): a handler's answer
 * settled, framed and queued, a streamed response body's way out (StreamOutput), the error
 * answers, and how the exchange ends after them. Kept apart so that each half stays
 * readable; one object at run time (Exchange extends it), its shape fixed per connection.
 */
import type { StreamOutput } from './answer-body.js';
import { ResponseStream } from './answer-body.js';
import { AccessRecord } from './access-record.js';
import { EtltBodyTooLargeError } from '../errors.js';
import type { FileSegment } from './file-output.js';
import { frameResponse } from './handler.js';
import type { FramedResponse, HttpResponse } from './handler.js';
import type { ServerRequest } from './request.js';
import { Persistence } from './response-head.js';
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
