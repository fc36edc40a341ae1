/**
 * The server's engine (internal) on a readiness backend: the accept loop, the listener, the
 * shared receive buffer and the eager read policy; the limits, the idle sweep, the budget,
 * connection records and the counters are the part both engines share (engine-core.ts).
 * `HttpServer` is the small public facade over it; strategies and connections see it through
 * the contract.
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
import { AcceptGuard } from './accept-guard.js';
import { Connection } from './connection.js';
import type { ConnectionHost } from './connection.js';
import { AcceptResult, ConnState } from './contract.js';
import type { CloseReason, TriggerStrategy } from './contract.js';
import { SilenceMeter } from './deferred-accept.js';
import { EngineCore } from './engine-core.js';
import type { EngineCoreConfig } from './engine-core.js';
import { listenerInterest } from './trigger/listener.js';

/** What the engine is built from: the facade's checked options. */
export interface EngineConfig extends EngineCoreConfig {
  strategy: TriggerStrategy;
  /** The polling backend (the strategy supports it). */
  backend: BackendName;
  eagerRead: boolean;
}

export class ServerEngine extends EngineCore<Connection> implements ConnectionHost {
  readonly strategy: TriggerStrategy;
  readonly reactor: Reactor;
  readonly scratch: Buffer = Buffer.allocUnsafe(65536);
  readonly keepAlive: boolean;
  readonly listener: Pollable;
  exclusiveListener = false;
  /** The listener came from another process, which holds the same socket (see stopListening). */
  #inheritedListener = false;
  readonly #eagerRead: boolean;
  /** The listener has TCP_DEFER_ACCEPT: a connection accepted with nothing to read was silent. */
  #deferred = false;
  /** Recent share of eager reads that found data (a moving average), and a probe counter. */
  #eagerScore = 1;
  #eagerProbe = 0;
  readonly #guard: AcceptGuard;
  readonly #silence = new SilenceMeter();
  readonly #onError: (err: Error) => void;

  constructor(config: EngineConfig) {
    super(config);
    this.strategy = config.strategy;
    this.keepAlive = config.strategy.keepAlive;
    this.#eagerRead = config.eagerRead;
    this.#onError = config.onError;
    this.reactor = new Reactor({ onError: config.onError, backend: createBackend(config.backend) });
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
    this.startSweep();
    this.reactor.start({ holdMs });
    return 0;
  }

  /** Stops the timers and closes the epoll set and the spare fd. */
  override shutdown(): void {
    super.shutdown();
    this.#guard.close();
    this.reactor.close();
  }

  // ---- what connections and strategies use ----

  accept(max: number): AcceptResult {
    if (this.draining || this.#guard.paused || this.listener.fd < 0) return AcceptResult.Paused;
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

  /** Closes `conn`'s fd (which takes it out of an epoll set too), forgets it, then the core's bookkeeping. */
  override release(conn: Connection, reason: CloseReason): void {
    sys.close(conn.fd);
    this.reactor.forget(conn);
    super.release(conn, reason);
  }

  protected stopListening(): void {
    this.#guard.close();
    // epoll watches the open socket, not the fd number: while another process still holds
    // an inherited listener, closing ours leaves it in the set (epoll(7), Q6), and a
    // level-triggered one would then be reported at every poll. It must leave explicitly.
    if (this.#inheritedListener && this.reactor.handler(this.listener.fd) === this.listener)
      this.reactor.remove(this.listener);
    else this.reactor.forget(this.listener);
  }

  // ---- internals ----

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
        this.sweep.credit(conn, k);
        return;
      }
    }
    // Served in part already and kept alive (the eager read answered it): idle() placed it.
    if (conn.activeList === null) this.sweep.touch(conn, conn.acceptedAt);
  }
}
