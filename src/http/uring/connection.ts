/**
 * One HTTP/1.x connection on the completion engine: the adapter between io_uring's
 * completions and the exchange (`processInput` over `ExchangeConn`), the one file that
 * couples the engine to the exchange. The states are the readiness connection's:
 *
 *   Reading --request complete--> Writing --output sent--> finish(): Reading (kept alive)
 *      |   \--handler pending--> Waiting --answer--> Writing      or Lingering --EOF--> Closed
 *      \--EOF, reset, garbage--> Closed                           or Closed
 *
 * but nothing here waits for readiness: input arrives (a multishot recv's completion, its
 * bytes in a provided buffer), output is handed to the ring at the end of the turn (a send
 * in flight at most, so bytes leave in order) and its completion says how much went.
 */
import { sys } from '../../sys.js';
import { EAGAIN, EINTR, MSG_NOSIGNAL, SHUT_WR, SOL_SOCKET, SO_LINGER } from '../../constants.js';
import type { ActivityLinks } from '../activity.js';
import { Buffers } from '../buffers.js';
import type { ChunkedDecoder } from '../chunked.js';
import { CloseReason, ConnState, Next } from '../contract.js';
import { Phase, processInput, requestLineIsHttp11 } from '../exchange.js';
import type { ExchangeConn, ExchangeHost } from '../exchange.js';
import { SENDFILE_MAX_CHUNK } from '../file-output.js';
import type { PendingRequest, Persistence } from '../handler.js';
import type { StaticRequest } from '../static/request.js';
import type { ServerCounters } from '../../trace/counters.js';

/** What a completion connection needs of its engine. */
export interface UringHost extends ExchangeHost {
  readonly counters: ServerCounters;
  /** One buffer to gather several responses into a single synchronous send (files). */
  readonly gather: Buffer;
  now(): number;
  touch(conn: UringConnection): void;
  idle(conn: UringConnection): void;
  hold(conn: UringConnection): void;
  enforceBudget(): void;
  /** `conn` has output to hand to the ring at the end of this turn. */
  dirty(conn: UringConnection): void;
  /** Arms the multishot recv of `conn` (again). */
  armRecv(conn: UringConnection): void;
  /** Stops the multishot recv of `conn` (its input is held back until it reads again). */
  cancelRecv(conn: UringConnection): void;
  /** A free slot for a gathered send (64 KiB), or undefined; given back with releaseSlot. */
  takeSlot(): { index: number; bytes: Buffer } | undefined;
  releaseSlot(index: number): void;
  /** Sends `len` bytes at `buf[offset]` with the ring; `buf` is kept alive until the completion. */
  send(conn: UringConnection, buf: Uint8Array, offset: number, len: number): void;
  /** Asks the ring to tell when `conn`'s socket is writable (a file's sendfile met a full socket). */
  pollOut(conn: UringConnection): void;
  /** Cancels `conn`'s operations and closes its fd through the ring; forgets it. */
  release(conn: UringConnection, reason: CloseReason): void;
}

/** Longest a finished connection keeps reading a peer's leftover bytes before closing. */
const LINGER_MAX_MS = 5000;
/** struct linger { l_onoff = 1, l_linger = 0 }: close(2) then resets instead of flushing. */
const RESET_ON_CLOSE = new Uint8Array(new Int32Array([1, 0]).buffer);
/** Input held while not reading past which the multishot recv is cancelled (backpressure). */
const INPUT_PAUSE_BYTES = 256 * 1024;
/** Most bytes one ring send gathers from several segments (pipelined responses). */
const GATHER_MAX = 64 * 1024;
/** A first segment at least this long is sent where it lies instead of being gathered. */
const SEND_DIRECT_MIN = 16 * 1024;
/** Synchronous sends per turn for a connection with files queued. */
const FILE_WRITE_BUDGET = 16;

export class UringConnection extends Buffers implements ExchangeConn, ActivityLinks<UringConnection> {
  readonly fd: number;
  /** The low 32 bits of every user_data of this connection's operations. */
  readonly id: number;
  readonly engine: UringHost;
  state: ConnState = ConnState.Reading;
  peerClosed = false;
  /** A multishot recv is armed; `recvPaused`: cancelled for backpressure, re-armed when reading again. */
  recvArmed = false;
  recvPaused = false;
  /** A send (or a POLLOUT poll) is in flight: output waits for its completion. */
  sending = false;
  /** What the send in flight keeps alive, and its length. */
  inflight: Uint8Array | null = null;
  inflightLen = 0;
  /** The send slot the send in flight was gathered into, or -1. */
  slot = -1;
  /** Listed for this turn's flush. */
  queued = false;
  // ---- the exchange (see ExchangeConn) ----
  phase: Phase = Phase.Head;
  headScanned = 0;
  requests = 0;
  closeAfter = false;
  lingerNeeded = false;
  reqHttp11 = false;
  reqIsHead = false;
  reqPersistence: Persistence = 0;
  reqStatus = 200;
  reqAnswered = false;
  bodyLeft = 0;
  chunks: ChunkedDecoder | null = null;
  pending: PendingRequest | null = null;
  staticRequest: StaticRequest | null = null;
  body: Buffer | null = null;
  bodyBytes = 0;
  lingerUntil = 0;
  lastActive: number;
  olderActive: UringConnection | null = null;
  newerActive: UringConnection | null = null;
  activeList: { remove(item: UringConnection): void } | null = null;
  readonly acceptedAt: number;
  events = 0;
  recvCalls = 0;
  sendCalls = 0;
  sendAgain = 0;
  bytesIn = 0;
  bytesOut = 0;

  constructor(engine: UringHost, fd: number, id: number, now: number) {
    super();
    this.engine = engine;
    this.fd = fd;
    this.id = id;
    this.lastActive = now;
    this.acceptedAt = now;
  }

  get exchangeHost(): ExchangeHost {
    return this.engine;
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
      const used = processInput(this, bytes, start, end);
      if (used >= 0 && used < end && (this.state as ConnState) !== ConnState.Closed) this.keepInput(bytes, used, end);
    } else {
      this.appendInput(bytes.subarray(start, start + n), n);
      this.#drainInput();
    }
    this.#settle();
    engine.enforceBudget();
    if ((this.state as ConnState) === ConnState.Closed) return;
    if (this.outBytes > 0) engine.dirty(this);
    // Not reading now (output or a handler pending) and the peer keeps sending: stop the
    // recv until the connection reads again, or its input would grow without bound.
    if (this.inbuf !== null && this.inEnd - this.inStart > INPUT_PAUSE_BYTES && this.recvArmed) {
      this.recvPaused = true;
      engine.cancelRecv(this);
    }
  }

  /** The peer sent its FIN: answer what is complete, then close (RFC 9112 section 9.6, half-close). */
  endOfInput(): void {
    this.peerClosed = true;
    if (this.state === ConnState.Closed) return;
    if (this.state === ConnState.Lingering) {
      this.close(CloseReason.Done);
      return;
    }
    if (this.state === ConnState.Writing || this.state === ConnState.Waiting) return;
    const midway = this.inbuf !== null || this.phase === Phase.Body || this.requests === 0;
    this.close(midway ? CloseReason.Aborted : CloseReason.Done);
  }

  /** Processes the buffered input as far as it goes now; frees the buffer once used up. */
  #drainInput(): void {
    const buf = this.inbuf;
    if (buf === null) return;
    const used = processInput(this, buf, this.inStart, this.inEnd);
    if (this.inbuf !== buf) return;
    if (used < 0 || used >= this.inEnd) this.dropInput();
    else this.inStart = used;
  }

  /** The state after processing: output pending, a handler pending, or input awaited. */
  #settle(): void {
    if (this.state === ConnState.Closed || this.state === ConnState.Lingering) return;
    if (this.phase === Phase.Waiting) this.state = ConnState.Waiting;
    else if (this.outBytes > 0) this.state = ConnState.Writing;
    else {
      this.state = ConnState.Reading;
      if (this.phase === Phase.Head && this.inbuf === null && this.headScanned === 0 && this.requests > 0)
        this.engine.idle(this);
      this.#readAgain();
    }
  }

  /** Reading again after a pause for backpressure: the recv is armed once more. */
  #readAgain(): void {
    if (this.recvPaused && !this.recvArmed && !this.peerClosed) {
      this.recvPaused = false;
      this.engine.armRecv(this);
    }
  }

  headStarted(): void {
    if (this.requests > 0) this.engine.touch(this);
  }

  bodyProgress(): void {
    this.engine.touch(this);
  }

  setWaiting(waiting: boolean): void {
    if (waiting) this.engine.hold(this);
    else this.engine.touch(this);
  }

  resume(): void {
    if (this.state === ConnState.Closed) return;
    this.#drainInput();
    this.#settle();
    if (this.state === ConnState.Writing) this.engine.dirty(this);
    else if (this.state === ConnState.Reading && this.peerClosed) this.endOfInput();
  }

  abort(): void {
    this.close(CloseReason.Aborted);
  }

  // ---- output: handed to the ring at the end of the turn ----

  /**
   * Hands the pending output on (the engine calls this once per turn for a connection
   * listed dirty): memory through a ring send; a queue holding a file through sendfile(2)
   * now, with a POLLOUT poll through the ring when the socket is full.
   */
  flush(): void {
    if (this.sending || this.state === ConnState.Closed || this.out0 === null) return;
    if (this.outFiles > 0) {
      this.#flushFiles();
      return;
    }
    const out = this.out0 as Uint8Array;
    const first = out.byteLength - this.outOffset;
    this.sendCalls++;
    if (this.outRest === null || first >= SEND_DIRECT_MIN) {
      this.engine.send(this, out, this.outOffset, first);
      return;
    }
    // Several segments (pipelined responses, a head and its body): one send of their copy,
    // in a reused slot when one is free.
    const total = Math.min(this.outBytes, GATHER_MAX);
    const slot = this.engine.takeSlot();
    const g = slot === undefined ? Buffer.allocUnsafe(total) : slot.bytes;
    this.slot = slot === undefined ? -1 : slot.index;
    let at = 0;
    let seg: Uint8Array = this.outOffset === 0 ? out : out.subarray(this.outOffset);
    for (let i = -1; at < total;) {
      const take = Math.min(seg.byteLength, total - at);
      g.set(take === seg.byteLength ? seg : seg.subarray(0, take), at);
      at += take;
      seg = this.outRest[++i] as Uint8Array;
    }
    this.engine.send(this, g, 0, total);
  }

  /** A send completed: `res` bytes went, or -errno. */
  sent(res: number): void {
    const len = this.inflightLen;
    this.sending = false;
    this.inflight = null;
    if (this.slot >= 0) {
      this.engine.releaseSlot(this.slot);
      this.slot = -1;
    }
    if (this.state === ConnState.Closed) return;
    if (res < 0) {
      if (res === -EINTR || res === -EAGAIN) {
        this.engine.dirty(this);
        return;
      }
      this.close(CloseReason.Aborted);
      return;
    }
    const c = this.engine.counters;
    c.bytesOut += res;
    this.bytesOut += res;
    // Short: the socket's buffer is full, the peer is not reading as fast (EAGAIN on epoll).
    if (res < len) {
      c.sendAgain++;
      this.sendAgain++;
    }
    this.advanceOutput(res);
    if (this.out0 !== null) {
      this.engine.touch(this);
      this.engine.dirty(this);
      return;
    }
    this.#drained();
  }

  /** The socket became writable (the POLLOUT poll a full socket asked for). */
  writable(res: number): void {
    this.sending = false;
    if (this.state === ConnState.Closed) return;
    if (res < 0 && res !== -EINTR) {
      this.close(CloseReason.Aborted);
      return;
    }
    this.engine.dirty(this);
  }

  #flushFiles(): void {
    const c = this.engine.counters;
    let fileBytes = 0;
    for (let i = 0; i < FILE_WRITE_BUDGET && this.out0 !== null; i++) {
      if (fileBytes >= SENDFILE_MAX_CHUNK) break;
      c.send++;
      this.sendCalls++;
      const n = this.sendSome(this.engine.gather);
      if (n >= 0) {
        fileBytes += n;
        c.bytesOut += n;
        this.bytesOut += n;
        if (this.out0 !== null) this.engine.touch(this);
        continue;
      }
      if (n === -EINTR) continue;
      if (n !== -EAGAIN) {
        this.close(CloseReason.Aborted);
        return;
      }
      c.sendAgain++;
      this.sending = true;
      this.engine.pollOut(this);
      return;
    }
    if (this.out0 === null) {
      this.#drained();
      return;
    }
    // The turn's budget is spent with the socket still writable: a POLLOUT poll completes
    // at once, so the file goes on at the next turn, after the other connections had theirs.
    this.sending = true;
    this.engine.pollOut(this);
  }

  /** Everything queued went out: close, linger, or go on with the next request. */
  #drained(): void {
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
    const draining = this.engine.draining && this.phase === Phase.Head && this.outBytes === 0;
    if (this.closeAfter || draining) {
      const unread = this.lingerNeeded || this.inbuf !== null || this.phase === Phase.Body || draining;
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
      this.close(this.inbuf === null && this.phase === Phase.Head ? CloseReason.Done : CloseReason.Aborted);
      return Next.Closed;
    }
    this.state = ConnState.Reading;
    if (this.inbuf === null && this.phase === Phase.Head) this.engine.idle(this);
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

  /** The idle timeout ran out: a head that was arriving too slowly gets 408 first (as nginx logs it). */
  timeOut(): void {
    if (this.state === ConnState.Reading && (this.inbuf !== null || this.headScanned > 0) && this.outBytes === 0) {
      const http11 = this.inbuf !== null ? requestLineIsHttp11(this.inbuf, this.inStart, this.inEnd) : this.reqHttp11;
      const r = this.engine.errors.get(408, http11);
      this.engine.counters.send++;
      sys.send(this.fd, r, 0, r.byteLength, MSG_NOSIGNAL);
    }
    const keptAlive =
      this.state === ConnState.Reading &&
      this.inbuf === null &&
      this.phase === Phase.Head &&
      this.headScanned === 0 &&
      this.requests > 0;
    if (keptAlive) this.engine.counters.keepAliveTimeouts++;
    this.close(keptAlive ? CloseReason.Done : CloseReason.TimedOut);
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
    this.dropOutput();
    this.pending = null;
    this.staticRequest = null;
    if (this.body !== null) this.engine.held(-this.body.length);
    this.body = null;
    this.chunks = null;
    this.engine.release(this, reason);
  }
}
