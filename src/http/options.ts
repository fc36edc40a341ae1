/**
 * `HttpServer`'s option table: every option's kind, default, range, doc line and
 * `etlt serve` flag, in one place (see src/option-table.ts for who reads it). The
 * interface `HttpServerOptions` beside it carries the TSDoc; a key it has and the table
 * misses does not compile.
 */
import type { OptionTable } from '../option-table.js';
import { resolveOptions } from '../option-table.js';
import type { RingTaskRun } from '../reactor/uring.js';
import type { RequestHandler } from './handler.js';
import type { Backend, Mode } from './trigger/catalog.js';
import { BACKENDS, MODES, defaultMode } from './trigger/catalog.js';

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
  /**
   * io_uring only: a kernel thread polls the submission queue (IORING_SETUP_SQPOLL) and
   * sleeps after this many ms without work; default none (0): every turn's submit is one
   * io_uring_enter. The thread's CPU is the process's.
   */
  sqpollIdleMs?: number;
  /**
   * io_uring only: 'default', 'coop' (IORING_SETUP_COOP_TASKRUN) or 'defer'
   * (DEFER_TASKRUN with SINGLE_ISSUER: completions run only when the loop enters the kernel).
   */
  taskRun?: RingTaskRun;
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
   * ranges, conditional requests; the content sent with sendfile(2)). Not with `handler`.
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
   * A connection with a response pending has `sendTimeoutMs` instead.
   */
  idleTimeoutMs?: number;
  /**
   * Milliseconds a connection with a response pending may go without its output moving;
   * default 60000 (nginx's send_timeout). The peer's reading counts (the send queue
   * shrinking, SIOCOUTQ), so a slow reader keeps its download however long it takes; one
   * that took nothing for this long is reset, which frees what the kernel queued for it.
   */
  sendTimeoutMs?: number;
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
   * Serve this listening socket (bound and listening already, inherited from a parent
   * process: systemd socket activation, a supervisor) instead of binding one. `listen()`
   * checks that it is a listening stream socket (TCP or Unix) and sets O_NONBLOCK on it; it
   * throws, naming `fd`, when it is not, and leaves such an fd alone. From `listen()` on the
   * server owns the fd and closes it. `host`, `port` and `backlog` are then unused.
   */
  fd?: number;
  /**
   * Listen on this Unix domain socket instead of a TCP port (as `net.Server`'s `path`); a
   * leading NUL is Linux's abstract namespace (no file). A file left by a crashed run is
   * replaced; a live server's socket gives EADDRINUSE. The file is removed on close. Not with
   * `host`, `port`, `fd` or `reusePort`.
   */
  path?: string;
  /** With `path`: the socket file's mode (e.g. 0o660), set before any client can connect; default 0o777 less the umask. */
  socketMode?: number;
  /** With `fd`: register the listener with EPOLLEXCLUSIVE (Linux 4.5+), so that a connection wakes one of the processes sharing it. */
  exclusive?: boolean;
  /** Set SO_REUSEPORT before binding: several processes then bind the same port, and the kernel spreads connections among them. */
  reusePort?: boolean;
}

/** The largest int a kernel call takes (listen(2)'s backlog, a timer's milliseconds). */
const INT_MAX = 0x7fffffff;

/** The rows, in the order they resolve (`mode`'s default follows `backend`). */
export const HTTP_SERVER_OPTIONS: OptionTable<HttpServerOptions> = {
  backend: {
    kind: 'choice',
    choices: BACKENDS,
    default: 'epoll',
    doc: 'polling backend: poll(2) and select(2) are level-triggered and scan every fd on every wait',
    cli: { flag: 'backend', value: 'NAME', more: 'select serves fds below 1024 only' },
  },
  mode: {
    kind: 'choice',
    choices: MODES,
    default: (o: { backend: Backend }) => defaultMode(o.backend),
    defaultText: "'et' on epoll, 'lt' on poll and select, 'completion' on io_uring",
    doc: "trigger strategy: 'et' (edge-triggered) or 'lt' (level-triggered); the lab's strategies are accepted too; io_uring's only mode is 'completion'",
    cli: { flag: 'mode', value: 'MODE' },
  },
  sqpollIdleMs: {
    kind: 'integer',
    min: 0,
    max: 60_000,
    doc: 'io_uring: a kernel thread polls the submission queue, asleep after this many ms idle (IORING_SETUP_SQPOLL; 0: none)',
    cli: { flag: 'sqpoll', value: 'MS' },
  },
  taskRun: {
    kind: 'choice',
    choices: ['default', 'coop', 'defer'] as const,
    doc: 'io_uring: default, coop (COOP_TASKRUN) or defer (DEFER_TASKRUN with SINGLE_ISSUER: completions run when the loop enters the kernel)',
    cli: { flag: 'task-run', value: 'HOW' },
  },
  host: {
    kind: 'string',
    default: '0.0.0.0',
    doc: 'address to bind: numeric IPv4/IPv6, [::1] or localhost; link-local IPv6 with its interface (fe80::1%eth0)',
    cli: { flag: 'host', value: 'ADDR' },
  },
  port: {
    kind: 'integer',
    min: 0,
    max: 65535,
    default: 8080,
    doc: 'port; 0 picks a free one',
    cli: { flag: 'port', short: 'p', value: 'N' },
  },
  backlog: {
    kind: 'integer',
    min: 1,
    max: INT_MAX,
    default: 4096,
    doc: 'listen(2) backlog (the kernel caps it at net.core.somaxconn)',
    cli: { flag: 'backlog', value: 'N' },
  },
  body: { kind: 'bytes', doc: 'response body instead of "Hello, world!" (a string is sent as UTF-8)' },
  handler: {
    kind: 'function',
    doc: 'answers each request instead of the fixed response (with root: what is not a file of the root)',
  },
  root: {
    kind: 'string',
    doc: 'serve the files under this directory (GET and HEAD, ranges, conditional requests, sendfile(2))',
    cli: { flag: 'root', value: 'DIR' },
  },
  index: {
    kind: 'string',
    default: 'index.html',
    doc: "with root: the file a directory request gets ('' for none: 404)",
    cli: { flag: 'index', value: 'FILE' },
  },
  dotfiles: {
    kind: 'choice',
    choices: ['deny', 'allow'],
    default: 'deny',
    doc: "with root: serve names starting with '.' (deny: 404)",
    cli: { flag: 'dotfiles', value: 'deny|allow' },
  },
  followSymlinks: {
    kind: 'boolean',
    default: false,
    doc: 'with root: let symlinks lead outside it (false: such files are 404)',
    cli: { flag: 'follow-symlinks' },
  },
  maxHeadBytes: {
    kind: 'integer',
    min: 16,
    max: 1 << 20,
    default: 8192,
    doc: 'longest request head in bytes (longer: 431, a longer request line 414)',
    cli: { flag: 'max-head', value: 'BYTES' },
  },
  maxBodyBytes: {
    kind: 'integer',
    min: 0,
    max: 2 ** 40,
    default: 1 << 20,
    doc: 'largest request body in bytes (larger: 413)',
    cli: { flag: 'max-body', value: 'BYTES' },
  },
  requestBody: {
    kind: 'choice',
    choices: ['buffer', 'stream'] as const,
    default: 'buffer',
    doc: "'buffer': the handler runs once the whole body is in (req.body); 'stream': at the head, reading req.stream() as it arrives",
  },
  maxStreamBodyBytes: {
    kind: 'integer',
    min: 0,
    max: 2 ** 50,
    default: 2 ** 34,
    doc: 'largest streamed request body in bytes (requestBody stream; never held whole, so it bounds disk, not memory)',
    cli: { flag: 'max-stream-body', value: 'BYTES' },
  },
  maxRequests: {
    kind: 'integer',
    min: 1,
    max: INT_MAX,
    default: 1000,
    doc: 'requests per connection; the last response says Connection: close',
    cli: { flag: 'max-requests', value: 'N' },
  },
  inputBudgetBytes: {
    kind: 'integer',
    min: 1 << 16,
    max: 2 ** 40,
    default: 64 << 20,
    doc: 'most bytes all partial requests may hold together; over it, the oldest partial heads are closed',
    cli: { flag: 'input-budget', value: 'BYTES' },
  },
  keepAliveTimeoutMs: {
    kind: 'integer',
    min: 1,
    max: INT_MAX,
    default: 5000,
    doc: 'milliseconds a kept-alive connection may wait for its next request',
    cli: { flag: 'keepalive-timeout', value: 'SECONDS', unit: 'seconds' },
  },
  idleTimeoutMs: {
    kind: 'integer',
    min: 1,
    max: INT_MAX,
    default: 5000,
    doc: 'milliseconds without progress before a connection is closed; a head must arrive in full within it (a response being sent has sendTimeoutMs instead)',
    cli: { flag: 'idle-timeout', value: 'SECONDS', unit: 'seconds' },
  },
  sendTimeoutMs: {
    kind: 'integer',
    min: 1,
    max: INT_MAX,
    default: 60_000,
    doc: "milliseconds a pending response may go without moving before the connection is reset; the peer's reading counts",
    cli: { flag: 'send-timeout', value: 'SECONDS', unit: 'seconds' },
  },
  eagerRead: {
    kind: 'boolean',
    default: true,
    doc: 'recv right after accept, before registering with epoll',
    cli: { flag: 'eager-read', value: 'on|off' },
  },
  deferAccept: {
    kind: 'boolean',
    default: true,
    doc: 'TCP_DEFER_ACCEPT: accept once the request has begun to arrive (with idleTimeoutMs >= 1000 and eagerRead)',
    cli: { flag: 'defer-accept', value: 'on|off' },
  },
  holdMs: {
    kind: 'integer',
    min: 0,
    max: 1000,
    default: 0,
    doc: "after a wake-up, keep waiting on the server's own set up to this many ms while events keep coming",
    cli: { flag: 'hold', value: 'MS' },
  },
  traceConnections: {
    kind: 'integer',
    min: 0,
    max: 1_000_000,
    default: 0,
    doc: 'keep a record of each of the first N connections (connectionRecords())',
  },
  onRequest: { kind: 'function', doc: 'called with the bytes of each complete request (valid only during the call)' },
  fd: {
    kind: 'integer',
    min: 0,
    max: INT_MAX,
    doc: 'serve this inherited listening socket instead of binding one (port and backlog unused)',
  },
  path: {
    kind: 'string',
    doc: "listen on this Unix domain socket instead of a TCP port (the CLI: --host unix:PATH); a stale file is replaced, a live server's is not",
  },
  socketMode: {
    kind: 'integer',
    min: 0,
    max: 0o777,
    doc: "with path: the socket file's mode, set before any client can connect (the CLI: --socket-mode, octal)",
  },
  exclusive: { kind: 'boolean', default: false, doc: 'with fd: register the listener with EPOLLEXCLUSIVE' },
  reusePort: { kind: 'boolean', default: false, doc: 'set SO_REUSEPORT before binding' },
};

/** `HttpServerOptions` checked, with every default filled in (the ones without a default stay optional). */
export interface ResolvedServerOptions {
  backend: Backend;
  mode: Mode;
  host: string;
  port: number;
  backlog: number;
  body: Uint8Array | undefined;
  handler: HttpServerOptions['handler'];
  root: string | undefined;
  index: string;
  dotfiles: 'deny' | 'allow';
  followSymlinks: boolean;
  maxHeadBytes: number;
  maxBodyBytes: number;
  requestBody: 'buffer' | 'stream';
  maxStreamBodyBytes: number;
  maxRequests: number;
  inputBudgetBytes: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  sendTimeoutMs: number;
  eagerRead: boolean;
  deferAccept: boolean;
  holdMs: number;
  traceConnections: number;
  onRequest: HttpServerOptions['onRequest'];
  sqpollIdleMs: number | undefined;
  taskRun: RingTaskRun | undefined;
  fd: number | undefined;
  path: string | undefined;
  socketMode: number | undefined;
  exclusive: boolean;
  reusePort: boolean;
}

/** Checks `options` against the table and fills in the defaults; throws what the table's checks throw. */
export function resolveServerOptions(options: unknown): ResolvedServerOptions {
  const o = resolveOptions(HTTP_SERVER_OPTIONS, options, 'HttpServer options') as unknown as ResolvedServerOptions;
  // "[::1]" as pasted from a URL: the brackets are URL syntax, not part of the address.
  o.host = o.host.replace(/^\[(.*)\]$/, '$1');
  return o;
}
