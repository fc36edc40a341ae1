/**
 * One HTTP/1.x connection on the completion engine: the adapter between io_uring's
 * completions and the exchange (an `Exchange` it owns, to which it is the `ExchangeConn`),
 * the one file that couples the engine to the exchange. The states, and the one place
 * they are derived from the exchange's phase and the output queue, are the readiness
 * connection's own (`ConnectionCore`, connection-core.ts):
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
import type { ActivityLinks } from '../idle-sweep.js';
import { BODY_HIGH_WATER } from '../body-stream.js';
import { OUTPUT_HIGH_WATER } from '../buffers.js';
import { CloseReason, ConnState, Next } from '../contract.js';
import { Phase } from '../exchange.js';
import { UringOutput } from './output.js';
import type { UringOutputHost } from './output.js';

/** What a completion connection needs of its engine. */
export interface UringHost extends UringOutputHost {
  /** Arms the multishot recv of `conn` (again). */
  armRecv(conn: UringConnection): void;
  /** Stops the multishot recv of `conn` (its input is held back until it reads again). */
  cancelRecv(conn: UringConnection): void;
  /** Cancels `conn`'s operations and closes its fd through the ring; forgets it. */
  release(conn: UringConnection, reason: CloseReason): void;
}

/**
 * Input held while not reading past which the multishot recv is cancelled (backpressure):
 * pipelined requests behind a pending answer, or (the lower bound) a streamed body its
 * handler is not pulling, which then costs at most the body's own high-water mark twice.
 */
const INPUT_PAUSE_BYTES = 256 * 1024;
const BODY_PAUSE_BYTES = BODY_HIGH_WATER;

/**
 * A client connection on the ring: the recv's completions and backpressure; the state, the
 * bytes in flight, the exchange and the lifecycle after a response are the core's
 * (connection-core.ts), the sends `UringOutput`'s.
 */
export class UringConnection extends UringOutput<UringHost> implements ActivityLinks<UringConnection> {
  /** The low 32 bits of every user_data of this connection's operations. */
  readonly id: number;
  /** A multishot recv is armed; `recvPaused`: cancelled for backpressure, re-armed when reading again. */
  recvArmed = false;
  /** Set by the connection only; the engine reads it (a recv that ends is armed again unless it is set). */
  recvPaused = false;

  constructor(engine: UringHost, fd: number, id: number, now: number) {
    super(engine, fd, now);
    this.id = id;
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
      engine.sweep.progress(this);
      if (this.lastActive > this.lingerUntil) this.close(CloseReason.Done);
      return;
    }
    if (this.inbuf === null) {
      const end = start + n;
      const used = this.exchange.processInput(bytes, start, end);
      if (used >= 0 && used < end && (this.state as ConnState) !== ConnState.Closed) this.keepInput(bytes, used, end);
    } else {
      this.appendInput(bytes.subarray(start, start + n), n);
      this.drainInput();
    }
    this.settle();
    if (engine.inputOverBudget) engine.enforceBudget();
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

  /** The exchange goes on (a handler answered, a stream produced or ended, a body was pulled). */
  resume(): void {
    if (this.state === ConnState.Closed) return;
    this.drainInput();
    this.settle();
    if ((this.state as ConnState) === ConnState.Closed) return;
    this.#follow();
    // The FIN came while the connection was not reading: act on it now that it is.
    if (this.peerClosed && (this.state === ConnState.Reading || this.exchange.bodyOpen)) this.endOfInput();
  }

  // ---- output (uring/output.ts): what its progress means for the exchange ----

  protected outputMoved(): void {
    // A streamed body waits for room: there is some now.
    if (this.outBytes <= OUTPUT_HIGH_WATER) this.exchange.stream?.drained();
    // Progress on a response not yet out restarts its clock (the send timeout's).
    if (this.out0 !== null) this.engine.sweep.progress(this);
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
   * The core's `finish()` (close, linger or keep alive); reading again (kept alive,
   * lingering, or reading a streamed request's body) after a pause for backpressure arms
   * the recv once more.
   */
  override finish(): Next {
    const next = super.finish();
    if (next === Next.Read) this.#readAgain();
    return next;
  }

  /** A held stream whose peer's FIN came through the recv (RFC 9112 half-close, or gone): closed. */
  closeIfPeerGone(): boolean {
    if (!this.peerClosed) return false;
    this.close(CloseReason.Aborted);
    return true;
  }
}
