/**
 * What the connections of both engines share, the readiness one (connection.ts) and the
 * completion one (uring/connection.ts): the fd, the state, the bytes in flight (`Buffers`),
 * the exchange the connection owns, its counts, and its lifecycle once input has been
 * handed to the exchange: the state derived in one place (`settle`), `finish()` after the
 * output drained (close, linger, or keep alive), the idle timeout's 408 or 503, and
 * `close()`. How bytes come in and go out (recv and send on readiness; a multishot recv's
 * completions and ring sends) is each engine's connection's own.
 *
 * A base class rather than an object of its own, as `Buffers` is: the hot fields stay in
 * the connection's own object, and the keep-alive path calls no further.
 */
import { sys } from '../sys.js';
import { SHUT_WR, SOL_SOCKET, SO_LINGER } from '../constants.js';
import type { ServerCounters } from '../trace/counters.js';
import { Buffers } from './buffers.js';
import { CloseReason, ConnState, Next } from './contract.js';
import { Exchange, Phase, requestLineIsHttp11 } from './exchange.js';
import type { ExchangeConn, ExchangeHost } from './exchange.js';
import { ABORT_CAUSES } from './exchange-contract.js';
import type { IdleSweep } from './idle-sweep.js';

/** What a connection's lifecycle needs of its engine (both engines get it from engine-core.ts). */
export interface ConnectionCoreHost extends ExchangeHost {
  readonly counters: ServerCounters;
  /** One buffer to gather several responses into a single send. */
  readonly gather: Buffer;
  /** A cheap monotonic clock in milliseconds. */
  now(): number;
  /** The timeouts: told of a connection's progress, its wait for a next request, its held stream. */
  readonly sweep: Pick<IdleSweep<ConnectionCore>, 'progress' | 'idle' | 'hold'>;
  /** Partial input over all connections holds more than its budget (see enforceBudget). */
  readonly inputOverBudget: boolean;
  /**
   * Over the budget, closes the connections with the oldest partial requests. Called where a
   * connection's input was just taken in, never in the middle of processing it.
   */
  enforceBudget(): void;
  /** Closes `conn`'s fd and forgets it (called by close()). */
  release(conn: ConnectionCore, reason: CloseReason): void;
}

/** Longest a finished connection keeps reading a peer's leftover bytes before closing. */
const LINGER_MAX_MS = 5000;
/** struct linger { l_onoff = 1, l_linger = 0 }: close(2) then resets instead of flushing. */
const RESET_ON_CLOSE = new Uint8Array(new Int32Array([1, 0]).buffer);

/** A client connection of either engine: its fd, state, the bytes in flight and the exchange it owns. */
export abstract class ConnectionCore<Host extends ConnectionCoreHost = ConnectionCoreHost>
  extends Buffers
  implements ExchangeConn
{
  readonly fd: number;
  readonly engine: Host;
  state: ConnState = ConnState.Reading;
  peerClosed = false;
  /** The request in progress and how the exchange ends: made once, reset per request. */
  readonly exchange: Exchange;
  /** Lingering ends at this time (performance.now()) even if the peer keeps sending. */
  lingerUntil = 0;
  /** When the connection last made progress (performance.now()), for the idle timeouts. */
  lastActive: number;
  /** Neighbours in the server's activity list (see ActivityList). */
  olderActive: this | null = null;
  newerActive: this | null = null;
  activeList: { remove(item: ConnectionCore): void } | null = null;
  /**
   * Per-connection counts (see ConnectionRecord). The completion engine has no readiness
   * events, no EAGAIN recv and no epoll_ctl: `useless`, `recvAgain` and `ctlCalls` stay 0 there.
   */
  readonly acceptedAt: number;
  events = 0;
  useless = 0;
  recvCalls = 0;
  recvAgain = 0;
  sendCalls = 0;
  sendAgain = 0;
  ctlCalls = 0;
  bytesIn = 0;
  bytesOut = 0;

  constructor(engine: Host, fd: number, now: number) {
    super();
    this.engine = engine;
    this.fd = fd;
    this.lastActive = now;
    this.acceptedAt = now;
    this.exchange = new Exchange(this, engine);
  }

  /** Requests on this connection so far. */
  get requests(): number {
    return this.exchange.requests;
  }

  get gone(): boolean {
    return this.state === ConnState.Closed;
  }

  protected holdBytes(delta: number): void {
    this.engine.held(delta);
  }

  /** The exchange goes on (a handler answered, a stream produced or ended, a body was pulled). */
  abstract resume(): void;

  /**
   * A held stream's connection, idle for the idle timeout: closes it and says true when its
   * peer has sent its FIN, false when the peer may still read (each engine learns it its way).
   */
  abstract closeIfPeerGone(): boolean;

  headStarted(): void {
    // The first head's clock started at accept (or earlier, for a deferred silence).
    if (this.requests > 0) this.engine.sweep.progress(this);
  }

  bodyProgress(): void {
    this.engine.sweep.progress(this);
  }

  setWaiting(_waiting: boolean): void {
    // A handler has the idle timeout to answer, from its call and again from its answer.
    this.engine.sweep.progress(this);
  }

  abort(): void {
    this.close(CloseReason.Aborted);
  }

  /** Processes the buffered input as far as it goes now; frees the buffer once used up. */
  protected drainInput(): void {
    const buf = this.inbuf;
    if (buf === null) return;
    const used = this.exchange.processInput(buf, this.inStart, this.inEnd);
    if (this.inbuf !== buf) return;
    if (used < 0 || used >= this.inEnd) this.dropInput();
    else this.inStart = used;
  }

  /**
   * The one place the connection's state is derived, from the exchange's phase and the
   * output queue: output pending, a handler pending, or input awaited.
   */
  protected settle(): void {
    if (this.state === ConnState.Closed || this.state === ConnState.Lingering) return;
    const x = this.exchange;
    // A connection to close with nothing left to send (a stream that failed after its last
    // bytes went out) goes through the write path too: finish() closes it.
    // A handler waiting for its streamed body may have a 100 Continue queued, which the
    // client waits for before it sends that body: it goes out now, not with the answer.
    if ((this.outBytes > 0 && (x.phase !== Phase.Waiting || x.bodyOpen)) || x.phase === Phase.Closing)
      this.state = ConnState.Writing;
    // A streamed request body is read while its handler runs, until the handler falls behind.
    else if (x.bodyOpen && !x.inputPaused) this.state = ConnState.Reading;
    else if (x.phase === Phase.Waiting || x.phase === Phase.Streaming || x.inputPaused) this.state = ConnState.Waiting;
    else {
      this.state = ConnState.Reading;
      // Between requests without passing through finish(): a body that ended after its
      // answer had gone out. The keep-alive timeout applies from now (and during close(),
      // nothing is in flight any more).
      if (x.betweenRequests && this.inbuf === null && x.requests > 0) this.#awaitNext();
    }
  }

  /**
   * After the output drained: close at once; or, when the peer may still be sending
   * (pipelined requests behind a closing response, a body not read), half-close and read
   * until its EOF first, since closing with unread bytes makes the kernel send RST, which
   * can destroy the response before the client reads it (RFC 9112 section 9.6); or keep
   * the connection alive and answer the requests already buffered. `Next.Read`: the
   * connection reads again (kept alive, lingering, or reading a streamed request's body).
   */
  finish(): Next {
    if (this.state === ConnState.Closed) return Next.Closed;
    this.engine.counters.responses += this.unsent;
    this.unsent = 0;
    const x = this.exchange;
    if (x.phase === Phase.Streaming) {
      x.stream?.drained();
      if (x.bodyOpen && !x.inputPaused) {
        // The request body is still coming (an echo, say): read it meanwhile.
        this.state = ConnState.Reading;
        this.engine.sweep.progress(this);
        return Next.Read;
      }
      // Everything produced so far is out: wait for the stream's next chunk.
      this.state = ConnState.Waiting;
      this.engine.sweep.hold(this);
      return Next.Wait;
    }
    if (x.phase === Phase.Waiting) {
      // What went out was queued ahead of the handler's answer (a 100 Continue for the body
      // it waits for): the answer is still to come, and the body is read meanwhile.
      this.settle();
      this.engine.sweep.progress(this);
      return this.state === ConnState.Reading ? Next.Read : Next.Wait;
    }
    const draining = this.engine.draining && x.phase === Phase.Head && this.outBytes === 0;
    if (x.closeAfter || draining) {
      const unread = x.lingerNeeded || this.inbuf !== null || x.phase === Phase.Body || x.bodyOpen || draining;
      if (unread && !this.peerClosed) return this.#linger();
      this.close(CloseReason.Done);
      return Next.Closed;
    }
    if (this.inbuf !== null) {
      this.drainInput();
      this.settle();
      if (this.state === ConnState.Writing) return Next.Write;
      if (this.state === ConnState.Waiting) return Next.Wait;
      if ((this.state as ConnState) === ConnState.Closed) return Next.Closed;
    }
    if (this.peerClosed) {
      this.close(this.inbuf === null && x.phase === Phase.Head ? CloseReason.Done : CloseReason.Aborted);
      return Next.Closed;
    }
    this.state = ConnState.Reading;
    if (this.inbuf === null && x.betweenRequests) this.#awaitNext();
    return Next.Read;
  }

  /** Between requests: the keep-alive timeout from now; in a graceful stop, closed instead. */
  #awaitNext(): void {
    if (this.engine.draining) this.close(CloseReason.Done);
    else this.engine.sweep.idle(this);
  }

  #linger(): Next {
    this.engine.counters.shutdown++;
    sys.shutdown(this.fd, SHUT_WR);
    this.state = ConnState.Lingering;
    this.dropInput();
    this.lingerUntil = this.engine.now() + LINGER_MAX_MS;
    this.engine.sweep.progress(this);
    return Next.Read;
  }

  /**
   * The idle timeout ran out: a handler that never answered gets a 503 in its place, a head
   * or a body that was arriving too slowly a 408, then the connection closes.
   */
  timeOut(): void {
    const x = this.exchange;
    if (this.state === ConnState.Waiting && x.phase === Phase.Waiting) {
      // Its signal aborts with why "timeout" as the connection closes.
      x.cutOff();
      this.sendOnce();
    } else if (this.state === ConnState.Reading && this.outBytes === 0 && this.#requestArriving()) {
      const http11 =
        x.phase === Phase.Head && this.inbuf !== null
          ? requestLineIsHttp11(this.inbuf, this.inStart, this.inEnd)
          : x.http11;
      // Through the exchange's output, so the bytes are counted and logged; one try, as the connection closes now.
      x.requestTimedOut(http11);
      this.sendOnce();
    }
    const keptAlive = this.state === ConnState.Reading && this.inbuf === null && x.betweenRequests && x.requests > 0;
    if (keptAlive) this.engine.counters.keepAliveTimeouts++;
    this.close(keptAlive ? CloseReason.Done : CloseReason.TimedOut);
  }

  /**
   * A request is arriving: a head begun, or a body that the server, or a handler that has not
   * answered yet, still waits for (a 408 then answers for it, as nginx's client_header_timeout
   * and client_body_timeout do).
   */
  #requestArriving(): boolean {
    const x = this.exchange;
    if (x.phase === Phase.Head) return this.inbuf !== null || x.headScanned > 0;
    return x.phase === Phase.Body || (x.phase === Phase.Waiting && x.bodyOpen);
  }

  /** Drops what the connection holds, aborts its request, and has the engine close the fd and forget it. */
  close(reason: CloseReason): void {
    if (this.state === ConnState.Closed) return;
    // A response abandoned by a peer that stopped reading: reset, so the kernel does not
    // keep retrying the unsent bytes for minutes after we let go of them.
    if (this.state === ConnState.Writing && reason !== CloseReason.Done) {
      sys.setsockopt(this.fd, SOL_SOCKET, SO_LINGER, RESET_ON_CLOSE);
    }
    this.state = ConnState.Closed;
    this.dropInput();
    // The queue goes (a completion send in flight keeps its buffer until its completion).
    this.dropOutput();
    // Its signal aborts, its streamed body fails, its streamed answer stops.
    this.exchange.release(ABORT_CAUSES[reason] ?? 'reset', this.peerClosed);
    this.engine.release(this, reason);
  }

  /** One send of the pending output, counted, whatever it comes to (the connection is closing). */
  protected sendOnce(): void {
    if (this.out0 === null) return;
    const c = this.engine.counters;
    c.send++;
    this.sendCalls++;
    const n = this.sendSome(this.engine.gather);
    if (n > 0) {
      c.bytesOut += n;
      this.bytesOut += n;
    }
  }
}
