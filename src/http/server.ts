/**
 * `HttpServer`: the seed's server done right, as HTTP/1.1 (persistent connections,
 * pipelining, framed bodies, a request handler), in either trigger mode, on Node's event
 * loop, so a Node program can embed it. A small facade over the internal engine:
 * options, `listen`, `address`, `close`, `stats`, and `net.Server`'s events.
 */
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { AF_INET, AF_INET6, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT } from '../constants.js';
import {
  EtltAlreadyListeningError,
  EtltNotListeningError,
  EtltOutOfRangeError,
  EtltServerClosedError,
  EtltSystemError,
} from '../errors.js';
import type { WaitRecorder } from '../reactor/reactor.js';
import { Socket } from '../socket.js';
import type { ConnectionRecord, ReactorCounters, ServerCounters } from '../trace/counters.js';
import { boolean, bytes, func, integer, oneOf, options as checkOptions, rangeError, string } from '../validate.js';
import { DEFER_ACCEPT_S, enableDeferredAccept } from './deferred-accept.js';
import { ServerEngine } from './engine.js';
import { StaticFiles } from './static/files.js';
import type { AccessEntry } from './access-record.js';
import type { RequestHandler } from './handler.js';
import type { Backend, Mode, Trigger } from './trigger/catalog.js';
import { BACKENDS, unsupportedBackend } from './trigger/catalog.js';
import { strategyFor } from './trigger/index.js';

/** Options of {@link HttpServer}; every one has a default. Times are in milliseconds (`Ms`). */
export interface HttpServerOptions {
  /** Trigger strategy: 'et' (default) or 'lt'; the lab's strategies are accepted too (not for traffic). */
  mode?: Mode;
  /**
   * Polling backend: 'epoll' (default), 'poll' or 'select'. poll and select are
   * level-triggered (mode 'lt'), block in their own syscall on each turn of Node's loop,
   * and cost time with every fd they watch; select cannot watch fds from 1024 up, and sheds
   * the connections that get them (counted in `overFdLimit`).
   */
  backend?: Backend;
  /** Address to bind; default '0.0.0.0' (the seed's). Numeric IPv4/IPv6 or 'localhost'. */
  host?: string;
  /** Port; default 8080 (the seed's); 0 picks a free one. */
  port?: number;
  /** listen(2) backlog; default 4096 (the seed's 1 stalls clients for seconds under load). */
  backlog?: number;
  /** Response body instead of "Hello, world!" (sent with the seed's headers); a string is sent as UTF-8. */
  body?: Uint8Array | string;
  /**
   * Answers each request instead of the fixed response: gets the request (method, target,
   * version, lower-case headers, body), returns status, headers and body, now or as a
   * Promise. Responses leave in request order; a handler that throws or rejects gets the
   * client a 500 (and the server a 'handlerError' event), the server goes on.
   */
  handler?: RequestHandler;
  /**
   * Serve the files under this directory instead of the fixed response (GET and HEAD,
   * ranges, conditional requests; the content sent with sendfile(2)). With `handler` too,
   * files come first: a GET or HEAD for a file of the root is answered from it, and the
   * handler gets everything else (other methods, and what would be a 404).
   * The root is opened by `listen()`, which throws an EtltSystemError naming it if it cannot be.
   */
  root?: string;
  /** The file a request for a directory ('/dir/') gets; default 'index.html'; '' for none (404). */
  index?: string;
  /** 'deny' (default): names starting with '.' are 404; 'allow': served. */
  dotfiles?: 'deny' | 'allow';
  /** Let a symlink under the root lead outside it; default false (such a file is 404). */
  followSymlinks?: boolean;
  /** Longest accepted request head in bytes; default 8192. Longer: 431 (a request line alone: 414), then close. */
  maxHeadBytes?: number;
  /** Largest accepted request body in bytes; default 1 MiB. Larger: 413, then close. */
  maxBodyBytes?: number;
  /**
   * 'buffer' (default): a handler runs once the whole body is in, as `req.body`. 'stream':
   * it runs as soon as the head is in, and reads the body as it arrives from `req.stream()`;
   * the socket is read only as fast as the handler pulls (64 KiB ahead at most).
   */
  requestBody?: 'buffer' | 'stream';
  /**
   * Largest streamed request body (`requestBody: 'stream'`); default 16 GiB. A streamed body
   * is never held whole, so this bounds what one request may make the handler write (to a
   * disk, say), not memory; larger: 413 at the head, or the iterator throws past it (chunked).
   */
  maxStreamBodyBytes?: number;
  /** Requests per connection; default 1000. The last response says `Connection: close`. */
  maxRequests?: number;
  /**
   * Most bytes all partial requests together may hold (heads arriving slowly, pipelined
   * input); default 64 MiB. Over it, the connections with the oldest partial heads are closed.
   */
  inputBudgetBytes?: number;
  /** Milliseconds a kept-alive connection may wait for its next request; default 5000. */
  keepAliveTimeoutMs?: number;
  /**
   * Milliseconds without progress after which a connection is closed; default 5000. The
   * request head must arrive in full within this time of accept (no trickling it in).
   */
  idleTimeoutMs?: number;
  /**
   * Read right after accept, before registering with epoll, while that usually finds the
   * request (default true). false: never.
   */
  eagerRead?: boolean;
  /**
   * Let the kernel hand over a connection only once its first bytes have arrived
   * (TCP_DEFER_ACCEPT, as nginx's `deferred` and Apache httpd's default on Linux): the
   * request is then read right after accept, answered and closed, and the connection never
   * costs an epoll registration or a wake-up of its own. Default true; used only with an
   * idle timeout of at least 1 s and eagerRead, so that a client that sends nothing is
   * still closed on time (it is handed over after about 1 s of silence, measured from the
   * socket and counted towards its idle timeout). false: accept at once, as the seed does.
   */
  deferAccept?: boolean;
  /** Milliseconds to keep waiting on this server's epoll set after a wake-up; default 0 (see `etlt serve --hold`). */
  holdMs?: number;
  /** Keep a ConnectionRecord for each of the first N connections (default 0); see connectionRecords(). */
  traceConnections?: number;
  /** Called with the bytes of each complete request (valid only during the call). */
  onRequest?: (request: Buffer) => void;
  /**
   * Serve this listening socket (bound and listening already, non-blocking, inherited from
   * a parent process) instead of binding one; `host` must be of its family. The server
   * owns the fd and closes it. `port` and `backlog` are then unused.
   */
  fd?: number;
  /** With `fd`: register the listener with EPOLLEXCLUSIVE (Linux 4.5+), so that a connection wakes one of the processes sharing it. */
  exclusive?: boolean;
  /** Set SO_REUSEPORT before binding: several processes then bind the same port, and the kernel spreads connections among them. */
  reusePort?: boolean;
}

const OPTION_NAMES = [
  'mode',
  'backend',
  'host',
  'port',
  'backlog',
  'body',
  'handler',
  'root',
  'index',
  'dotfiles',
  'followSymlinks',
  'maxHeadBytes',
  'maxBodyBytes',
  'requestBody',
  'maxStreamBodyBytes',
  'maxRequests',
  'inputBudgetBytes',
  'idleTimeoutMs',
  'keepAliveTimeoutMs',
  'eagerRead',
  'deferAccept',
  'holdMs',
  'traceConnections',
  'onRequest',
  'fd',
  'exclusive',
  'reusePort',
] as const;

/** Where a server listens. */
export interface ServerAddress {
  host: string;
  port: number;
}

/** A snapshot of a server's counters and live state. */
export interface HttpServerStats extends ReactorCounters, ServerCounters {
  mode: Mode;
  /** The polling backend. */
  backend: Backend;
  /** Connections open now. */
  open: number;
}

/** How long close() lets responses in flight finish, by default. */
const DEFAULT_CLOSE_DEADLINE_MS = 5000;

/**
 * The server. `listen()` binds and starts serving on Node's event loop (and emits
 * 'listening'); `close()` stops accepting, lets responses in flight finish (up to a
 * deadline), releases every fd and emits 'close'. Emits 'error' for failures of the loop
 * itself, never for a client's misbehaviour; 'handlerError' (when listened to) for a handler
 * that failed; 'access' (an {@link AccessEntry}: method, target, status, bytes, duration,
 * client address) once per response, recorded only while someone listens.
 */
export class HttpServer extends EventEmitter {
  readonly #engine: ServerEngine;
  readonly #host: string;
  readonly #port: number;
  readonly #backlog: number;
  readonly #deferAccept: boolean;
  readonly #holdMs: number;
  readonly #fd: number | undefined;
  readonly #exclusive: boolean;
  readonly #reusePort: boolean;
  #socket: Socket | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #deadlineAt = Infinity;

  constructor(options?: HttpServerOptions) {
    super();
    const o = checkOptions<HttpServerOptions>(options, 'HttpServer options', OPTION_NAMES);
    const strategy = strategyFor(o.mode ?? 'et');
    const backend = oneOf(o.backend ?? 'epoll', 'backend', BACKENDS, 'option');
    const unsupported = unsupportedBackend(strategy.name, backend);
    if (unsupported !== undefined) throw new EtltOutOfRangeError(unsupported);
    // "[::1]" as pasted from a URL: the brackets are URL syntax, not part of the address.
    this.#host = string(o.host ?? '0.0.0.0', 'host', 'option').replace(/^\[(.*)\]$/, '$1');
    this.#port = integer(o.port ?? 8080, 'port', 0, 65535, 'option');
    this.#backlog = integer(o.backlog ?? 4096, 'backlog', 1, 0x7fffffff, 'option');
    const idleTimeoutMs = integer(o.idleTimeoutMs ?? 5000, 'idleTimeoutMs', 1, 0x7fffffff, 'option');
    const eagerRead = boolean(o.eagerRead ?? true, 'eagerRead', 'option');
    this.#deferAccept =
      boolean(o.deferAccept ?? true, 'deferAccept', 'option') && eagerRead && idleTimeoutMs >= DEFER_ACCEPT_S * 1000;
    this.#holdMs = integer(o.holdMs ?? 0, 'holdMs', 0, 1000, 'option');
    const statics = staticFiles(o);
    this.#fd = o.fd === undefined ? undefined : integer(o.fd, 'fd', 0, 0x7fffffff, 'option');
    this.#exclusive = boolean(o.exclusive ?? false, 'exclusive', 'option');
    this.#reusePort = boolean(o.reusePort ?? false, 'reusePort', 'option');
    this.#engine = new ServerEngine({
      strategy,
      backend,
      body: o.body === undefined ? undefined : bytes(o.body, 'body', 'option'),
      handler: o.handler === undefined ? undefined : func<RequestHandler>(o.handler, 'handler', 'option'),
      statics,
      maxHeadBytes: integer(o.maxHeadBytes ?? 8192, 'maxHeadBytes', 16, 1 << 20, 'option'),
      maxBodyBytes: integer(o.maxBodyBytes ?? 1 << 20, 'maxBodyBytes', 0, 2 ** 40, 'option'),
      streamBodies: oneOf(o.requestBody ?? 'buffer', 'requestBody', ['buffer', 'stream'], 'option') === 'stream',
      maxStreamBodyBytes: integer(o.maxStreamBodyBytes ?? 2 ** 34, 'maxStreamBodyBytes', 0, 2 ** 50, 'option'),
      maxRequests: integer(o.maxRequests ?? 1000, 'maxRequests', 1, 0x7fffffff, 'option'),
      inputBudgetBytes: integer(o.inputBudgetBytes ?? 64 << 20, 'inputBudgetBytes', 1 << 16, 2 ** 40, 'option'),
      idleTimeoutMs,
      keepAliveTimeoutMs: integer(o.keepAliveTimeoutMs ?? 5000, 'keepAliveTimeoutMs', 1, 0x7fffffff, 'option'),
      eagerRead,
      traceConnections: integer(o.traceConnections ?? 0, 'traceConnections', 0, 1_000_000, 'option'),
      onRequest:
        o.onRequest === undefined ? undefined : func<(request: Buffer) => void>(o.onRequest, 'onRequest', 'option'),
      onError: (err) => this.emit('error', err),
      onHandlerError: (err) => {
        if (this.listenerCount('handlerError') > 0) this.emit('handlerError', err);
      },
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

  /** The polling backend: 'epoll', 'poll' or 'select'. */
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
    const family = this.#host.includes(':') ? AF_INET6 : AF_INET;
    const sock = this.#fd === undefined ? this.#bind(family) : Socket.fromFd(this.#fd, family, SOCK_STREAM);
    // An optimisation only: a kernel that refuses it leaves an ordinary listener.
    const deferred = this.#deferAccept && enableDeferredAccept(sock.fileno());
    const shared = this.#fd === undefined ? undefined : { exclusive: this.#exclusive };
    const r = this.#engine.start(sock.fileno(), deferred, this.#holdMs, shared);
    if (r < 0) {
      sock.close();
      this.#engine.statics?.close();
      throw new EtltSystemError(r, 'epoll_ctl');
    }
    this.#socket = sock;
    process.nextTick(() => this.emit('listening'));
    return this.address();
  }

  #bind(family: number): Socket {
    const sock = new Socket(family, SOCK_STREAM | SOCK_NONBLOCK);
    try {
      sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      if (this.#reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
      sock.bind([this.#host, this.#port]);
      sock.listen(this.#backlog);
      return sock;
    } catch (err) {
      sock.close();
      this.#engine.statics?.close();
      if (!(err instanceof EtltSystemError)) throw err;
      // A link-local address is ambiguous without its interface: bind(2) says only EINVAL.
      const zoneless = family === AF_INET6 && /^fe[89ab]/i.test(this.#host) && !this.#host.includes('%');
      const hint =
        zoneless && err.code === 'EINVAL' ? `a link-local address needs its interface: ${this.#host}%eth0` : undefined;
      throw new EtltSystemError(err.errno, err.syscall, hint, { address: this.#host, port: this.#port });
    }
  }

  /** The bound address; throws ERR_SERVER_NOT_RUNNING before `listen()`. */
  address(): ServerAddress {
    if (!this.#socket) throw new EtltNotListeningError('address(): the server is not listening');
    const [host, port] = this.#socket.getsockname() as [string, number];
    return { host, port };
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
      this.#engine.counters.close++;
    }
    if (this.#resolveClosed !== undefined) this.#setDeadline(deadlineMs);
    return this.#closing;
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
function staticFiles(o: Partial<HttpServerOptions>): StaticFiles | undefined {
  const index = string(o.index ?? 'index.html', 'index', 'option');
  const dotfiles = oneOf(o.dotfiles ?? 'deny', 'dotfiles', ['deny', 'allow'], 'option');
  const followSymlinks = boolean(o.followSymlinks ?? false, 'followSymlinks', 'option');
  if (o.root === undefined) return undefined;
  const root = string(o.root, 'root', 'option');
  if (root === '' || root.includes('\0')) throw rangeError('root', 'a directory path', root, 'option');
  if (index.includes('/') || index.startsWith('.')) {
    throw rangeError('index', 'a file name (no /, not starting with .)', index, 'option');
  }
  return new StaticFiles({ root: resolve(root), index, dotfiles: dotfiles === 'allow', followSymlinks });
}
