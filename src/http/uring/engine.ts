/**
 * The completion engine (`backend: 'io_uring'`): the HTTP server on an io_uring instead of
 * a readiness set. A multishot accept delivers every connection; a multishot recv per
 * connection delivers its bytes in a provided buffer ring (no recv syscall, no buffer of its
 * own); the responses of a turn leave as ring sends submitted together, with one
 * io_uring_enter (none under SQPOLL while its thread is awake); closes go through the ring
 * too, after cancelling what it still holds of the fd. The HTTP itself is the exchange's
 * (through `uring/connection.ts`); the timeouts, limits, budget, records and counters are
 * the part both engines share (`engine-core.ts`).
 *
 * Beside the engine: its turns (`turns.ts`), its accepting (`accept.ts`) and the SQEs it
 * writes (`submissions.ts`); the engine itself owns the connections and dispatches
 * completions to them.
 */
import { ECANCELED, EINVAL, ENOBUFS, IORING_CQE_F_BUFFER, IORING_CQE_F_MORE } from '../../constants.js';
import { EtltSystemError } from '../../errors.js';
import type { WaitRecorder } from '../../reactor/reactor.js';
import { Ring } from '../../reactor/uring.js';
import type { RingOptions } from '../../reactor/uring.js';
import { newReactorCounters } from '../../trace/counters.js';
import type { ReactorCounters } from '../../trace/counters.js';
import { CloseReason, ConnState } from '../contract.js';
import { EngineCore } from '../engine-core.js';
import type { EngineCoreConfig } from '../engine-core.js';
import { FACTS } from '../trigger/catalog.js';
import type { StrategyFacts } from '../trigger/catalog.js';
import { UringAcceptor } from './accept.js';
import { UringConnection } from './connection.js';
import type { UringHost } from './connection.js';
import type { UringOutput } from './output.js';
import { BUFFER_SIZE, Op, Submissions } from './submissions.js';
import { UringTurns } from './turns.js';

/** What the completion engine is built from. */
export type UringEngineConfig = EngineCoreConfig & {
  /** The ring's options (SQPOLL, task-run flags, size). */
  ring: RingOptions;
};

/**
 * Slots for gathered sends (several responses copied into one send), reused: a fresh
 * buffer per send made the allocator's memory grow under pipelined load (the soak's RSS).
 */
const SLOT_SIZE = 64 * 1024;
const SLOT_COUNT = 64;

export class UringEngine extends EngineCore<UringConnection> implements UringHost {
  readonly strategy: StrategyFacts = FACTS.completion;
  readonly reactor: { readonly backend: 'io_uring'; readonly counters: ReactorCounters; recorder?: WaitRecorder } = {
    backend: 'io_uring',
    counters: newReactorCounters(),
  };
  readonly keepAlive = true;
  readonly #config: UringEngineConfig;
  #io: Submissions | undefined;
  readonly #conns = new Map<number, UringConnection>();
  #nextId = 0;
  /** The send slots' memory and the free ones. */
  readonly #slab: Buffer;
  readonly #freeSlots: number[] = [];
  readonly #turns: UringTurns;
  readonly #accept: UringAcceptor;

  constructor(config: UringEngineConfig) {
    super(config);
    this.#config = config;
    this.#slab = Buffer.allocUnsafeSlow(SLOT_SIZE * SLOT_COUNT);
    for (let i = SLOT_COUNT - 1; i >= 0; i--) this.#freeSlots.push(i);
    this.#accept = new UringAcceptor(
      this.counters,
      this.reactor.counters,
      this.sweep,
      (fd) => this.#adopt(fd),
      () => this.#turns.flushSoon(),
    );
    this.#turns = new UringTurns(
      this.reactor.counters,
      this.#onCompletion,
      () => this.#accept.turnEnded(),
      config.onError,
    );
  }

  /**
   * Sets the ring up and starts serving the listening socket `fd` on Node's loop. Throws
   * an EtltSystemError naming the cause when io_uring cannot be had (never falls back).
   * Returns 0, or -errno when the ring refused the listener.
   */
  start(fd: number, deferred: boolean, _holdMs: number, _shared?: { exclusive: boolean }): number {
    const ring = new Ring(this.#config.ring);
    let io: Submissions;
    try {
      io = new Submissions(ring, this.reactor.counters, this.#config.onError);
      this.#turns.attach(io);
      const r = ring.watch(this.#turns.onWake);
      if (r < 0) throw new EtltSystemError(r, 'io_uring_register', 'IORING_REGISTER_EVENTFD');
    } catch (err) {
      ring.close();
      throw err;
    }
    this.#io = io;
    this.#accept.start(io, fd, deferred);
    const s = io.submit();
    if (s < 0) {
      ring.close();
      this.#io = undefined;
      return s;
    }
    this.startSweep();
    return 0;
  }

  /** Stops the timers and closes the ring (the kernel cancels what it still held). */
  override shutdown(): void {
    super.shutdown();
    this.#accept.close();
    if (this.#io !== undefined) {
      this.#io.submit();
      this.#io.ring.close();
    }
  }

  // ---- what connections use ----

  dirty(conn: UringOutput): void {
    this.#turns.dirty(conn);
  }

  armRecv(conn: UringConnection): void {
    this.#io!.recv(conn.fd, conn.id);
    conn.recvArmed = true;
    this.#turns.flushSoon();
  }

  cancelRecv(conn: UringConnection): void {
    this.#io!.cancelRecv(conn.id);
    this.#turns.flushSoon();
  }

  /** A free send slot (its bytes), or undefined when all are in flight. */
  takeSlot(): { index: number; bytes: Buffer } | undefined {
    const index = this.#freeSlots.pop();
    if (index === undefined) return undefined;
    return { index, bytes: this.#slab.subarray(index * SLOT_SIZE, (index + 1) * SLOT_SIZE) };
  }

  releaseSlot(index: number): void {
    this.#freeSlots.push(index);
  }

  send(conn: UringOutput, buf: Uint8Array, offset: number, len: number): void {
    this.#io!.send(conn.fd, conn.id, buf, offset, len);
    conn.sending = true;
    conn.inflight = buf;
    conn.inflightLen = len;
    this.counters.send++;
    this.reactor.counters.ringSend++;
    this.#turns.flushSoon();
  }

  pollOut(conn: UringOutput): void {
    this.#io!.pollOut(conn.fd, conn.id);
    this.#turns.flushSoon();
  }

  /**
   * Closes `conn`'s fd through the ring, after cancelling what the ring still holds of it
   * (forgotten once nothing is left), then the core's bookkeeping.
   */
  override release(conn: UringConnection, reason: CloseReason): void {
    this.reactor.counters.ringClose++;
    const busy = conn.recvArmed || conn.sending;
    this.#io!.close(conn.fd, conn.id, busy);
    if (!busy) this.#conns.delete(conn.id);
    this.#turns.flushSoon();
    super.release(conn, reason);
  }

  // ---- internals ----

  /** The multishot accept is cancelled now, before the listener is closed. */
  protected stopListening(): void {
    this.#accept.stop();
    this.#turns.flushSoon();
  }

  #onCompletion = (udLow: number, high: number, res: number, flags: number): void => {
    switch (high as Op) {
      case Op.Recv:
        this.#onRecv(udLow, res, flags);
        return;
      case Op.Send: {
        const conn = this.#conns.get(udLow);
        if (conn === undefined) return;
        conn.sent(res);
        this.#settled(conn);
        return;
      }
      case Op.PollOut: {
        const conn = this.#conns.get(udLow);
        if (conn === undefined) return;
        conn.writable(res);
        this.#settled(conn);
        return;
      }
      case Op.Accept:
        this.#accept.completed(res, flags);
        return;
      case Op.Cancel:
      case Op.Close:
      default:
      // Nothing to do: a cancel that found nothing left (ENOENT), a close's rare failure.
    }
  };

  #adopt(fd: number): UringConnection {
    this.#nextId = (this.#nextId + 1) >>> 0 || 1;
    const now = this.now();
    const conn = new UringConnection(this, fd, this.#nextId, now);
    this.#conns.set(conn.id, conn);
    this.counters.connections++;
    this.sweep.touch(conn, now);
    this.armRecv(conn);
    return conn;
  }

  #onRecv(id: number, res: number, flags: number): void {
    const conn = this.#conns.get(id);
    const buffers = this.#io!.buffers;
    const more = (flags & IORING_CQE_F_MORE) !== 0;
    if ((flags & IORING_CQE_F_BUFFER) !== 0) {
      const bid = flags >>> 16;
      if (conn !== undefined && res > 0) {
        this.counters.recv++;
        this.reactor.counters.ringRecv++;
        conn.recvCalls++;
        conn.received(buffers.bytes, bid * BUFFER_SIZE, res);
      }
      buffers.add(bid);
    }
    if (conn === undefined) return;
    if (!more) conn.recvArmed = false;
    if (conn.state === ConnState.Closed) {
      this.#settled(conn);
      return;
    }
    if (res === 0) {
      conn.endOfInput();
      return;
    }
    // A kernel without the multishot recv's total cap: armed again without it.
    if (res === -EINVAL && this.#io!.refuseRecvCap()) res = -ECANCELED;
    if (res < 0 && res !== -ENOBUFS && res !== -ECANCELED) {
      conn.close(CloseReason.Aborted);
      return;
    }
    if (res === -ENOBUFS) this.counters.recvAgain++;
    // Ended (its cap, out of buffers, with data: the kernel may stop a multishot recv at any
    // time, or cancelled): the connection arms it again unless it holds its input back.
    if (!more) conn.recvEnded();
  }

  /** A closed connection is forgotten once the ring holds nothing of it any more. */
  #settled(conn: UringConnection): void {
    if (conn.state === ConnState.Closed && !conn.recvArmed && !conn.sending) this.#conns.delete(conn.id);
  }
}
