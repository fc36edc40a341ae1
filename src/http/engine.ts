/**
 * The server's engine (internal): the accept loop, the shared buffers and limits, the eager
 * read policy, the idle sweep, connection records and the counters. `HttpServer` is the
 * small public facade over it; strategies and connections see it through the contract.
 */
import { sys } from '../sys.js';
import {
  EAGAIN,
  ECONNABORTED,
  EINTR,
  EMFILE,
  ENFILE,
  ENOBUFS,
  ENOMEM,
  EPERM,
  EPROTO,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
} from '../constants.js';
import { EtltSystemError } from '../errors.js';
import type { BackendName } from '../reactor/backend.js';
import { createBackend } from '../reactor/backends.js';
import { Reactor } from '../reactor/reactor.js';
import type { Pollable } from '../reactor/reactor.js';
import { newServerCounters } from '../trace/counters.js';
import type { ConnectionRecord, ServerCounters } from '../trace/counters.js';
import { AcceptGuard } from './accept-guard.js';
import { Connection } from './connection.js';
import type { ConnectionHost } from './connection.js';
import { AcceptResult, CloseReason, ConnState } from './contract.js';
import type { TriggerStrategy } from './contract.js';
import { MAX_SYNACK_RETRANSMITS, SilenceMeter } from './deferred-accept.js';
import type { AccessEntry } from './access-record.js';
import type { RequestHandler } from './handler.js';
import { IdleSweep } from './idle-sweep.js';
import { RequestHead } from './parser.js';
import type { StaticFiles } from './static/files.js';
import { listenerInterest } from './trigger/listener.js';
import { DateClock, ErrorResponses, FixedResponses, SEED_BODY } from './responses.js';
import { ResponseMemo } from './response-memo.js';

/** What the engine is built from: the facade's checked options. */
export interface EngineConfig {
  strategy: TriggerStrategy;
  /** The polling backend (the strategy supports it). */
  backend: BackendName;
  body: Uint8Array | undefined;
  handler: RequestHandler | undefined;
  /** Files served instead of the fixed response; opened by start(), closed by shutdown(). */
  statics: StaticFiles | undefined;
  maxHeadBytes: number;
  maxBodyBytes: number;
  /** Request bodies streamed to the handler (`requestBody: 'stream'`), and their limit. */
  streamBodies: boolean;
  maxStreamBodyBytes: number;
  maxRequests: number;
  /** Most bytes all partial requests (heads, buffered input) may hold together. */
  inputBudgetBytes: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Longest a connection with output pending may go without its output moving (ours or the peer's reading). */
  sendTimeoutMs: number;
  eagerRead: boolean;
  traceConnections: number;
  onRequest: ((request: Buffer) => void) | undefined;
  /** Failures of the loop itself (never a client's misbehaviour). */
  onError: (err: Error) => void;
  /** A handler failed; it got a 500. */
  onHandlerError: (err: unknown) => void;
}

const OUTCOMES = ['done', 'aborted', 'timed-out', 'cut-off'] as const;

export class ServerEngine implements ConnectionHost {
  readonly strategy: TriggerStrategy;
  readonly counters: ServerCounters = newServerCounters();
  readonly reactor: Reactor;
  readonly scratch: Buffer = Buffer.allocUnsafe(65536);
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
  readonly keepAlive: boolean;
  readonly onRequest: ((request: Buffer) => void) | undefined;
  readonly listener: Pollable;
  exclusiveListener = false;
  /** The listener came from another process, which holds the same socket (see stopAccepting). */
  #inheritedListener = false;
  draining = false;
  /** Set by the server while someone listens for 'access'. */
  accessLog: ((entry: AccessEntry) => void) | undefined = undefined;
  /** Bytes held by partial input over all connections, and the most they may hold. */
  #heldBytes = 0;
  readonly #inputBudget: number;
  readonly #onHandlerError: (err: unknown) => void;
  readonly #eagerRead: boolean;
  /** The listener has TCP_DEFER_ACCEPT: a connection accepted with nothing to read was silent. */
  #deferred = false;
  /** Recent share of eager reads that found data (a moving average), and a probe counter. */
  #eagerScore = 1;
  #eagerProbe = 0;
  readonly #traceConnections: number;
  readonly #records: ConnectionRecord[] = [];
  readonly #sweep: IdleSweep;
  readonly #guard: AcceptGuard;
  readonly #silence = new SilenceMeter();
  readonly #onError: (err: Error) => void;
  #startedAt = 0;
  #closing = false;
  #onDrained: (() => void) | undefined;

  constructor(config: EngineConfig) {
    this.strategy = config.strategy;
    this.maxHeadBytes = config.maxHeadBytes;
    this.maxBodyBytes = config.maxBodyBytes;
    this.streamBodies = config.streamBodies;
    this.maxStreamBodyBytes = config.maxStreamBodyBytes;
    this.maxRequests = config.maxRequests;
    this.keepAlive = config.strategy.keepAlive;
    this.handler = config.handler;
    this.statics = config.statics;
    this.onRequest = config.onRequest;
    this.#eagerRead = config.eagerRead;
    this.#traceConnections = config.traceConnections;
    this.#inputBudget = config.inputBudgetBytes;
    this.#onError = config.onError;
    this.#onHandlerError = config.onHandlerError;
    this.fixed = new FixedResponses(config.body ?? SEED_BODY, this.clock);
    this.errors = new ErrorResponses(this.clock);
    this.reactor = new Reactor({ onError: config.onError, backend: createBackend(config.backend) });
    this.#sweep = new IdleSweep(
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
    const strategy = this.strategy;
    this.#guard = new AcceptGuard(
      () => strategy.pauseListener(this),
      () => strategy.resumeListener(this),
    );
    this.listener = {
      fd: -1,
      onEvents: () => {
        const c = this.counters;
        const before = c.connections + c.shed;
        c.listenerEvents++;
        strategy.onListener(this);
        if (c.connections + c.shed === before) {
          c.useless++;
          // Woken for a connection another process took first: the thundering herd.
          c.listenerEmpty++;
        }
      },
      onReady: () => strategy.onListener(this),
    };
  }

  /**
   * Starts serving the listening socket `fd` (non-blocking) on Node's loop. `deferred`: it
   * has TCP_DEFER_ACCEPT; `shared`: the socket is another process's too (inherited), and
   * `exclusive` registers it with EPOLLEXCLUSIVE. Returns 0, or -errno when epoll refused it.
   */
  start(fd: number, deferred: boolean, holdMs: number, shared?: { exclusive: boolean }): number {
    this.#deferred = deferred;
    this.#inheritedListener = shared !== undefined;
    this.exclusiveListener = shared?.exclusive === true;
    (this.listener as { fd: number }).fd = fd;
    const r = this.reactor.add(this.listener, listenerInterest(this, this.strategy));
    if (r < 0) return r;
    this.#guard.openSpare();
    this.#sweep.start();
    this.#startedAt = this.now();
    this.reactor.start({ holdMs });
    return 0;
  }

  /**
   * Stops accepting (the caller closes the listening socket after); `onDrained` runs once
   * the last open connection is gone, at once when there is none.
   */
  stopAccepting(onDrained: () => void): void {
    this.#closing = true;
    this.draining = true;
    this.#guard.close();
    // epoll watches the open socket, not the fd number: while another process still holds
    // an inherited listener, closing ours leaves it in the set (epoll(7), Q6), and a
    // level-triggered one would then be reported at every poll. It must leave explicitly.
    if (this.#inheritedListener && this.reactor.handler(this.listener.fd) === this.listener)
      this.reactor.remove(this.listener);
    else this.reactor.forget(this.listener);
    this.#onDrained = onDrained;
    // Idle between requests: nothing in flight to finish, closed at once.
    for (const conn of this.#sweep.keptAlive()) conn.close(CloseReason.Done);
    if (this.openCount() === 0) this.#drained();
  }

  /** Closes every connection still open (close()'s deadline ran out). */
  cutOff(): void {
    for (const conn of this.#sweep.all()) conn.close(CloseReason.Shutdown);
  }

  /** Connections open now. */
  openCount(): number {
    return this.#sweep.size;
  }

  /** The records of the first `traceConnections` connections that have closed. */
  records(): readonly ConnectionRecord[] {
    return this.#records;
  }

  // ---- what connections and strategies use ----

  now(): number {
    return performance.now();
  }

  accept(max: number): AcceptResult {
    if (this.#closing || this.#guard.paused || this.listener.fd < 0) return AcceptResult.Paused;
    const lfd = this.listener.fd;
    const c = this.counters;
    for (let i = 0; i < max; i++) {
      c.accept++;
      const fd = sys.accept4(lfd, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        if (fd < this.reactor.fdLimit) this.#adopt(fd);
        else this.#refuse(fd);
        continue;
      }
      if (fd === -EAGAIN) {
        c.acceptAgain++;
        return AcceptResult.Drained;
      }
      // accept(2): errors of one pending connection; the listener is fine, go on.
      if (fd === -EINTR || fd === -ECONNABORTED || fd === -EPROTO || fd === -EPERM) continue;
      if (fd === -EMFILE || fd === -ENFILE) {
        c.fdExhausted++;
        const shed = this.#guard.shedOne(lfd, c);
        if (shed > 0) continue;
        if (shed === 0) return AcceptResult.Drained;
        this.#guard.pause();
        return AcceptResult.Paused;
      }
      this.#guard.pause();
      if (fd !== -ENOBUFS && fd !== -ENOMEM) this.#onError(new EtltSystemError(fd, 'accept4'));
      return AcceptResult.Paused;
    }
    return AcceptResult.Budget;
  }

  readEagerly(): boolean {
    if (!this.#eagerRead) return false;
    // Deferred: a connection comes with its request, or after a silence that must be
    // measured (see #adopt); a run of silent clients must not switch reading off.
    if (this.#deferred) return true;
    // While most eager reads miss (clients that connect first and write later), stop
    // paying a recv for nothing; probe one accept in 16 to notice when that changes.
    if (this.#eagerScore >= 0.5) return true;
    return (++this.#eagerProbe & 15) === 0;
  }

  eagerResult(hit: boolean): void {
    if (hit) this.counters.eagerHits++;
    else this.counters.eagerMisses++;
    this.#eagerScore += ((hit ? 1 : 0) - this.#eagerScore) / 16;
  }

  touch(conn: Connection): void {
    // Output pending: progress on it (our send) restarts the send timeout, not the idle one.
    if (conn.outBytes > 0) this.#sweep.sent(conn, this.now());
    else this.#sweep.touch(conn, this.now());
  }

  idle(conn: Connection): void {
    if (this.draining) {
      conn.close(CloseReason.Done);
      return;
    }
    this.#sweep.idle(conn, this.now());
  }

  hold(conn: Connection): void {
    this.#sweep.hold(conn);
  }

  held(delta: number): void {
    this.#heldBytes += delta;
  }

  enforceBudget(): void {
    if (this.#heldBytes > this.#inputBudget) this.#shedHeads();
  }

  handlerFailed(err: unknown): void {
    this.#onHandlerError(err);
  }

  /**
   * Partial input over all connections is over budget (slow heads of up to --max-head each
   * could take any amount of memory, and bodies collected for a handler add to it): close the
   * oldest connections holding partial requests until it is back under, as a client that
   * takes longest is the likeliest attacker.
   */
  #shedHeads(): void {
    for (const conn of this.#sweep.oldestActive()) {
      if (this.#heldBytes <= this.#inputBudget) return;
      if ((conn.inbuf === null && conn.exchange.body.collected === null) || conn.state !== ConnState.Reading) continue;
      this.counters.headsShed++;
      conn.close(CloseReason.Aborted);
    }
  }

  release(conn: Connection, reason: CloseReason): void {
    sys.close(conn.fd);
    const c = this.counters;
    c.close++;
    if (reason === CloseReason.Aborted) c.aborted++;
    else if (reason === CloseReason.TimedOut) c.timedOut++;
    else if (reason === CloseReason.Shutdown) c.cutOff++;
    if (this.#records.length < this.#traceConnections) this.#record(conn, reason);
    this.reactor.forget(conn);
    conn.activeList?.remove(conn);
    if (this.#closing && this.openCount() === 0) this.#drained();
  }

  /** Stops the timers and closes the epoll set and the spare fd. */
  shutdown(): void {
    this.statics?.close();
    this.#sweep.stop();
    this.#guard.close();
    this.reactor.close();
  }

  // ---- internals ----

  #drained(): void {
    const done = this.#onDrained;
    this.#onDrained = undefined;
    done?.();
  }

  /**
   * A connection whose fd the backend cannot watch (select: FD_SETSIZE and up). Closed at
   * once, before a byte is read: it was never served, and the client sees a reset or EOF
   * instead of a hang; counted, so the operator sees why.
   */
  #refuse(fd: number): void {
    sys.close(fd);
    this.counters.close++;
    this.counters.shed++;
    this.counters.overFdLimit++;
  }

  #adopt(fd: number): void {
    const conn = new Connection(this, fd, this.now());
    this.counters.connections++;
    this.strategy.onAccepted(conn);
    // Most connections are served and closed by an eager read inside onAccepted; only the
    // ones still open join an activity list.
    if (conn.state === ConnState.Closed) return;
    // Handed over by TCP_DEFER_ACCEPT with nothing to read (the eager read always runs when
    // deferred): the client has been silent since it connected, and its idle time counts
    // from then.
    if (this.#deferred && conn.bytesIn === 0) {
      const k = this.#silence.synAckRetransmits(fd);
      if (k > 0) {
        this.#sweep.credit(conn, k);
        return;
      }
    }
    // Served in part already and kept alive (the eager read answered it): idle() placed it.
    if (conn.activeList === null) this.#sweep.touch(conn, conn.acceptedAt);
  }

  #record(conn: Connection, reason: CloseReason): void {
    const now = this.now();
    this.#records.push({
      fd: conn.fd,
      acceptedMs: Math.round((conn.acceptedAt - this.#startedAt) * 1000) / 1000,
      durationMs: Math.round((now - conn.acceptedAt) * 1000) / 1000,
      outcome: OUTCOMES[reason] ?? 'done',
      events: conn.events,
      useless: conn.useless,
      recv: conn.recvCalls,
      recvAgain: conn.recvAgain,
      send: conn.sendCalls,
      sendAgain: conn.sendAgain,
      epollCtl: conn.ctlCalls,
      bytesIn: conn.bytesIn,
      bytesOut: conn.bytesOut,
      requests: conn.requests,
    });
  }
}
