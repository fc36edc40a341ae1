/**
 * What both engines share, the readiness engine (engine.ts) and the completion engine
 * (uring/engine.ts): the responses and limits every exchange reads, the idle sweep (which
 * connections tell of their progress themselves), the input budget, how a closed connection
 * is counted and recorded, and the graceful stop (kept-alive connections closed at once,
 * `onDrained` when the last one is gone). How connections are accepted, watched and their
 * fds closed is each engine's own.
 */
import type { ConnectionRecord, ServerCounters } from '../trace/counters.js';
import { newServerCounters } from '../trace/counters.js';
import type { AccessEntry } from './access-record.js';
import type { ConnectionCore, ConnectionCoreHost } from './connection-core.js';
import { CloseReason, ConnState } from './contract.js';
import { MAX_SYNACK_RETRANSMITS } from './deferred-accept.js';
import type { RequestHandler } from './handler.js';
import { IdleSweep } from './idle-sweep.js';
import { RequestHead } from './parser.js';
import { DateClock, ErrorResponses, FixedResponses, ResponseMemo, SEED_BODY } from './responses.js';
import type { StaticFiles } from './static/files.js';

/** What either engine is built from (the facade's checked options) beyond its own parts. */
export interface EngineCoreConfig {
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
  traceConnections: number;
  onRequest: ((request: Buffer) => void) | undefined;
  /** Failures of the loop itself (never a client's misbehaviour). */
  onError: (err: Error) => void;
  /** A handler failed; it got a 500. */
  onHandlerError: (err: unknown) => void;
}

const OUTCOMES = ['done', 'aborted', 'timed-out', 'cut-off'] as const;

/** The part of an engine its connections' lifecycle and exchanges use, over connections of type `C`. */
export abstract class EngineCore<C extends ConnectionCore> implements ConnectionCoreHost {
  readonly counters: ServerCounters = newServerCounters();
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
  abstract readonly keepAlive: boolean;
  readonly onRequest: ((request: Buffer) => void) | undefined;
  /** Set by the server while someone listens for 'access' (the exchange records nothing otherwise). */
  accessLog: ((entry: AccessEntry) => void) | undefined = undefined;
  /** Set by stopAccepting: every response from now on closes its connection, and the last one to close ends the stop. */
  draining = false;
  /** Every open connection, in the lists of its timeout (its connections tell it of their progress). */
  readonly sweep: IdleSweep<C>;
  /** Partial input holds more than its budget: the next enforceBudget() sheds (read per input, so a field). */
  inputOverBudget = false;
  /** Bytes held by partial input over all connections, and the most they may hold. */
  #heldBytes = 0;
  readonly #inputBudget: number;
  readonly #onHandlerError: (err: unknown) => void;
  readonly #traceConnections: number;
  readonly #records: ConnectionRecord[] = [];
  #startedAt = 0;
  #onDrained: (() => void) | undefined;

  constructor(config: EngineCoreConfig) {
    this.maxHeadBytes = config.maxHeadBytes;
    this.maxBodyBytes = config.maxBodyBytes;
    this.streamBodies = config.streamBodies;
    this.maxStreamBodyBytes = config.maxStreamBodyBytes;
    this.maxRequests = config.maxRequests;
    this.handler = config.handler;
    this.statics = config.statics;
    this.onRequest = config.onRequest;
    this.#traceConnections = config.traceConnections;
    this.#inputBudget = config.inputBudgetBytes;
    this.#onHandlerError = config.onHandlerError;
    this.fixed = new FixedResponses(config.body ?? SEED_BODY, this.clock);
    this.errors = new ErrorResponses(this.clock);
    this.sweep = new IdleSweep<C>(
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
   * Stops accepting (the engine's `stopListening`; the caller closes the listening socket
   * after); `onDrained` runs once the last open connection is gone, at once when there is none.
   */
  stopAccepting(onDrained: () => void): void {
    this.draining = true;
    this.stopListening();
    this.#onDrained = onDrained;
    // Idle between requests: nothing in flight to finish, closed at once.
    for (const conn of this.sweep.keptAlive()) conn.close(CloseReason.Done);
    if (this.openCount() === 0) this.#drained();
  }

  /** Closes every connection still open (close()'s deadline ran out). */
  cutOff(): void {
    for (const conn of this.sweep.all()) conn.close(CloseReason.Shutdown);
  }

  /** Connections open now. */
  openCount(): number {
    return this.sweep.size;
  }

  /** The records of the first `traceConnections` connections that have closed. */
  records(): readonly ConnectionRecord[] {
    return this.#records;
  }

  /** Stops the timers and closes the files served; the engine then closes its own parts. */
  shutdown(): void {
    this.statics?.close();
    this.sweep.stop();
  }

  // ---- what connections and exchanges use ----

  now(): number {
    return performance.now();
  }

  held(delta: number): void {
    this.#heldBytes += delta;
    this.inputOverBudget = this.#heldBytes > this.#inputBudget;
  }

  /**
   * Partial input over all connections is over budget (slow heads of up to --max-head each
   * could take any amount of memory, and bodies collected for a handler add to it): close the
   * oldest connections holding partial requests until it is back under, as a client that
   * takes longest is the likeliest attacker.
   */
  enforceBudget(): void {
    if (!this.inputOverBudget) return;
    for (const conn of this.sweep.oldestActive()) {
      if (!this.inputOverBudget) return;
      if ((conn.inbuf === null && conn.exchange.body.collected === null) || conn.state !== ConnState.Reading) continue;
      this.counters.headsShed++;
      conn.close(CloseReason.Aborted);
    }
  }

  handlerFailed(err: unknown): void {
    this.#onHandlerError(err);
  }

  /**
   * `conn` closed (its engine has closed its fd, or asked the ring to): counted, recorded,
   * out of its timeout list; the last one ends a graceful stop.
   */
  release(conn: C, reason: CloseReason): void {
    const c = this.counters;
    c.close++;
    if (reason === CloseReason.Aborted) c.aborted++;
    else if (reason === CloseReason.TimedOut) c.timedOut++;
    else if (reason === CloseReason.Shutdown) c.cutOff++;
    if (this.#records.length < this.#traceConnections) this.#record(conn, reason);
    conn.activeList?.remove(conn);
    if (this.draining && this.openCount() === 0) this.#drained();
  }

  // ---- for the engines ----

  /** No more connections: the listener leaves the polling set, or the ring's accept is cancelled. */
  protected abstract stopListening(): void;

  /** Serving begins: the idle sweep's timer, and the clock of the connection records. */
  protected startSweep(): void {
    this.sweep.start();
    this.#startedAt = this.now();
  }

  #drained(): void {
    const done = this.#onDrained;
    this.#onDrained = undefined;
    done?.();
  }

  #record(conn: C, reason: CloseReason): void {
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
      interestChanges: conn.ctlCalls,
      bytesIn: conn.bytesIn,
      bytesOut: conn.bytesOut,
      requests: conn.requests,
    });
  }
}
