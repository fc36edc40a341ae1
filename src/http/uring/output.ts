/**
 * A completion connection's output side: the queue (`Buffers`, below the lifecycle both
 * engines' connections share, `ConnectionCore`) handed to the ring, one send in flight at
 * most so that bytes leave in order, its completion saying how much went. What that means
 * for the exchange (a stream pulled again, the next request, a close) is the connection's
 * (`uring/connection.ts`), told through `outputMoved` and `outputDrained`.
 */
import { EAGAIN, EINTR } from '../../constants.js';
import { ConnectionCore } from '../connection-core.js';
import type { ConnectionCoreHost } from '../connection-core.js';
import { CloseReason, ConnState } from '../contract.js';
import { SENDFILE_MAX_CHUNK } from '../file-output.js';

/** Most bytes one ring send gathers from several segments (pipelined responses). */
const GATHER_MAX = 64 * 1024;
/** A first segment at least this long is sent where it lies instead of being gathered. */
const SEND_DIRECT_MIN = 16 * 1024;
/** Synchronous sends per turn for a connection with files queued. */
const FILE_WRITE_BUDGET = 16;

/** What the output side needs of its engine. */
export interface UringOutputHost extends ConnectionCoreHost {
  /** `conn` has output to hand to the ring at the end of this turn. */
  dirty(conn: UringOutput): void;
  /** A free slot for a gathered send (64 KiB), or undefined; given back with releaseSlot. */
  takeSlot(): { index: number; bytes: Buffer } | undefined;
  releaseSlot(index: number): void;
  /** Sends `len` bytes at `buf[offset]` with the ring; `buf` is kept alive until the completion. */
  send(conn: UringOutput, buf: Uint8Array, offset: number, len: number): void;
  /** Asks the ring to tell when `conn`'s socket is writable (a file's sendfile met a full socket). */
  pollOut(conn: UringOutput): void;
}

/** The output half of a completion connection: the queue and the send in flight. */
export abstract class UringOutput<Host extends UringOutputHost = UringOutputHost> extends ConnectionCore<Host> {
  /** The low 32 bits of every user_data of this connection's operations. */
  abstract readonly id: number;
  /** A send (or a POLLOUT poll) is in flight: output waits for its completion. */
  sending = false;
  /** What the send in flight keeps alive, and its length. */
  inflight: Uint8Array | null = null;
  inflightLen = 0;
  /** The send slot the send in flight was gathered into, or -1. */
  slot = -1;
  /** Listed for this turn's flush. */
  queued = false;

  /** Some output went and some may be left: progress for the clocks, room for a stream. */
  protected abstract outputMoved(): void;
  /** Nothing is left to send (and nothing in flight). */
  protected abstract outputDrained(): void;

  /**
   * Hands the pending output on (the engine calls this once per turn for a connection
   * listed dirty): memory through a ring send; a queue holding a file through sendfile(2)
   * now, with a POLLOUT poll through the ring when the socket is full.
   */
  flush(): void {
    if (this.sending || this.state === ConnState.Closed) return;
    if (this.out0 === null) {
      this.outputDrained();
      return;
    }
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
    this.outputMoved();
    if ((this.state as ConnState) === ConnState.Closed) return;
    if (this.out0 !== null) this.engine.dirty(this);
    else this.outputDrained();
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
        this.outputMoved();
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
      this.outputDrained();
      return;
    }
    // The turn's budget is spent with the socket still writable: a POLLOUT poll completes
    // at once, so the file goes on at the next turn, after the other connections had theirs.
    this.sending = true;
    this.engine.pollOut(this);
  }

  /**
   * The closing connection's one synchronous send (its ring close right behind), not while a
   * ring send is in flight: its bytes are still at the queue's front, and would go twice, or
   * out of order.
   */
  protected override sendOnce(): void {
    if (!this.sending) super.sendOnce();
  }
}
