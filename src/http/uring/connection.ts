/**
 * One HTTP/1.x connection on the completion engine: the adapter between io_uring's
 * completions and the exchange (an `Exchange` it owns, to which it is the `ExchangeConn`),
 * the one file that couples the engine to the exchange. The states are the readiness
 * connection's, derived the same way (from the exchange's phase and the output queue):
 *
 *   Reading --request complete--> Writing --output sent--> finish(): Reading (kept alive)
 *      |   \--handler pending--> Waiting --answer--> Writing      or Lingering --EOF--> Closed
 *      \--EOF, reset, garbage--> Closed                           or Closed
 *
 * but nothing here waits for readiness: input arrives (a multishot recv's completion, its
 * bytes in a provided buffer), output is handed to the ring at the end of the turn (a send
 * in flight at most, so bytes leave in order) and its completion says how much went.
 * Since a multishot recv keeps delivering whatever the connection's state, input it cannot
 * use now (a handler or its streamed body behind, output pending) is held, up to a bound,
 * and then the recv is cancelled until the connection reads again.
 */
import { sys } from '../../sys.js';
import { SHUT_WR, SOL_SOCKET, SO_LINGER } from '../../constants.js';
import type { ActivityLinks } from '../activity.js';
import { BODY_HIGH_WATER } from '../body-stream.js';
import { OUTPUT_HIGH_WATER } from '../buffers.js';
import { CloseReason, ConnState, Next } from '../contract.js';
import { Exchange, Phase, requestLineIsHttp11 } from '../exchange.js';
import type { ExchangeConn, ExchangeHost } from '../exchange.js';
import { ABORT_CAUSES } from '../exchange-contract.js';
import { UringOutput } from './output.js';
import type { UringOutputHost } from './output.js';
import type { ServerCounters } from '../../trace/counters.js';

/** What a completion connection needs of its engine. */
export interface UringHost extends ExchangeHost, UringOutputHost {
  readonly counters: ServerCounters;
  now(): number;
  touch(conn: UringConnection): void;
  idle(conn: UringConnection): void;
  hold(conn: UringConnection): void;
  enforceBudget(): void;
  /** Arms the multishot recv of `conn` (again). */
  armRecv(conn: UringConnection): void;
  /** Stops the multishot recv of `conn` (its input is held back until it reads again). */
  cancelRecv(conn: UringConnection): void;
  /** Cancels `conn`'s operations and closes its fd through the ring; forgets it. */
  release(conn: UringConnection, reason: CloseReason): void;
}

/** Longest a finished connection keeps reading a peer's leftover bytes before closing. */
const LINGER_MAX_MS = 5000;
/** struct linger { l_onoff = 1, l_linger = 0 }: close(2) then resets instead of flushing. */
const RESET_ON_CLOSE = new Uint8Array(new Int32Array([1, 0]).buffer);
/**
 * Input held while not reading past which the multishot recv is cancelled (backpressure):
 * pipelined requests behind a pending answer, or (the lower bound) a streamed body its
 * handler is not pulling, which then costs at most the body's own high-water mark twice.
 */
const INPUT_PAUSE_BYTES = 256 * 1024;
const BODY_PAUSE_BYTES = BODY_HIGH_WATER;

/** A client connection on the ring: its fd, state, the recv's backpressure and the exchange it owns. */
export class UringConnection extends UringOutput implements ExchangeConn, ActivityLinks<UringConnection> {
  readonly fd: number;
  /** The low 32 bits of every user_data of this connection's operations. */
  readonly id: number;
  readonly engine: UringHost;
  peerClosed = false;
  /** A multishot recv is armed; `recvPaused`: cancelled for backpressure, re-armed when reading again. */
  recvArmed = false;
  /** Set by the connection only; the engine reads it (a recv that ends is armed again unless it is set). */
  recvPaused = false;
  /** The request in progress and how the exchange ends: made once, reset per request. */
  readonly exchange: Exchange;
  lingerUntil = 0;
  lastActive: number;
  olderActive: UringConnection | null = null;
  newerActive: UringConnection | null = null;
  activeList: { remove(item: UringConnection): void } | null = null;
  readonly acceptedAt: number;
  events = 0;
  recvCalls = 0;
  bytesIn = 0;

  constructor(engine: UringHost, fd: number, id: number, now: number) {
    super();
    this.engine = engine;
    this.fd = fd;
    this.id = id;
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

  // ---- input: completions of the multishot recv ----

  /** `n` bytes arrived at `bytes[start]` (a provided buffer, reused once this returns). */
  received(bytes: Buffer, start: number, n: number): void {
    const engine = this.engine;
    const c = engine.counters;
    c.bytesIn += n;
    this.bytesIn += n;
    this.events++;
    if (this.state === ConnState.Closed) return;
    if (this.state === ConnState.Lingering) {
      // A peer still sending its body is not idle, but not for ever either (nginx's lingering_time).
      engine.touch(this);
      if (this.lastActive > this.lingerUntil) this.close(CloseReason.Done);
      return;
    }
    if (this.inbuf === null) {
      const end = start + n;
      const used = this.exchange.processInput(bytes, start, end);
      if (used >= 0 && used < end && (this.state as ConnState) !== ConnState.Closed) this.keepInput(bytes, used, end);
    } else {
      this.appendInput(bytes.subarray(start, start + n), n);
      this.#drainInput();
    }
    this.#settle();
    engine.enforceBudget();
    if ((this.state as ConnState) === ConnState.Closed) return;
    this.#follow();
    this.#holdBack();
  }

  /**
   * Not reading now (output or a handler pending, a streamed body nobody pulls) and the peer
   * keeps sending: the recv is cancelled until the connection reads again, or its input
   * would grow without bound. Completions already on their way still arrive (one turn's).
   */
  #holdBack(): void {
    if (this.recvPaused || !this.recvArmed || !this.#heldTooMuch()) return;
    this.recvPaused = true;
    this.engine.cancelRecv(this);
  }

  /** Input waits that the connection is not reading now, more than it may hold (a partial head being read is not held back). */
  #heldTooMuch(): boolean {
    if (this.inbuf === null || this.state === ConnState.Reading || this.state === ConnState.Lingering) return false;
    return this.inEnd - this.inStart > (this.exchange.inputPaused ? BODY_PAUSE_BYTES : INPUT_PAUSE_BYTES);
  }

  /**
   * The multishot recv ended (its cap, out of provided buffers, a cancel): armed again,
   * unless input is held back (a streamed body nobody pulls, too much input waiting); then
   * it is when the connection reads again.
   */
  recvEnded(): void {
    if (this.state === ConnState.Closed || this.peerClosed || this.recvArmed) return;
    if (!this.recvPaused && (this.exchange.inputPaused || this.#heldTooMuch())) this.recvPaused = true;
    if (!this.recvPaused) this.engine.armRecv(this);
  }

  /** The peer sent its FIN: answer what is complete, then close (RFC 9112 section 9.6, half-close). */
  endOfInput(): void {
    this.peerClosed = true;
    if (this.state === ConnState.Closed) return;
    if (this.state === ConnState.Lingering) {
      this.close(CloseReason.Done);
      return;
    }
    const x = this.exchange;
    // A streamed body cut short: its handler's iterator throws, and nothing can follow. The
    // recv delivers the FIN even while the handler is behind: what was received before it
    // goes to the handler first (resume() comes back here once it is taken).
    if (x.bodyOpen) {
      if (this.inbuf === null) this.close(CloseReason.Aborted);
      return;
    }
    if (this.state === ConnState.Writing || this.state === ConnState.Waiting) return;
    // Idle between requests is a normal end; a request cut off midway is an abort.
    const midway = this.inbuf !== null || x.phase === Phase.Body || x.requests === 0;
    this.close(midway ? CloseReason.Aborted : CloseReason.Done);
  }

  /** Processes the buffered input as far as it goes now; frees the buffer once used up. */
  #drainInput(): void {
    const buf = this.inbuf;
    if (buf === null) return;
    const used = this.exchange.processInput(buf, this.inStart, this.inEnd);
    if (this.inbuf !== buf) return;
    if (used < 0 || used >= this.inEnd) this.dropInput();
    else this.inStart = used;
  }

  /**
   * The one place the connection's state is derived, from the exchange's phase and the
   * output queue (as the readiness connection does): output pending, a handler pending, or
   * input awaited.
   */
  #settle(): void {
    if (this.state === ConnState.Closed || this.state === ConnState.Lingering) return;
    const x = this.exchange;
    // A connection to close with nothing left to send goes through the write path too:
    // flush() finds nothing and finish() closes it.
    if ((this.outBytes > 0 && x.phase !== Phase.Waiting) || x.phase === Phase.Closing) this.state = ConnState.Writing;
    // A streamed request body is read while its handler runs, until the handler falls behind.
    else if (x.bodyOpen && !x.inputPaused) this.state = ConnState.Reading;
    else if (x.phase === Phase.Waiting || x.phase === Phase.Streaming || x.inputPaused) this.state = ConnState.Waiting;
    else {
      this.state = ConnState.Reading;
      // Between requests without passing through finish(): a body that ended after its
      // answer had gone out. The keep-alive timeout applies from now.
      if (x.betweenRequests && this.inbuf === null && x.requests > 0) this.engine.idle(this);
    }
  }

  /** What the ring is asked for after the state changed: the output sent, the recv armed again. */
  #follow(): void {
    // Responses queued ahead of a pending handler go out too (the state says Waiting).
    if (this.state === ConnState.Writing || this.outBytes > 0) this.engine.dirty(this);
    if (this.state === ConnState.Reading) this.#readAgain();
  }

  /** Reading again after a pause for backpressure: the recv is armed once more. */
  #readAgain(): void {
    if (!this.recvPaused || this.peerClosed) return;
    this.recvPaused = false;
    // Still armed: the cancel is on its way, and its last completion arms it again (engine).
    if (!this.recvArmed) this.engine.armRecv(this);
  }

  headStarted(): void {
    // The first head's clock started at accept.
    if (this.requests > 0) this.engine.touch(this);
  }

  bodyProgress(): void {
    this.engine.touch(this);
  }

  setWaiting(_waiting: boolean): void {
    // A handler has the idle timeout to answer, from its call and again from its answer.
    this.engine.touch(this);
  }

  /** The exchange goes on (a handler answered, a stream produced or ended, a body was pulled). */
  resume(): void {
    if (this.state === ConnState.Closed) return;
    this.#drainInput();
    this.#settle();
    if ((this.state as ConnState) === ConnState.Closed) return;
    this.#follow();
    // The FIN came while the connection was not reading: act on it now that it is.
    if (this.peerClosed && (this.state === ConnState.Reading || this.exchange.bodyOpen)) this.endOfInput();
  }

  abort(): void {
    this.close(CloseReason.Aborted);
  }

  // ---- output (uring/output.ts): what its progress means for the exchange ----

  protected outputMoved(): void {
    // A streamed body waits for room: there is some now.
    if (this.outBytes <= OUTPUT_HIGH_WATER) this.exchange.stream?.drained();
    // Progress on a response not yet out restarts its clock (the send timeout's).
    if (this.out0 !== null) this.engine.touch(this);
  }

  /** Everything queued went out: close, linger, or go on with the next request. */
  protected outputDrained(): void {
    if (this.state !== ConnState.Writing) {
      // Responses queued ahead of a handler still pending went out: they are counted, and
      // the connection waits for the handler as it did.
      this.engine.counters.responses += this.unsent;
      this.unsent = 0;
      return;
    }
    const next = this.finish();
    if (next === Next.Write) this.engine.dirty(this);
  }

  /**
   * After the output drained: close at once; or, when the peer may still be sending,
   * half-close and read until its EOF first (closing with unread bytes makes the kernel send
   * RST, which can destroy the response before the client reads it, RFC 9112 section 9.6);
   * or keep the connection alive and answer the requests already buffered.
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
        this.engine.touch(this);
        this.#readAgain();
        return Next.Read;
      }
      // Everything produced so far is out: wait for the stream's next chunk.
      this.state = ConnState.Waiting;
      this.engine.hold(this);
      return Next.Wait;
    }
    const draining = this.engine.draining && x.phase === Phase.Head && this.outBytes === 0;
    if (x.closeAfter || draining) {
      const unread = x.lingerNeeded || this.inbuf !== null || x.phase === Phase.Body || x.bodyOpen || draining;
      if (unread && !this.peerClosed) return this.#linger();
      this.close(CloseReason.Done);
      return Next.Closed;
    }
    if (this.inbuf !== null) {
      this.#drainInput();
      this.#settle();
      if (this.state === ConnState.Writing) return Next.Write;
      if (this.state === ConnState.Waiting) return Next.Wait;
      if ((this.state as ConnState) === ConnState.Closed) return Next.Closed;
    }
    if (this.peerClosed) {
      this.close(this.inbuf === null && x.phase === Phase.Head ? CloseReason.Done : CloseReason.Aborted);
      return Next.Closed;
    }
    this.state = ConnState.Reading;
    if (this.inbuf === null && x.betweenRequests) this.engine.idle(this);
    this.#readAgain();
    return Next.Read;
  }

  #linger(): Next {
    this.engine.counters.shutdown++;
    sys.shutdown(this.fd, SHUT_WR);
    this.state = ConnState.Lingering;
    this.dropInput();
    this.lingerUntil = this.engine.now() + LINGER_MAX_MS;
    this.engine.touch(this);
    if (this.recvPaused) {
      this.recvPaused = false;
      if (!this.recvArmed) this.engine.armRecv(this);
    }
    return Next.Read;
  }

  /**
   * The idle timeout ran out: a handler that never answered gets a 503 in its place, a head
   * that was arriving too slowly a 408 (as nginx logs it), then the connection closes.
   */
  timeOut(): void {
    const x = this.exchange;
    if (this.state === ConnState.Waiting && x.phase === Phase.Waiting) {
      // Its signal aborts with why "timeout" as the connection closes.
      x.cutOff();
      this.sendOnce();
    }
    if (this.state === ConnState.Reading && (this.inbuf !== null || x.headScanned > 0) && this.outBytes === 0) {
      const http11 = this.inbuf !== null ? requestLineIsHttp11(this.inbuf, this.inStart, this.inEnd) : x.http11;
      // Through the output queue, so the bytes are counted; one try, as the connection closes now.
      this.queue(this.engine.errors.get(408, http11), null);
      this.sendOnce();
    }
    const keptAlive = this.state === ConnState.Reading && this.inbuf === null && x.betweenRequests && x.requests > 0;
    if (keptAlive) this.engine.counters.keepAliveTimeouts++;
    this.close(keptAlive ? CloseReason.Done : CloseReason.TimedOut);
  }

  /** A held stream whose peer's FIN came through the recv (RFC 9112 half-close, or gone): closed. */
  closeIfPeerGone(): boolean {
    if (!this.peerClosed) return false;
    this.close(CloseReason.Aborted);
    return true;
  }

  /** Cancels what the ring holds of this connection and closes its fd through the ring. */
  close(reason: CloseReason): void {
    if (this.state === ConnState.Closed) return;
    // A response abandoned by a peer that stopped reading: reset, so the kernel does not
    // keep retrying the unsent bytes for minutes after we let go of them.
    if (this.state === ConnState.Writing && reason !== CloseReason.Done) {
      sys.setsockopt(this.fd, SOL_SOCKET, SO_LINGER, RESET_ON_CLOSE);
    }
    this.state = ConnState.Closed;
    this.dropInput();
    // A send in flight keeps its buffer (`inflight`) until its completion; the queue goes.
    this.dropOutput();
    // Its signal aborts, its streamed body fails, its streamed answer stops.
    this.exchange.release(ABORT_CAUSES[reason] ?? 'reset', this.peerClosed);
    this.engine.release(this, reason);
  }
}
