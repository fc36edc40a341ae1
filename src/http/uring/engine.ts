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
 * A turn: the ring (its fd, or with DEFER_TASKRUN its eventfd: see Ring.watch) wakes Node's
 * loop; completions are reaped in place, each connection's output is handed to the ring, one
 * submit, and again while completions keep coming (inline ones of the submit itself).
 * Output queued outside a turn (a handler's answer that came
 * later, a timer) is submitted in a microtask, once per tick.
 */
import { sys } from '../../sys.js';
import {
  EBUSY,
  ECANCELED,
  EINVAL,
  EMFILE,
  ENFILE,
  ENOBUFS,
  IORING_ACCEPT_MULTISHOT,
  IORING_ASYNC_CANCEL_ALL,
  IORING_ASYNC_CANCEL_FD,
  IORING_CQE_F_BUFFER,
  IORING_CQE_F_MORE,
  IORING_OP_ACCEPT,
  IORING_OP_ASYNC_CANCEL,
  IORING_OP_CLOSE,
  IORING_OP_POLL_ADD,
  IORING_OP_RECV,
  IORING_OP_SEND,
  IORING_RECV_MULTISHOT,
  IOSQE_BUFFER_SELECT,
  IOSQE_CQE_SKIP_SUCCESS,
  IOSQE_IO_HARDLINK,
  MSG_NOSIGNAL,
  POLLOUT,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
} from '../../constants.js';
import { EtltSystemError } from '../../errors.js';
import type { WaitRecorder } from '../../reactor/reactor.js';
import { Ring } from '../../reactor/uring.js';
import type { BufferRing } from '../../reactor/buffer-ring.js';
import type { RingOptions } from '../../reactor/uring.js';
import { newReactorCounters, newServerCounters } from '../../trace/counters.js';
import type { ConnectionRecord, ReactorCounters, ServerCounters } from '../../trace/counters.js';
import type { AccessEntry } from '../access-record.js';
import { CloseReason, ConnState } from '../contract.js';
import type { EngineConfig } from '../engine.js';
import type { RequestHandler } from '../handler.js';
import { AcceptGuard } from '../accept-guard.js';
import { MAX_SYNACK_RETRANSMITS, SilenceMeter } from '../deferred-accept.js';
import { IdleSweep } from '../idle-sweep.js';
import { DateClock, ErrorResponses, FixedResponses, SEED_BODY } from '../responses.js';
import type { StaticFiles } from '../static/files.js';
import { RequestHead } from '../parser.js';
import { FACTS } from '../trigger/catalog.js';
import type { StrategyFacts } from '../trigger/catalog.js';
import { UringConnection } from './connection.js';
import type { UringHost } from './connection.js';
import type { UringOutput } from './output.js';

/** What the completion engine is built from. */
export type UringEngineConfig = Omit<EngineConfig, 'strategy' | 'backend' | 'eagerRead'> & {
  /** The ring's options (SQPOLL, task-run flags, size). */
  ring: RingOptions;
};

/** The operation of a completion, in the high 32 bits of its user_data; the low 32 name the connection. */
const enum Op {
  Accept = 1,
  Recv = 2,
  Send = 3,
  PollOut = 4,
  Cancel = 5,
  Close = 6,
}

/**
 * The provided buffers: one per connection that receives between two turns (c=500 needs
 * about 500: with fewer, ENOBUFS ends multishot receives by the hundred thousand and each
 * must be armed again), 32 KiB each, so a burst is mostly taken in as it is there. 16 MiB
 * of address space; only the pages the kernel writes become resident.
 */
const BUFFER_GROUP = 0;
const BUFFER_COUNT = 512;
const BUFFER_SIZE = 32 * 1024;
/**
 * Slots for gathered sends (several responses copied into one send), reused: a fresh
 * buffer per send made the allocator's memory grow under pipelined load (the soak's RSS).
 */
const SLOT_SIZE = 64 * 1024;
const SLOT_COUNT = 64;
/**
 * The most bytes one multishot recv takes before it ends (sqe->optlen; newer kernels, which
 * refuse it with EINVAL otherwise, then it is not asked for again): the connection then
 * says whether it wants more. Without a cap a multishot recv empties the socket into
 * provided buffers as fast as the peer sends, whether or not anyone reads: a streamed
 * upload nobody pulls would be read whole before its first completion is looked at.
 */
const RECV_CAP = 64 * 1024;
/** Reap-and-submit rounds per wake-up before Node's loop gets its turn. */
const MAX_ROUNDS = 8;
/** After EMFILE/ENFILE the multishot accept ends; it is armed again this much later. */
const ACCEPT_RETRY_MS = 100;
/** Connections shed per EMFILE completion at most (the rest at the next retry). */
const ACCEPT_SHED_MAX = 64;
const TWO32 = 4294967296;
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
  #ring: Ring | undefined;
  #buffers: BufferRing | undefined;
  #listenerFd = -1;
  #acceptArmed = false;
  #acceptTimer: NodeJS.Timeout | undefined;
  readonly #conns = new Map<number, UringConnection>();
  #nextId = 0;
  #dirty: UringOutput[] = [];
  #inTurn = false;
  #scheduled = false;
  /** Base addresses of the ArrayBuffers sent from (one crossing per buffer, not per send). */
  #bases = new WeakMap<ArrayBufferLike, number>();
  #heldBytes = 0;
  /** The multishot recv's cap (RECV_CAP), 0 once the kernel refused it. */
  #recvCap = RECV_CAP;
  /** The send slots' memory and the free ones. */
  readonly #slab: Buffer;
  readonly #freeSlots: number[] = [];
  readonly #sweep: IdleSweep<UringConnection>;
  readonly #records: ConnectionRecord[] = [];
  #startedAt = 0;
  #closing = false;
  #onDrained: (() => void) | undefined;
  /** The listener has TCP_DEFER_ACCEPT: a connection with nothing to read was silent before accept. */
  #deferred = false;
  readonly #silence = new SilenceMeter();
  /** The spare fd that lets a connection be accepted and shed when the process is out of fds. */
  readonly #guard = new AcceptGuard(
    () => {},
    () => {},
  );
  /** Connections accepted in this turn, to look for silent ones at its end (deferred accept). */
  #fresh: UringConnection[] = [];

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
  }

  /**
   * Sets the ring up and starts serving the listening socket `fd` on Node's loop. Throws
   * an EtltSystemError naming the cause when io_uring cannot be had (never falls back).
   * Returns 0, or -errno when the ring refused the listener.
   */
  start(fd: number, deferred: boolean, _holdMs: number, _shared?: { exclusive: boolean }): number {
    this.#deferred = deferred;
    const ring = new Ring(this.#config.ring);
    try {
      this.#buffers = ring.bufferRing(BUFFER_GROUP, BUFFER_COUNT, BUFFER_SIZE);
      const r = ring.watch(this.#onWake);
      if (r < 0) throw new EtltSystemError(r, 'io_uring_register', 'IORING_REGISTER_EVENTFD');
    } catch (err) {
      ring.close();
      throw err;
    }
    this.#ring = ring;
    this.#listenerFd = fd;
    this.#guard.openSpare();
    this.#armAccept();
    const s = this.#submit();
    if (s < 0) {
      ring.close();
      this.#ring = undefined;
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
    this.#guard.close();
    clearTimeout(this.#acceptTimer);
    const ring = this.#ring;
    if (ring !== undefined && this.#acceptArmed) {
      // By fd, so the ring lets go of the listening socket before the caller closes it:
      // the kernel keeps a socket a request holds listening after close(2).
      const w = this.#sqe(1);
      ring.prep(w, IORING_OP_ASYNC_CANCEL, this.#listenerFd, 0, 0, 0, Op.Cancel);
      ring.setOpFlags(w, IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL);
      ring.submit(true);
      this.reactor.counters.ringEnters = ring.enters;
    }
    this.#onDrained = onDrained;
    for (const conn of this.#sweep.keptAlive()) conn.close(CloseReason.Done);
    this.#flushSoon();
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
    this.#guard.close();
    clearTimeout(this.#acceptTimer);
    if (this.#ring !== undefined) {
      this.#submit();
      this.#ring.close();
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
    if (conn.queued) return;
    conn.queued = true;
    this.#dirty.push(conn);
    this.#flushSoon();
  }

  armRecv(conn: UringConnection): void {
    const ring = this.#ring!;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_RECV, conn.fd, 0, 0, conn.id, Op.Recv);
    ring.setIoprio(w, IORING_RECV_MULTISHOT);
    ring.setFlags(w, IOSQE_BUFFER_SELECT);
    ring.setBufGroup(w, BUFFER_GROUP);
    if (this.#recvCap > 0) ring.setOptlen(w, this.#recvCap);
    conn.recvArmed = true;
    this.#flushSoon();
  }

  cancelRecv(conn: UringConnection): void {
    const ring = this.#ring!;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_ASYNC_CANCEL, -1, conn.id + Op.Recv * TWO32, 0, 0, Op.Cancel);
    this.#flushSoon();
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
    const ring = this.#ring!;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_SEND, conn.fd, this.#address(buf) + offset, len, conn.id, Op.Send);
    // No MSG_WAITALL: a send that fills the socket completes short, which tells that the
    // peer is not keeping up (sendAgain, as EAGAIN does on epoll); the rest is sent next,
    // and that send waits inside the kernel (its poll) until the socket has room.
    ring.setOpFlags(w, MSG_NOSIGNAL);
    conn.sending = true;
    conn.inflight = buf;
    conn.inflightLen = len;
    this.counters.send++;
    this.reactor.counters.ringSend++;
    this.#flushSoon();
  }

  pollOut(conn: UringOutput): void {
    const ring = this.#ring!;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_POLL_ADD, conn.fd, 0, 0, conn.id, Op.PollOut);
    ring.setOpFlags(w, POLLOUT);
    this.#flushSoon();
  }

  release(conn: UringConnection, reason: CloseReason): void {
    const ring = this.#ring!;
    const c = this.counters;
    c.close++;
    this.reactor.counters.ringClose++;
    if (reason === CloseReason.Aborted) c.aborted++;
    else if (reason === CloseReason.TimedOut) c.timedOut++;
    else if (reason === CloseReason.Shutdown) c.cutOff++;
    if (this.#records.length < this.#config.traceConnections) this.#record(conn, reason);
    conn.activeList?.remove(conn);
    // What the ring holds of the fd keeps the socket open past close(2): cancelled first,
    // then the close, linked so that it runs after the cancel whatever its result.
    const busy = conn.recvArmed || conn.sending;
    const w = this.#sqe(busy ? 2 : 1);
    if (busy) {
      ring.prep(w, IORING_OP_ASYNC_CANCEL, conn.fd, 0, 0, conn.id, Op.Cancel);
      ring.setOpFlags(w, IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL);
      ring.setFlags(w, IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS);
    }
    const w2 = busy ? ring.sqe() : w;
    ring.prep(w2, IORING_OP_CLOSE, conn.fd, 0, 0, conn.id, Op.Close);
    ring.setFlags(w2, IOSQE_CQE_SKIP_SUCCESS);
    if (!busy) this.#conns.delete(conn.id);
    this.#flushSoon();
    if (this.#closing && this.openCount() === 0) this.#drained();
  }

  // ---- internals ----

  /** A free SQE, submitting first when fewer than `need` are left (so linked SQEs stay together). */
  #sqe(need: number): number {
    const ring = this.#ring!;
    if (ring.space() < need) {
      this.#submit();
      // SQPOLL: the submit only published them; its thread takes them when it runs.
      if (ring.space() < need) ring.waitForSpace();
    }
    const w = ring.sqe();
    // Never reached with the kernel consuming the SQ; if it were, an SQE written nowhere
    // would leave a connection waiting for ever: fail loudly instead.
    if (w < 0) throw new EtltSystemError(-EBUSY, 'io_uring_enter', 'the submission queue stayed full');
    return w;
  }

  /** The address of `buf`'s first byte (its ArrayBuffer's base asked of the addon once). */
  #address(buf: Uint8Array): number {
    const ab = buf.buffer;
    let base = this.#bases.get(ab);
    if (base === undefined) {
      base = sys.address_of(buf) - buf.byteOffset;
      this.#bases.set(ab, base);
    }
    return base + buf.byteOffset;
  }

  #armAccept(): void {
    if (this.#closing || this.#acceptArmed) return;
    const ring = this.#ring!;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_ACCEPT, this.#listenerFd, 0, 0, 0, Op.Accept);
    ring.setIoprio(w, IORING_ACCEPT_MULTISHOT);
    ring.setOpFlags(w, SOCK_NONBLOCK | SOCK_CLOEXEC);
    this.#acceptArmed = true;
  }

  #submit(): number {
    const ring = this.#ring;
    if (ring === undefined || ring.closed) return 0;
    this.#buffers?.publish();
    const r = ring.submit();
    this.reactor.counters.ringEnters = ring.enters;
    if (r < 0 && r !== -4 /* EINTR */) this.#config.onError(new EtltSystemError(r, 'io_uring_enter'));
    return r;
  }

  /** Output or SQEs queued outside a turn: submitted once, at the end of this tick. */
  #flushSoon(): void {
    if (this.#inTurn || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#outOfTurn);
  }

  #outOfTurn = (): void => {
    this.#scheduled = false;
    if (this.#ring === undefined || this.#ring.closed) return;
    this.#inTurn = true;
    try {
      this.#flush();
      this.#submit();
    } finally {
      this.#inTurn = false;
    }
  };

  #onWake = (count: number, failed?: string): void => {
    const ring = this.#ring;
    if (ring === undefined || ring.closed) return;
    const rc = this.reactor.counters;
    if (count < 0) {
      this.#config.onError(new EtltSystemError(count, failed ?? 'epoll_wait'));
      return;
    }
    rc.wakeups++;
    rc.waits++;
    this.#inTurn = true;
    try {
      this.#rounds(ring);
      if (this.#fresh.length > 0) this.#creditSilences();
    } finally {
      this.#inTurn = false;
      rc.completions = ring.completions;
    }
  };

  #again = false;

  #turnAgain = (): void => {
    this.#again = false;
    const ring = this.#ring;
    if (ring === undefined || ring.closed) return;
    this.reactor.counters.readyTurns++;
    this.#inTurn = true;
    try {
      this.#rounds(ring);
    } finally {
      this.#inTurn = false;
      this.reactor.counters.completions = ring.completions;
    }
  };

  #rounds(ring: Ring): void {
    const defer = ring.taskRun === 'defer';
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // DEFER_TASKRUN: completions run only when this thread enters; one enter submits too.
      if (defer) {
        this.#flush();
        this.#buffers?.publish();
        ring.submit(true);
      }
      const reaped = ring.reap(this.#onCompletion);
      this.#flush();
      this.#submit();
      // DEFER_TASKRUN runs a bounded batch of its task work per enter (the kernel's cap), and
      // signals the eventfd only when the list goes from empty to not: while enters keep
      // producing completions, more may be waiting, and nothing would wake us for them.
      if (!ring.ready() && !(defer && reaped > 0)) return;
    }
    // Still busy: Node's loop gets its turn first (one more libuv poll, as the reactor's ready list).
    if (ring.ready() && !this.#again) {
      this.#again = true;
      setImmediate(this.#turnAgain);
    }
  }

  #flush(): void {
    const list = this.#dirty;
    for (let i = 0; i < list.length; i++) {
      const conn = list[i]!;
      conn.queued = false;
      conn.flush();
    }
    list.length = 0;
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
        this.#onAccept(res, flags);
        return;
      case Op.Cancel:
      case Op.Close:
      default:
      // Nothing to do: a cancel that found nothing left (ENOENT), a close's rare failure.
    }
  };

  #onAccept(res: number, flags: number): void {
    const c = this.counters;
    if ((flags & IORING_CQE_F_MORE) === 0) this.#acceptArmed = false;
    if (res >= 0) {
      c.accept++;
      this.reactor.counters.ringAccept++;
      if (this.#closing) {
        sys.close(res);
        c.close++;
      } else this.#adopt(res);
    } else if (res === -EMFILE || res === -ENFILE) {
      c.fdExhausted++;
      // Out of fds: the queued connections are accepted with the spare fd and closed at once,
      // so their clients see a clean close instead of hanging in the listen queue.
      for (let i = 0; i < ACCEPT_SHED_MAX && this.#guard.shedOne(this.#listenerFd, c) > 0; i++);
    } else if (res !== -ECANCELED) {
      c.acceptAgain++;
    }
    if (!this.#acceptArmed && !this.#closing) {
      if (res === -EMFILE || res === -ENFILE) {
        // Out of fds: accepting again at once would fail at once; wait for connections to close.
        clearTimeout(this.#acceptTimer);
        this.#acceptTimer = setTimeout(() => {
          this.#armAccept();
          this.#flushSoon();
        }, ACCEPT_RETRY_MS);
        this.#acceptTimer.unref();
      } else this.#armAccept();
    }
  }

  #adopt(fd: number): void {
    this.#nextId = (this.#nextId + 1) >>> 0 || 1;
    const now = this.now();
    const conn = new UringConnection(this, fd, this.#nextId, now);
    this.#conns.set(conn.id, conn);
    this.counters.connections++;
    this.#sweep.touch(conn, now);
    this.armRecv(conn);
    if (this.#deferred) this.#fresh.push(conn);
  }

  /**
   * Deferred accept: a connection whose request came with it was answered within the turn
   * (its recv completed inline). One with nothing read by the turn's end was handed over
   * after a silence (the kernel's SYN-ACK retransmits), which counts towards its idle time.
   */
  #creditSilences(): void {
    for (const conn of this.#fresh) {
      if (conn.bytesIn > 0 || conn.state !== ConnState.Reading) continue;
      const k = this.#silence.synAckRetransmits(conn.fd);
      if (k > 0) this.#sweep.credit(conn, k);
    }
    this.#fresh.length = 0;
  }

  #onRecv(id: number, res: number, flags: number): void {
    const conn = this.#conns.get(id);
    const buffers = this.#buffers!;
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
    if (res === -EINVAL && this.#recvCap > 0) {
      // A kernel without the multishot recv's total cap: every recv is armed without it.
      this.#recvCap = 0;
      res = -ECANCELED;
    }
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
