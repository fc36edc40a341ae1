/**
 * `WorkerPool`'s options and their table (see src/option-table.ts for who reads it): the
 * interface carries the TSDoc, the table the kind, default, range, doc line and flag; and
 * `resolvePoolOptions`, every check a pool makes in its constructor, the server's included.
 */
import { resolve as resolvePath } from 'node:path';
import { EtltArgTypeError, EtltOutOfRangeError } from '../errors.js';
import { HTTP_SERVER_OPTIONS, resolveServerOptions } from '../http/options.js';
import { DEFAULT_CLOSE_DEADLINE_MS } from '../http/server.js';
import { unsupportedBackend } from '../http/trigger/catalog.js';
import type { Backend, Mode } from '../http/trigger/catalog.js';
import { crossesProcess, resolveOptions } from '../option-table.js';
import type { OptionTable } from '../option-table.js';
import { rangeError } from '../validate.js';
import { BALANCES } from './balance.js';
import type { Balance } from './balance.js';
import type { WorkerServerOptions } from './protocol.js';

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Worker processes, at least 1. */
  workers: number;
  /**
   * How they share the accept load; default 'reuseport', or with `fd` or `server.path` (one
   * listener the workers share) 'exclusive' on epoll and 'shared' off it.
   */
  balance?: Balance;
  /**
   * Each worker's HttpServer options (host, port, mode, limits...). Functions cannot cross
   * to another process: a handler comes from `app`.
   */
  server?: WorkerServerOptions;
  /**
   * A listening socket inherited by this process (systemd socket activation, a supervisor)
   * for the workers to share instead of binding one: checked and made non-blocking by
   * start(), closed by stop(). Balance 'exclusive' or 'shared'; 'reuseport' needs a port
   * each worker binds. With `server.path` (a Unix domain socket) this process binds it and
   * the workers share it the same way.
   */
  fd?: number;
  /**
   * The path of an ES module (`.mjs`, or `.js` in a `"type": "module"` package) whose default
   * export is the request handler; every worker imports it. Relative paths are resolved
   * against the current directory.
   */
  app?: string;
  /** What a worker gets to finish responses in flight when it is stopped or its parent dies; default 5000 ms. */
  closeTimeoutMs?: number;
  /** Milliseconds a worker may take to start serving; default 10000. */
  startTimeoutMs?: number;
  /**
   * A worker that dies sooner than this after it began serving counts as a crash loop: its
   * replacement waits 100 ms, doubling with each such death up to 10 s. Default 1000 ms.
   */
  healthyMs?: number;
}

/** The most workers a pool takes. */
export const MAX_WORKERS = 1024;

/** The rows, in the order they resolve. */
export const WORKER_POOL_OPTIONS: OptionTable<WorkerPoolOptions> = {
  workers: {
    kind: 'integer',
    min: 1,
    max: MAX_WORKERS,
    default: 1,
    doc: 'worker processes, each with its own event loop and epoll set (the CLI: 1 serves in its own process; auto: one per CPU)',
    cli: { flag: 'workers', value: 'N|auto' },
  },
  balance: {
    kind: 'choice',
    choices: BALANCES,
    default: 'reuseport',
    doc: 'how workers share the port: a listener each (SO_REUSEPORT), one with EPOLLEXCLUSIVE, or one woken in every worker',
    cli: { flag: 'balance', value: 'KIND', more: 'see docs/balance.md' },
  },
  server: { kind: 'object', doc: "each worker's HttpServer options, functions excepted" },
  fd: {
    kind: 'integer',
    min: 0,
    max: 0x7fffffff,
    doc: 'an inherited listening socket the workers share (balance exclusive or shared)',
  },
  app: {
    kind: 'string',
    doc: "an ES module whose default export is the request handler, imported by every worker (a '.ts' file needs compiling first)",
    cli: { flag: 'app', value: 'MODULE' },
  },
  closeTimeoutMs: {
    kind: 'integer',
    min: 0,
    max: 0x7fffffff,
    default: DEFAULT_CLOSE_DEADLINE_MS,
    doc: 'milliseconds responses in flight get on SIGINT/SIGTERM (or when the parent dies); a second signal cuts off',
    cli: { flag: 'close-timeout', value: 'SECONDS', unit: 'seconds' },
  },
  startTimeoutMs: {
    kind: 'integer',
    min: 1,
    max: 0x7fffffff,
    default: 10_000,
    doc: 'milliseconds a worker may take to start serving',
  },
  healthyMs: {
    kind: 'integer',
    min: 0,
    max: 0x7fffffff,
    default: 1000,
    doc: 'a worker that dies sooner after it began serving is replaced after a backoff (100 ms doubling to 10 s)',
  },
};

/** The server options a pool keeps for itself (it makes the listeners). */
const NOT_FOR_WORKERS = new Set(['fd', 'exclusive', 'reusePort']);

/** A pool's options, checked, with every default filled and the server's resolved once. */
export interface ResolvedPoolOptions {
  workers: number;
  balance: Balance;
  /** The server options as given: each worker resolves them again in its own process. */
  server: WorkerServerOptions;
  fd: number | undefined;
  /** The application module, as an absolute path. */
  app: string | undefined;
  closeTimeoutMs: number;
  startTimeoutMs: number;
  healthyMs: number;
  /** Of the server options, resolved: what the pool itself reads. */
  mode: Mode;
  backend: Backend;
  host: string;
  port: number;
  backlog: number;
}

/**
 * Checks every option of a pool, the server's included (a wrong value throws here, in the
 * parent, not in N workers); a function among them is refused at once: it cannot cross to a
 * process. A shared listener (`fd`, `server.path`) defaults the balance to 'exclusive' on
 * epoll and 'shared' off it, and refuses 'reuseport'; 'exclusive' needs epoll.
 */
export function resolvePoolOptions(options: WorkerPoolOptions): ResolvedPoolOptions {
  const o = resolveOptions(WORKER_POOL_OPTIONS, options, 'WorkerPool options');
  const server = (o.server ?? {}) as Record<string, unknown>;
  // One listener the workers share (inherited, or a Unix socket this process binds).
  const shares = o.fd !== undefined || server['path'] !== undefined;
  const balanceGiven = (options as { balance?: unknown }).balance !== undefined;
  let balance = o.balance as Balance;
  if (shares && !balanceGiven) balance = (server['backend'] ?? 'epoll') === 'epoll' ? 'exclusive' : 'shared';
  if (shares && balance === 'reuseport')
    throw rangeError(
      'balance',
      "'exclusive' or 'shared' when the workers share `fd` or a `path`",
      'reuseport',
      'option',
    );
  for (const [name, row] of Object.entries(HTTP_SERVER_OPTIONS)) {
    if (server[name] === undefined) continue;
    if (!crossesProcess(row)) {
      throw new EtltArgTypeError(
        `The "server.${name}" option cannot be given to a WorkerPool: a function cannot cross to a worker process. ` +
          (name === 'handler'
            ? 'Give the "app" option the path of a module whose default export is the handler; every worker imports it'
            : 'Every worker runs in a process of its own'),
      );
    }
    if (NOT_FOR_WORKERS.has(name))
      throw rangeError(`server.${name}`, 'left to the pool (it makes the listeners)', server[name], 'option');
  }
  const resolved = resolveServerOptions(server);
  const unsupported = unsupportedBackend(resolved.mode, resolved.backend);
  if (unsupported !== undefined) throw new EtltOutOfRangeError(unsupported);
  if (balance === 'exclusive' && resolved.backend !== 'epoll')
    throw rangeError('balance', "'reuseport' or 'shared' off epoll (EPOLLEXCLUSIVE is epoll's)", balance, 'option');
  return {
    workers: o.workers as number,
    balance,
    server,
    fd: o.fd as number | undefined,
    app: o.app === undefined ? undefined : resolvePath(o.app as string),
    closeTimeoutMs: o.closeTimeoutMs as number,
    startTimeoutMs: o.startTimeoutMs as number,
    healthyMs: o.healthyMs as number,
    mode: resolved.mode,
    backend: resolved.backend,
    host: resolved.host,
    port: resolved.port,
    backlog: resolved.backlog,
  };
}
