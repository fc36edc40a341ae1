/**
 * `HttpServer`: the seed's server done right, as HTTP/1.1 (persistent connections,
 * pipelining, framed bodies, a request handler), in either trigger mode, on Node's event
 * loop, so a Node program can embed it. A small facade over the internal engine:
 * options, `listen`, `address`, `close`, `stats`, and `net.Server`'s events.
 */
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import {
  EtltAlreadyListeningError,
  EtltNotListeningError,
  EtltOutOfRangeError,
  EtltServerClosedError,
  EtltSystemError,
} from '../errors.js';
import type { WaitRecorder } from '../reactor/reactor.js';
import type { Socket } from '../socket.js';
import type { ConnectionRecord, ReactorCounters, ServerCounters } from '../trace/counters.js';
import { func, integer, rangeError } from '../validate.js';
import { bindListener } from './bind.js';
import { DEFER_ACCEPT_S, enableDeferredAccept } from './deferred-accept.js';
import { addressOf, adoptListener, bindUnix, removeSocketFile, socketMode, unixPath } from './listener.js';
import type { ListenerOptions, UnixSocketFile } from './listener.js';
import { ServerEngine } from './engine.js';
import { StaticFiles } from './static/files.js';
import type { HttpServerOptions, ResolvedServerOptions } from './options.js';
import { resolveServerOptions } from './options.js';
import type { AccessEntry } from './access-record.js';
import type { Backend, Mode, Trigger } from './trigger/catalog.js';
import { unsupportedBackend } from './trigger/catalog.js';
import { strategyFor } from './trigger/index.js';
import type { ReadinessMode } from './trigger/index.js';
import { UringEngine } from './uring/engine.js';
import type { HttpServerEvents } from './server-events.js';

export type { HttpServerOptions } from './options.js';

/** Where a server listens: for a Unix domain socket, `path`, with `host` 'unix:PATH' and `port` 0. */
export interface ServerAddress {
  host: string;
  port: number;
  path?: string;
}

/** A snapshot of a server's counters and live state. */
export interface HttpServerStats extends ReactorCounters, ServerCounters {
  mode: Mode;
  /** The polling backend. */
  backend: Backend;
  /** Connections open now. */
  open: number;
}

/** How long close() lets responses in flight finish, by default (the pool's and `--close-timeout`'s default too). */
export const DEFAULT_CLOSE_DEADLINE_MS = 5000;

/**
 * The server. `listen()` binds and starts serving on Node's event loop (and emits
 * 'listening'); `close()` stops accepting, lets responses in flight finish (up to a
 * deadline), releases every fd and emits 'close'. Emits 'error' for failures of the loop
 * itself, never for a client's misbehaviour; 'handlerError' (when listened to) for a handler
 * that failed; 'access' (an {@link AccessEntry}: method, target, status, bytes, duration,
 * client address) once per response (and once, with status 499, per request whose client left
 * while its handler worked), recorded only while someone listens.
 */
export class HttpServer extends EventEmitter<HttpServerEvents> implements AsyncDisposable {
  readonly #engine: ServerEngine | UringEngine;
  readonly #host: string;
  readonly #port: number;
  readonly #backlog: number;
  readonly #deferAccept: boolean;
  readonly #holdMs: number;
  readonly #fd: number | undefined;
  readonly #exclusive: boolean;
  readonly #reusePort: boolean;
  readonly #path: string | undefined;
  readonly #socketMode: number | undefined;
  /** The socket file this server bound, removed on close. */
  #socketFile: UnixSocketFile | undefined;
  #socket: Socket | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #deadlineAt = Infinity;

  constructor(options?: HttpServerOptions) {
    super();
    const o = resolveServerOptions(options);
    const unsupported = unsupportedBackend(o.mode, o.backend);
    if (unsupported !== undefined) throw new EtltOutOfRangeError(unsupported);
    this.#host = o.host;
    this.#port = o.port;
    this.#backlog = o.backlog;
    this.#deferAccept = o.deferAccept && o.eagerRead && o.idleTimeoutMs >= DEFER_ACCEPT_S * 1000;
    this.#holdMs = o.holdMs;
    this.#fd = o.fd;
    this.#exclusive = o.exclusive;
    this.#reusePort = o.reusePort;
    // The raw options: a path excludes host and port, which the table fills with defaults.
    this.#path = o.path === undefined ? undefined : unixPath(options as ListenerOptions);
    this.#socketMode = o.socketMode === undefined ? undefined : socketMode(options as ListenerOptions);
    if (o.backend !== 'io_uring' && (o.sqpollIdleMs !== undefined || o.taskRun !== undefined))
      throw rangeError(
        o.sqpollIdleMs !== undefined ? 'sqpollIdleMs' : 'taskRun',
        'used with backend io_uring',
        o.backend,
        'option',
      );
    const config = {
      body: o.body,
      handler: o.handler,
      statics: staticFiles(o),
      maxHeadBytes: o.maxHeadBytes,
      maxBodyBytes: o.maxBodyBytes,
      maxRequests: o.maxRequests,
      inputBudgetBytes: o.inputBudgetBytes,
      idleTimeoutMs: o.idleTimeoutMs,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs,
      sendTimeoutMs: o.sendTimeoutMs,
      traceConnections: o.traceConnections,
      onRequest: o.onRequest,
      streamBodies: o.requestBody === 'stream',
      maxStreamBodyBytes: o.maxStreamBodyBytes,
      onError: (err: Error) => this.emit('error', err),
      onHandlerError: (err: unknown) => {
        if (this.listenerCount('handlerError') > 0) this.emit('handlerError', err);
      },
    };
    this.#engine =
      o.backend === 'io_uring'
        ? new UringEngine({
            ...config,
            ring: { sqpollIdleMs: o.sqpollIdleMs ?? 0, taskRun: o.taskRun ?? 'default' },
          })
        : new ServerEngine({
            ...config,
            strategy: strategyFor(o.mode as ReadinessMode),
            backend: o.backend,
            eagerRead: o.eagerRead,
          });
    // The access log costs nothing until someone listens: the exchange records only then.
    const log = (entry: AccessEntry): void => void this.emit('access', entry);
    this.on('newListener', (event: string | symbol) => {
      if (event === 'access') this.#engine.accessLog = log;
    });
    this.on('removeListener', (event: string | symbol) => {
      if (event === 'access' && this.listenerCount('access') === 0) this.#engine.accessLog = undefined;
    });
  }

  /** The directory served (`root`), or undefined. */
  get root(): string | undefined {
    return this.#engine.statics?.root;
  }

  /** The trigger strategy's name. */
  get mode(): Mode {
    return this.#engine.strategy.name;
  }

  /** The polling backend: 'epoll', 'poll', 'select' or 'io_uring'. */
  get backend(): Backend {
    return this.#engine.reactor.backend;
  }

  /** Whether the strategy is edge- or level-triggered. */
  get trigger(): Trigger {
    return this.#engine.strategy.trigger;
  }

  /** The strategy's one-line description. */
  get description(): string {
    return this.#engine.strategy.description;
  }

  /** True between `listen()` and `close()`. */
  get listening(): boolean {
    return this.#socket !== undefined && this.#closing === undefined;
  }

  /**
   * Binds, listens and starts serving; returns the bound address and emits 'listening'.
   * Throws an {@link EtltSystemError} naming the address (EADDRINUSE, EACCES...).
   */
  listen(): ServerAddress {
    if (this.#closing) throw new EtltServerClosedError();
    if (this.#socket) throw new EtltAlreadyListeningError();
    this.#engine.statics?.open();
    const sock = this.#listener();
    // An optimisation only: a kernel that refuses it leaves an ordinary listener.
    const deferred = this.#deferAccept && enableDeferredAccept(sock.fileno());
    const shared = this.#fd === undefined ? undefined : { exclusive: this.#exclusive };
    let r: number;
    try {
      r = this.#engine.start(sock.fileno(), deferred, this.#holdMs, shared);
    } catch (err) {
      // io_uring refused (the error names why): nothing stays open.
      sock.close();
      this.#engine.statics?.close();
      throw err;
    }
    if (r < 0) {
      sock.close();
      this.#removeSocketFile();
      this.#engine.statics?.close();
      throw new EtltSystemError(r, 'epoll_ctl');
    }
    this.#socket = sock;
    process.nextTick(() => this.emit('listening'));
    return this.address();
  }

  /** The listening socket: adopted (`fd`), a Unix socket (`path`), or a TCP port bound now. */
  #listener(): Socket {
    try {
      if (this.#fd !== undefined) return adoptListener(this.#fd, 'fd');
      if (this.#path === undefined)
        return bindListener(this.#host, this.#port, { reusePort: this.#reusePort, backlog: this.#backlog });
      const { socket, file } = bindUnix(this.#path, this.#backlog, this.#socketMode);
      this.#socketFile = file;
      return socket;
    } catch (err) {
      this.#engine.statics?.close();
      throw err;
    }
  }

  #removeSocketFile(): void {
    removeSocketFile(this.#socketFile);
    this.#socketFile = undefined;
  }

  /** The bound address; throws ERR_SERVER_NOT_RUNNING before `listen()`. */
  address(): ServerAddress {
    if (!this.#socket) throw new EtltNotListeningError('address(): the server is not listening');
    return addressOf(this.#socket);
  }

  /** Records every epoll_wait return of this server (for timelines); undefined stops. */
  setRecorder(recorder: WaitRecorder | undefined): void {
    if (recorder !== undefined) func(recorder, 'recorder');
    this.#engine.reactor.recorder = recorder;
  }

  /**
   * Stops accepting, lets responses in flight finish for up to `deadlineMs`, then closes
   * every remaining connection, the listener and the epoll fd, and emits 'close'. Safe to
   * call twice; a later call can only bring the deadline closer (a second Ctrl-C:
   * close(0) cuts off at once).
   */
  close(deadlineMs = DEFAULT_CLOSE_DEADLINE_MS): Promise<void> {
    integer(deadlineMs, 'deadlineMs', 0, 0x7fffffff);
    if (this.#closing) {
      if (this.#deadline !== undefined && performance.now() + deadlineMs < this.#deadlineAt)
        this.#setDeadline(deadlineMs);
      return this.#closing;
    }
    this.#closing = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    // The listener leaves the epoll set before it is closed (an inherited one must, see stopAccepting).
    this.#engine.stopAccepting(() => this.#finish());
    if (this.#socket) {
      this.#socket.close();
      this.#removeSocketFile();
      this.#engine.counters.close++;
    }
    if (this.#resolveClosed !== undefined) this.#setDeadline(deadlineMs);
    return this.#closing;
  }

  /** `await using server = new HttpServer(...)`: close() with its default deadline. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The records of the first `traceConnections` connections that have closed. */
  connectionRecords(): readonly ConnectionRecord[] {
    return this.#engine.records();
  }

  /** Counters since start, plus the mode and the number of open connections. */
  stats(): HttpServerStats {
    const e = this.#engine;
    return {
      mode: e.strategy.name,
      backend: e.reactor.backend,
      ...e.reactor.counters,
      ...e.counters,
      open: e.openCount(),
    };
  }

  /** (Re)arms the timer that closes every connection still open when close() runs out of time. */
  #setDeadline(ms: number): void {
    clearTimeout(this.#deadline);
    this.#deadlineAt = performance.now() + ms;
    this.#deadline = setTimeout(() => this.#engine.cutOff(), ms);
  }

  #finish(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.#engine.shutdown();
    const done = this.#resolveClosed;
    this.#resolveClosed = undefined;
    process.nextTick(() => this.emit('close'));
    done?.();
  }
}

/** The static files the options ask for, checked (not opened yet), or undefined. */
function staticFiles(o: ResolvedServerOptions): StaticFiles | undefined {
  if (o.root === undefined) return undefined;
  const root = o.root;
  if (root === '' || root.includes('\0')) throw rangeError('root', 'a directory path', root, 'option');
  if (o.index.includes('/') || o.index.startsWith('.')) {
    throw rangeError('index', 'a file name (no /, not starting with .)', o.index, 'option');
  }
  return new StaticFiles({
    root: resolve(root),
    index: o.index,
    dotfiles: o.dotfiles === 'allow',
    followSymlinks: o.followSymlinks,
  });
}
