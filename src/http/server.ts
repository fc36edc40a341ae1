/**
 * `HttpServer`: the seed's HTTP/1.0 server done right, in either trigger mode, running on
 * Node's event loop through the reactor, so a Node program can embed it.
 */
import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { native } from '../binding/index.js';
import {
  AF_INET, AF_INET6, EAGAIN, ECONNABORTED, EINTR, EMFILE, ENFILE, ENOBUFS, ENOMEM, EPERM, EPROTO, EPOLLET,
  SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, IPPROTO_TCP, TCP_DEFER_ACCEPT, TCP_INFO,
} from '../constants.js';
import { EtltSystemError } from '../errors.js';
import { Reactor } from '../reactor/reactor.js';
import type { Pollable, WaitRecorder } from '../reactor/reactor.js';
import { Socket } from '../socket.js';
import { newCounters } from '../trace/counters.js';
import type { ConnectionRecord, ServerCounters } from '../trace/counters.js';
import { boolean, integer } from '../validate.js';
import { ActivityList } from './activity.js';
import { CloseReason, ConnState, Connection } from './connection.js';
import { AcceptResult } from './engine.js';
import type { Engine } from './engine.js';
import { errorResponse, okResponse } from './response.js';
import { strategyFor } from './trigger/index.js';
import type { TriggerStrategy } from './trigger/index.js';

/** Options of {@link HttpServer}; every one has a default. */
export interface HttpServerOptions {
  /** Trigger mode: 'et' (default) or 'lt'. */
  mode?: string;
  /** Address to bind; default '0.0.0.0' (the seed's). Numeric IPv4/IPv6 or 'localhost'. */
  host?: string;
  /** Port; default 8080 (the seed's); 0 picks a free one. */
  port?: number;
  /** listen(2) backlog; default 4096 (the seed's 1 stalls clients for seconds under load). */
  backlog?: number;
  /** Response body instead of "Hello, world!" (sent with the seed's headers). */
  body?: Uint8Array;
  /** Longest accepted request head in bytes; default 8192. Longer: 431, then close. */
  maxHeadBytes?: number;
  /**
   * Milliseconds without progress after which a connection is closed; default 5000. The
   * request head must arrive in full within this time of accept (no trickling it in).
   */
  idleTimeout?: number;
  /**
   * Read right after accept, before registering with epoll, while that usually finds the
   * request (default true; see Engine.readEagerly). false: never.
   */
  eagerRead?: boolean;
  /**
   * Let the kernel hand over a connection only once its first bytes have arrived
   * (TCP_DEFER_ACCEPT, as nginx's `deferred` and Apache httpd's default on Linux): the
   * request is then read right after accept, answered and closed, and the connection never
   * costs an epoll registration or a wake-up of its own. Default true; used only with an
   * idle timeout of at least DEFER_ACCEPT_S seconds and eagerRead, so that a client that
   * sends nothing is still closed on time (it is handed over after about DEFER_ACCEPT_S
   * seconds of silence, measured from the socket and counted towards its idle timeout).
   * false: accept at once, as the seed does.
   */
  deferAccept?: boolean;
  /** See Reactor.start: milliseconds to keep waiting on this server's epoll set after a wake-up; default 0. */
  holdMs?: number;
  /** Keep a ConnectionRecord for each of the first N connections (default 0); see connectionRecords(). */
  traceConnections?: number;
  /** Called with the bytes of each complete request (valid only during the call). */
  onRequest?: (request: Buffer) => void;
}

/** A snapshot of a server's counters and live state. */
export interface HttpServerStats extends ServerCounters {
  mode: string;
  /** Connections open now. */
  open: number;
}

/**
 * TCP_DEFER_ACCEPT's period: the kernel holds a connection that sent nothing this long (it
 * retransmits its SYN-ACK then, and hands it over on the client's ACK; measured 1.03 s).
 */
const DEFER_ACCEPT_S = 1;
const DEFER_ACCEPT_VALUE = new Uint8Array(new Int32Array([DEFER_ACCEPT_S]).buffer);
/** struct tcp_info (linux/tcp.h, a stable ABI) in 32-bit words, and where tcpi_total_retrans is. */
const TCP_INFO_WORDS = 26;
const TCP_INFO_TOTAL_RETRANS = 25;
/** Silences longer than 2**6 - 1 = 63 s are credited as 63 s (the kernel gives up sooner). */
const MAX_SYNACK_RETRANSMITS = 6;
/** Milliseconds between retries when accepting is paused for lack of memory or fds. */
const ACCEPT_RETRY_MS = 50;
/** How long close() lets responses in flight finish, by default. */
const DEFAULT_CLOSE_DEADLINE_MS = 5000;

/**
 * The server. `listen()` binds and starts serving on Node's event loop; `close()` stops
 * accepting, lets responses in flight finish (up to a deadline) and releases every fd.
 * Emits 'error' for failures of the loop itself (never for a client's misbehaviour).
 */
export class HttpServer extends EventEmitter implements Engine {
  readonly strategy: TriggerStrategy;
  readonly counters: ServerCounters = newCounters();
  readonly reactor: Reactor;
  readonly scratch: Buffer = Buffer.allocUnsafe(65536);
  readonly response: Buffer;
  readonly badRequest: Buffer = errorResponse(400);
  readonly headTooLarge: Buffer = errorResponse(431);
  readonly maxHeadBytes: number;
  readonly #eagerRead: boolean;
  readonly #deferAccept: boolean;
  /** The listener has TCP_DEFER_ACCEPT: a connection accepted with nothing to read was silent for DEFER_ACCEPT_S. */
  #deferred = false;
  /** Recent share of eager reads that found data (a moving average), and a probe counter. */
  #eagerScore = 1;
  #eagerProbe = 0;
  readonly onRequest: ((request: Buffer) => void) | undefined;
  readonly listener: Pollable;

  readonly #host: string;
  readonly #port: number;
  readonly #backlog: number;
  readonly #idleTimeout: number;
  readonly #holdMs: number;
  readonly #traceConnections: number;
  readonly #records: ConnectionRecord[] = [];
  #startedAt = 0;
  #socket: Socket | undefined;
  /** Open connections in order of last activity, oldest first, for the idle sweep. */
  #conns = new ActivityList<Connection>();
  /**
   * Connections handed over by TCP_DEFER_ACCEPT after a silence, their idle clocks set back
   * by that silence, one list per silence (by SYN-ACK retransmits, see #synAckRetransmits):
   * within a list the credit is the same, so each list stays in order of lastActive and the
   * sweep, which stops at a list's first connection not yet idle, finds every one on time.
   */
  readonly #silent: ActivityList<Connection>[] = Array.from({ length: MAX_SYNACK_RETRANSMITS + 1 }, () => new ActivityList<Connection>());
  /** struct tcp_info, as 32-bit words (see #silenceMs). */
  readonly #tcpInfo = new Uint32Array(TCP_INFO_WORDS);
  #sweeper: NodeJS.Timeout | undefined;
  #spareFd = -1;
  #paused = false;
  #retry: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #closed: (() => void) | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #deadlineAt = Infinity;

  constructor(options: HttpServerOptions = {}) {
    super();
    this.strategy = strategyFor(options.mode ?? 'et');
    this.#host = options.host ?? '0.0.0.0';
    if (typeof this.#host !== 'string') throw new TypeError('The "host" option must be a string');
    this.#port = integer(options.port ?? 8080, 'port', 0, 65535);
    this.#backlog = integer(options.backlog ?? 4096, 'backlog', 1, 0x7fffffff);
    this.maxHeadBytes = integer(options.maxHeadBytes ?? 8192, 'maxHeadBytes', 16, 1 << 20);
    this.#idleTimeout = integer(options.idleTimeout ?? 5000, 'idleTimeout', 1, 0x7fffffff);
    if (options.onRequest !== undefined && typeof options.onRequest !== 'function') {
      throw new TypeError('The "onRequest" option must be a function');
    }
    this.onRequest = options.onRequest;
    this.#eagerRead = boolean(options.eagerRead ?? true, 'eagerRead');
    this.#deferAccept = boolean(options.deferAccept ?? true, 'deferAccept');
    this.#holdMs = integer(options.holdMs ?? 0, 'holdMs', 0, 1000);
    this.#traceConnections = integer(options.traceConnections ?? 0, 'traceConnections', 0, 1_000_000);
    this.response = okResponse(options.body);
    this.reactor = new Reactor(this.counters, { onError: (err) => this.emit('error', err) });
    const strategy = this.strategy;
    this.listener = {
      fd: -1,
      onEvents: (events: number) => {
        const before = this.counters.connections + this.counters.shed;
        strategy.onListener(this, events);
        if (this.counters.connections + this.counters.shed === before) this.counters.useless++;
      },
      onReady: () => strategy.onListenerReady(this),
    };
  }

  /** Binds, listens and starts serving; returns the bound address. Throws EADDRINUSE etc. */
  listen(): { host: string; port: number } {
    if (this.#socket) throw new Error('listen(): the server is already listening');
    if (this.#closing) throw new Error('listen(): the server is closed');
    const family = this.#host.includes(':') ? AF_INET6 : AF_INET;
    const sock = new Socket(family, SOCK_STREAM | SOCK_NONBLOCK);
    try {
      sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      sock.bind([this.#host, this.#port]);
      sock.listen(this.#backlog);
    } catch (err) {
      sock.close();
      throw err;
    }
    this.#deferred = false;
    if (this.#deferAccept && this.#eagerRead && this.#idleTimeout >= DEFER_ACCEPT_S * 1000) {
      // An optimisation only: a kernel that refuses it leaves an ordinary listener.
      this.#deferred = native.setsockopt(sock.fileno(), IPPROTO_TCP, TCP_DEFER_ACCEPT, DEFER_ACCEPT_VALUE) === 0;
    }
    this.#socket = sock;
    (this.listener as { fd: number }).fd = sock.fileno();
    const r = this.reactor.add(this.listener, this.strategy.listenerMask);
    if (r < 0) {
      sock.close();
      this.#socket = undefined;
      throw new EtltSystemError(r, 'epoll_ctl');
    }
    this.#openSpare();
    this.#sweeper = setInterval(this.#sweep, Math.max(25, Math.min(1000, this.#idleTimeout / 4)));
    this.#sweeper.unref();
    this.#startedAt = this.now();
    this.reactor.start({ holdMs: this.#holdMs });
    return this.address();
  }

  /** The bound address. */
  address(): { host: string; port: number } {
    if (!this.#socket) throw new Error('address(): the server is not listening');
    const [host, port] = this.#socket.getsockname() as [string, number];
    return { host, port };
  }

  /** Records every epoll_wait return of this server (for timelines); undefined stops. */
  setRecorder(recorder: WaitRecorder | undefined): void {
    this.reactor.recorder = recorder;
  }

  /**
   * Stops accepting, lets responses in flight finish for up to `deadlineMs`, then closes
   * every remaining connection, the listener and the epoll fd. Safe to call twice; a later
   * call can only bring the deadline closer (a second Ctrl-C: close(0) cuts off at once).
   */
  close(deadlineMs = DEFAULT_CLOSE_DEADLINE_MS): Promise<void> {
    integer(deadlineMs, 'deadlineMs', 0, 0x7fffffff);
    if (this.#closing) {
      if (this.#deadline !== undefined && this.now() + deadlineMs < this.#deadlineAt) this.#setDeadline(deadlineMs);
      return this.#closing;
    }
    this.#closing = new Promise((resolve) => {
      this.#closed = resolve;
    });
    clearTimeout(this.#retry);
    if (this.#socket) {
      this.reactor.forget(this.listener);
      this.#socket.close();
      this.counters.close++;
    }
    if (this.#openCount() === 0) {
      this.#finishClose();
    } else {
      this.#setDeadline(deadlineMs);
    }
    return this.#closing;
  }

  /** (Re)arms the timer that closes every connection still open when close() runs out of time. */
  #setDeadline(ms: number): void {
    clearTimeout(this.#deadline);
    this.#deadlineAt = this.now() + ms;
    this.#deadline = setTimeout(() => {
      for (const list of [this.#conns, ...this.#silent]) for (const conn of list.toArray()) conn.close(CloseReason.Shutdown);
    }, ms);
  }

  /** The records of the first `traceConnections` connections that have closed. */
  connectionRecords(): readonly ConnectionRecord[] {
    return this.#records;
  }

  /** Counters since start, plus the number of open connections. */
  stats(): HttpServerStats {
    return { mode: this.strategy.name, ...this.counters, open: this.#openCount() };
  }

  // ---- Engine ----

  now(): number {
    return performance.now();
  }

  accept(max: number): AcceptResult {
    if (this.#closing || this.#paused || !this.#socket) return AcceptResult.Paused;
    const lfd = this.listener.fd;
    const c = this.counters;
    for (let i = 0; i < max; i++) {
      c.accept++;
      const fd = native.accept4(lfd, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        this.#adopt(fd);
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
        const shed = this.#shedOne();
        if (shed > 0) continue;
        if (shed === 0) return AcceptResult.Drained;
        this.#pause();
        return AcceptResult.Paused;
      }
      if (fd === -ENOBUFS || fd === -ENOMEM) {
        this.#pause();
        return AcceptResult.Paused;
      }
      this.#pause();
      this.emit('error', new EtltSystemError(fd, 'accept4'));
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
    this.#conns.touch(conn);
  }

  release(conn: Connection, reason: CloseReason): void {
    native.close(conn.fd);
    const c = this.counters;
    c.close++;
    if (reason === CloseReason.Aborted) c.aborted++;
    else if (reason === CloseReason.TimedOut) c.timedOut++;
    else if (reason === CloseReason.Shutdown) c.cutOff++;
    if (this.#records.length < this.#traceConnections) this.#record(conn, reason);
    this.reactor.forget(conn);
    conn.activeList?.remove(conn);
    if (this.#closing && this.#openCount() === 0) this.#finishClose();
  }

  // ---- internals ----

  #record(conn: Connection, reason: CloseReason): void {
    const now = this.now();
    const outcomes = ['done', 'aborted', 'timed-out', 'cut-off'];
    this.#records.push({
      fd: conn.fd,
      acceptedMs: Math.round((conn.acceptedAt - this.#startedAt) * 1000) / 1000,
      durationMs: Math.round((now - conn.acceptedAt) * 1000) / 1000,
      outcome: outcomes[reason] ?? 'done',
      events: conn.events,
      useless: conn.useless,
      recv: conn.recvCalls,
      recvAgain: conn.recvAgain,
      send: conn.sendCalls,
      sendAgain: conn.sendAgain,
      epollCtl: conn.ctlCalls,
      bytesIn: conn.bytesIn,
      bytesOut: conn.bytesOut,
    });
  }

  #adopt(fd: number): void {
    const conn = new Connection(this, fd, this.now());
    this.counters.connections++;
    this.strategy.onAccepted(conn);
    // Handed over by TCP_DEFER_ACCEPT with nothing to read (the eager read always runs when
    // deferred): the client has been silent since it connected, and its idle time counts
    // from then.
    // Most connections are served and closed by an eager read inside onAccepted; only the
    // ones still open join an activity list.
    if (conn.state === ConnState.Closed) return;
    if (this.#deferred && conn.bytesIn === 0) {
      const k = this.#synAckRetransmits(fd);
      if (k > 0) {
        // Retransmits at 1, 2, 4... s after the SYN-ACK: silent for 2**k - 1 s.
        conn.lastActive -= ((1 << k) - 1) * 1000;
        this.#silent[k]!.touch(conn);
        return;
      }
    }
    this.#conns.touch(conn);
  }

  /**
   * Out of fds: a spare fd, kept open for this moment, is closed so one queued connection
   * can be accepted and closed at once; the client sees a clean close instead of hanging
   * in the listen queue, and the queue drains so no edge is lost (libuv does the same).
   */
  #shedOne(): number {
    if (this.#spareFd < 0) return -1;
    closeSync(this.#spareFd);
    this.#spareFd = -1;
    this.counters.accept++;
    const fd = native.accept4(this.listener.fd, null, SOCK_CLOEXEC);
    if (fd >= 0) {
      native.close(fd);
      this.counters.close++;
      this.counters.shed++;
    }
    this.#openSpare();
    if (fd >= 0) return 1;
    return fd === -EAGAIN ? 0 : -1;
  }

  #openCount(): number {
    let n = this.#conns.size;
    for (const list of this.#silent) n += list.size;
    return n;
  }

  /**
   * How long a connection the kernel held back (TCP_DEFER_ACCEPT) had been silent, as the
   * number of times it retransmitted the SYN-ACK (at 1, 2, 4... s) before handing the
   * connection over: the new socket's tcpi_total_retrans. 0 when it was not held back (SYN
   * cookies hand it over at once) or TCP_INFO fails. (A client whose request the kernel
   * dropped for a full accept queue looks the same, and is credited a silence it did not keep.)
   */
  #synAckRetransmits(fd: number): number {
    const info = this.#tcpInfo;
    info[TCP_INFO_TOTAL_RETRANS] = 0;
    if (native.getsockopt(fd, IPPROTO_TCP, TCP_INFO, info) < (TCP_INFO_TOTAL_RETRANS + 1) * 4) return 0;
    return Math.min(info[TCP_INFO_TOTAL_RETRANS]!, MAX_SYNACK_RETRANSMITS);
  }

  #openSpare(): void {
    if (this.#spareFd >= 0) return;
    try {
      this.#spareFd = openSync('/dev/null', 'r');
    } catch {
      this.#spareFd = -1;
    }
  }

  /**
   * Stops accepting for a moment. A level-triggered listener is also taken out of the
   * interest set, or every poll would report the queued connections again: a busy loop.
   */
  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    const levelTriggered = (this.strategy.listenerMask & EPOLLET) === 0;
    if (levelTriggered) this.reactor.modify(this.listener, 0);
    this.#retry = setTimeout(() => {
      this.#paused = false;
      if (this.#closing) return;
      this.#openSpare();
      if (levelTriggered) this.reactor.modify(this.listener, this.strategy.listenerMask);
      // Edge-triggered: the edge that brought these connections is gone; accept now.
      this.strategy.onListenerReady(this);
    }, ACCEPT_RETRY_MS);
  }

  #sweep = (): void => {
    this.counters.timerTurns++;
    const now = this.now();
    const limit = this.#idleTimeout;
    for (const list of [this.#conns, ...this.#silent]) {
      for (let conn = list.oldest; conn !== null && now - conn.lastActive >= limit; conn = list.oldest) {
        conn.close(CloseReason.TimedOut);
        // Closing removes it from the list; never loop on one that somehow stayed.
        list.remove(conn);
      }
    }
  };

  #finishClose(): void {
    clearTimeout(this.#deadline);
    clearTimeout(this.#retry);
    clearInterval(this.#sweeper);
    this.reactor.close();
    if (this.#spareFd >= 0) {
      closeSync(this.#spareFd);
      this.#spareFd = -1;
    }
    const done = this.#closed;
    this.#closed = undefined;
    done?.();
  }
}
