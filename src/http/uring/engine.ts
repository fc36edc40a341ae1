/**
 * The completion engine (`backend: 'io_uring'`): the HTTP server on an io_uring instead of
 * a readiness set. A multishot accept delivers every connection; a multishot recv per
 * connection delivers its bytes in a provided buffer ring (no recv syscall, no buffer of its
 * own); the responses of a turn leave as ring sends submitted together, with one
 * io_uring_enter (none under SQPOLL while its thread is awake); closes go through the ring
 * too, after cancelling what it still holds of the fd. The HTTP itself is the exchange's
 * (through `uring/connection.ts`); the timeouts, limits and counters are the readiness
 * engine's own parts.
 *
 * Beside the engine: its turns (`turns.ts`), its accepting (`accept.ts`) and the SQEs it
 * writes (`submissions.ts`); the engine itself owns the connections, dispatches completions
 * to them and keeps their timeouts, budget and records.
 */
import { ECANCELED, EINVAL, ENOBUFS, IORING_CQE_F_BUFFER, IORING_CQE_F_MORE } from '../../constants.js';
import { EtltSystemError } from '../../errors.js';
import type { WaitRecorder } from '../../reactor/reactor.js';
import { Ring } from '../../reactor/uring.js';
import type { RingOptions } from '../../reactor/uring.js';
import { newReactorCounters, newServerCounters } from '../../trace/counters.js';
import type { ConnectionRecord, ReactorCounters, ServerCounters } from '../../trace/counters.js';
import type { AccessEntry } from '../access-record.js';
import { CloseReason, ConnState } from '../contract.js';
import type { EngineConfig } from '../engine.js';
import type { RequestHandler } from '../handler.js';
import { MAX_SYNACK_RETRANSMITS } from '../deferred-accept.js';
import { IdleSweep } from '../idle-sweep.js';
import { DateClock, ErrorResponses, FixedResponses, SEED_BODY } from '../responses.js';
import { ResponseMemo } from '../response-memo.js';
import type { StaticFiles } from '../static/files.js';
import { RequestHead } from '../parser.js';
import { FACTS } from '../trigger/catalog.js';
import type { StrategyFacts } from '../trigger/catalog.js';
import { UringAcceptor } from './accept.js';
import { UringConnection } from './connection.js';
import type { UringHost } from './connection.js';
import type { UringOutput } from './output.js';
import { BUFFER_SIZE, Op, Submissions } from './submissions.js';
import { UringTurns } from './turns.js';

/** What the completion engine is built from. */
export type UringEngineConfig = Omit<EngineConfig, 'strategy' | 'backend' | 'eagerRead'> & {
  /** The ring's options (SQPOLL, task-run flags, size). */
  ring: RingOptions;
};

/**
 * Slots for gathered sends (several responses copied into one send), reused: a fresh
 * buffer per send made the allocator's memory grow under pipelined load (the soak's RSS).
 */
const SLOT_SIZE = 64 * 1024;
const SLOT_COUNT = 64;
const OUTCOMES = ['done', 'aborted', 'timed-out', 'cut-off'] as const;

export class UringEngine implements UringHost {
  readonly strategy: StrategyFacts = FACTS.completion;
  readonly counters: ServerCounters = newServerCounters();
  readonly reactor: { readonly backend: 'io_uring'; readonly counters: ReactorCounters; recorder?: WaitRecorder } = {
    backend: 'io_uring',
    counters: newReactorCounters(),
  };
  readonly gather: Buffer = Buffer.allocUnsafe(65536);
  readonly clock = new DateClock();
  readonly responseMemo = new ResponseMemo();
  readonly parsed = new RequestHead();
  readonly fixed: FixedResponses;
  readonly errors: ErrorResponses;
  readonly handler: RequestHandler | undefined;
  readonly statics: StaticFiles | undefined;
  readonly maxHeadBytes: number;
  readonly maxBodyBytes: number;
  readonly streamBodies: boolean;
  readonly maxStreamBodyBytes: number;
  readonly maxRequests: number;
  readonly keepAlive = true;
  readonly onRequest: ((request: Buffer) => void) | undefined;
  /** Set by the server while someone listens for 'access' (the exchange records nothing otherwise). */
  accessLog: ((entry: AccessEntry) => void) | undefined = undefined;
  draining = false;
  readonly #config: UringEngineConfig;
  #io: Submissions | undefined;
  readonly #conns = new Map<number, UringConnection>();
  #nextId = 0;
  #heldBytes = 0;
  /** The send slots' memory and the free ones. */
  readonly #slab: Buffer;
  readonly #freeSlots: number[] = [];
  readonly #sweep: IdleSweep<UringConnection>;
  readonly #turns: UringTurns;
  readonly #accept: UringAcceptor;
  readonly #records: ConnectionRecord[] = [];
  #startedAt = 0;
  #closing = false;
  #onDrained: (() => void) | undefined;

  constructor(config: UringEngineConfig) {
    this.#config = config;
    this.maxHeadBytes = config.maxHeadBytes;
    this.maxBodyBytes = config.maxBodyBytes;
    this.streamBodies = config.streamBodies;
    this.maxStreamBodyBytes = config.maxStreamBodyBytes;
    this.maxRequests = config.maxRequests;
    this.handler = config.handler;
    this.statics = config.statics;
    this.onRequest = config.onRequest;
    this.fixed = new FixedResponses(config.body ?? SEED_BODY, this.clock);
    this.errors = new ErrorResponses(this.clock);
    this.#slab = Buffer.allocUnsafeSlow(SLOT_SIZE * SLOT_COUNT);
    for (let i = SLOT_COUNT - 1; i >= 0; i--) this.#freeSlots.push(i);
    this.#sweep = new IdleSweep<UringConnection>(
      config.idleTimeoutMs,
      config.keepAliveTimeoutMs,
      config.sendTimeoutMs,
      MAX_SYNACK_RETRANSMITS,
      () => this.counters.timerTurns++,
      (conn) => {
        this.counters.sendTimeouts++;
        conn.timeOut();
      },
    );
    this.#accept = new UringAcceptor(
      this.counters,
      this.reactor.counters,
      this.#sweep,
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
    this.#sweep.start();
    this.#startedAt = this.now();
    return 0;
  }

  /** Stops accepting: the multishot accept is cancelled now, before the listener is closed. */
  stopAccepting(onDrained: () => void): void {
    this.#closing = true;
    this.draining = true;
    this.#accept.stop();
    this.#onDrained = onDrained;
    for (const conn of this.#sweep.keptAlive()) conn.close(CloseReason.Done);
    this.#turns.flushSoon();
    if (this.openCount() === 0) this.#drained();
  }

  cutOff(): void {
    for (const conn of this.#sweep.all()) conn.close(CloseReason.Shutdown);
  }

  openCount(): number {
    return this.#sweep.size;
  }

  records(): readonly ConnectionRecord[] {
    return this.#records;
  }

  /** Stops the timers and closes the ring (the kernel cancels what it still held). */
  shutdown(): void {
    this.statics?.close();
    this.#sweep.stop();
    this.#accept.close();
    if (this.#io !== undefined) {
      this.#io.submit();
      this.#io.ring.close();
    }
  }

  // ---- what connections use ----

  now(): number {
    return performance.now();
  }

  touch(conn: UringConnection): void {
    // Output pending: progress on it (our send) restarts the send timeout, not the idle one.
    if (conn.outBytes > 0) this.#sweep.sent(conn, this.now());
    else this.#sweep.touch(conn, this.now());
  }

  idle(conn: UringConnection): void {
    if (this.draining) {
      conn.close(CloseReason.Done);
      return;
    }
    this.#sweep.idle(conn, this.now());
  }

  hold(conn: UringConnection): void {
    this.#sweep.hold(conn);
  }

  held(delta: number): void {
    this.#heldBytes += delta;
  }

  enforceBudget(): void {
    if (this.#heldBytes <= this.#config.inputBudgetBytes) return;
    for (const conn of this.#sweep.oldestActive()) {
      if (this.#heldBytes <= this.#config.inputBudgetBytes) return;
      if ((conn.inbuf === null && conn.exchange.body.collected === null) || conn.state !== ConnState.Reading) continue;
      this.counters.headsShed++;
      conn.close(CloseReason.Aborted);
    }
  }

  handlerFailed(err: unknown): void {
    this.#config.onHandlerError(err);
  }

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

  release(conn: UringConnection, reason: CloseReason): void {
    const c = this.counters;
    c.close++;
    this.reactor.counters.ringClose++;
    if (reason === CloseReason.Aborted) c.aborted++;
    else if (reason === CloseReason.TimedOut) c.timedOut++;
    else if (reason === CloseReason.Shutdown) c.cutOff++;
    if (this.#records.length < this.#config.traceConnections) this.#record(conn, reason);
    conn.activeList?.remove(conn);
    const busy = conn.recvArmed || conn.sending;
    this.#io!.close(conn.fd, conn.id, busy);
    if (!busy) this.#conns.delete(conn.id);
    this.#turns.flushSoon();
    if (this.#closing && this.openCount() === 0) this.#drained();
  }

  // ---- internals ----

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
    this.#sweep.touch(conn, now);
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

  #drained(): void {
    const done = this.#onDrained;
    this.#onDrained = undefined;
    done?.();
  }

  #record(conn: UringConnection, reason: CloseReason): void {
    const now = this.now();
    this.#records.push({
      fd: conn.fd,
      acceptedMs: Math.round((conn.acceptedAt - this.#startedAt) * 1000) / 1000,
      durationMs: Math.round((now - conn.acceptedAt) * 1000) / 1000,
      outcome: OUTCOMES[reason] ?? 'done',
      events: conn.events,
      useless: 0,
      recv: conn.recvCalls,
      recvAgain: 0,
      send: conn.sendCalls,
      sendAgain: conn.sendAgain,
      epollCtl: 0,
      bytesIn: conn.bytesIn,
      bytesOut: conn.bytesOut,
      requests: conn.requests,
    });
  }
}
