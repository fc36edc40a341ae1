/**
 * `WorkerPool`: N worker processes, each an `HttpServer` with its own event loop and epoll
 * set, sharing one port in one of three ways (see balance.ts), under a supervising parent
 * that replaces a worker that dies (with a backoff, so a crash loop does not spin), stops
 * them all gracefully, and gathers their counters. No worker outlives the parent: each
 * watches its IPC channel, which closes when the parent dies, even by SIGKILL.
 */
import { fork } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtltServerClosedError, EtltWorkerError } from '../errors.js';
import type { HttpServerStats, ServerAddress } from '../http/server.js';
import type { Socket } from '../socket.js';
import { resolve as resolvePath } from 'node:path';
import { addressOf, adoptListener, bindUnix, removeSocketFile } from '../http/listener.js';
import type { UnixSocketFile } from '../http/listener.js';
import { EtltArgTypeError, EtltOutOfRangeError } from '../errors.js';
import { HTTP_SERVER_OPTIONS, resolveServerOptions } from '../http/options.js';
import type { Backend, Mode } from '../http/trigger/catalog.js';
import { unsupportedBackend } from '../http/trigger/catalog.js';
import { crossesProcess, resolveOptions } from '../option-table.js';
import { integer, rangeError } from '../validate.js';
import { boundPort, portHolder, sharedListener } from './balance.js';
import type { Balance } from './balance.js';
import { WORKER_POOL_OPTIONS } from './options.js';
import type { WorkerPoolOptions } from './options.js';

export type { WorkerPoolOptions } from './options.js';
import { extensionOf } from './extension.js';
import { cause, failure } from './failure.js';
import { INHERITED_FD } from './protocol.js';
import type { CpuUsage, FromWorker, ToWorker, WorkerConfig, WorkerListen, WorkerServerOptions } from './protocol.js';
import { sumCpu, sumStats } from './stats.js';
import type { WorkerPoolStats, WorkerStats } from './stats.js';

/** The worker's entry point, beside this file: a worker is a process of this layer. */
const WORKER_MAIN = join(fileURLToPath(new URL('.', import.meta.url)), 'worker-main.js');

/** The server options a pool keeps for itself, or that cannot cross a process. */
const NOT_FOR_WORKERS = new Set(['fd', 'exclusive', 'reusePort']);

/** A worker that exited, as the 'exit' event tells it. */
export interface WorkerExit {
  index: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** "exit code 1", "killed by SIGKILL". */
  cause: string;
  /** When a replacement starts; undefined when the pool is stopping or still starting. */
  restartInMs: number | undefined;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** After stop()'s deadline, how long workers get to exit before SIGKILL. */
const STOP_GRACE_MS = 5000;
const STATS_TIMEOUT_MS = 2000;

interface Slot {
  index: number;
  child: ChildProcess | undefined;
  startedAt: number;
  /** Consecutive early deaths. */
  failures: number;
  restart: NodeJS.Timeout | undefined;
  last: WorkerStats | undefined;
}

/** The events a `WorkerPool` emits, typed for `on`, `once`, `off` and `emit`. */
export interface WorkerPoolEvents {
  exit: [exit: WorkerExit];
  error: [err: Error];
}

/**
 * A pool of worker processes serving one address. `start()` resolves once every worker
 * serves; `stop()` once every worker has exited. Emits 'exit' (a {@link WorkerExit}) for
 * each worker that exits, and 'error' for a replacement that could not be started.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> implements AsyncDisposable {
  readonly workers: number;
  readonly balance: Balance;
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  /** Final (or last known) counters of workers that have exited. */
  readonly #retired: WorkerStats[] = [];
  #socket: Socket | undefined;
  /** The Unix socket file this pool bound (`server.path`), removed by stop(). */
  #socketFile: UnixSocketFile | undefined;
  #listen: WorkerListen | undefined;
  #address: ServerAddress | undefined;
  #replaced = 0;
  #stopping: Promise<WorkerPoolStats> | undefined;
  #started = false;
  /** Every worker served once: from then on, a worker that exits is replaced. */
  #serving = false;
  #statsId = 0;
  readonly #pendingStats = new Map<number, (s: { stats: HttpServerStats; cpu: CpuUsage }) => void>();
  #cutOff = false;
  readonly #mode: Mode;
  readonly #backend: Backend;
  readonly #host: string;
  readonly #port: number;
  readonly #backlog: number;
  readonly #closeTimeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #healthyMs: number;
  readonly #app: string | undefined;

  /**
   * Checks every option now, the server's included (a wrong value throws here, not in N
   * workers); a function among them is refused at once: it cannot cross to a process.
   */
  constructor(options: WorkerPoolOptions) {
    super();
    const o = resolveOptions(WORKER_POOL_OPTIONS, options, 'WorkerPool options');
    this.workers = o.workers as number;
    const server = (o.server ?? {}) as Record<string, unknown>;
    // One listener the workers share (inherited, or a Unix socket this process binds).
    const shares = o.fd !== undefined || server['path'] !== undefined;
    const balanceGiven = (options as { balance?: unknown }).balance !== undefined;
    this.balance = o.balance as Balance;
    if (shares && !balanceGiven) this.balance = (server['backend'] ?? 'epoll') === 'epoll' ? 'exclusive' : 'shared';
    if (shares && this.balance === 'reuseport')
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
    if (this.balance === 'exclusive' && resolved.backend !== 'epoll')
      throw rangeError(
        'balance',
        "'reuseport' or 'shared' off epoll (EPOLLEXCLUSIVE is epoll's)",
        this.balance,
        'option',
      );
    this.#mode = resolved.mode;
    this.#backend = resolved.backend;
    this.#host = resolved.host;
    this.#port = resolved.port;
    this.#backlog = resolved.backlog;
    this.#options = { ...options, server };
    this.#closeTimeoutMs = o.closeTimeoutMs as number;
    this.#startTimeoutMs = o.startTimeoutMs as number;
    this.#healthyMs = o.healthyMs as number;
    this.#app = o.app === undefined ? undefined : resolvePath(o.app as string);
  }

  /** Where the pool listens (after `start()`). */
  get address(): ServerAddress | undefined {
    return this.#address;
  }

  /** The pids of the workers running now, by slot (0 while a slot waits for its replacement). */
  get pids(): number[] {
    return this.#slots.map((s) => s.child?.pid ?? 0);
  }

  /**
   * Makes the listener (or, for reuseport, takes the port), starts the workers and resolves
   * with the address once every one serves. A worker that fails to start stops them all and
   * rejects: an EtltSystemError for a failed bind or root (its message names the address or
   * path), an EtltAppError for an `app` that cannot be served, an EtltWorkerError otherwise.
   */
  async start(): Promise<ServerAddress> {
    if (this.#started) throw new EtltServerClosedError('start(): a WorkerPool starts once');
    this.#started = true;
    const host = this.#host;
    const port = this.#port;
    const server = this.#options.server ?? {};
    if (this.#options.fd !== undefined || server.path !== undefined) {
      if (this.#options.fd !== undefined) this.#socket = adoptListener(this.#options.fd, 'fd');
      else {
        const unix = bindUnix(server.path!, this.#backlog, server.socketMode);
        this.#socket = unix.socket;
        this.#socketFile = unix.file;
      }
      this.#listen = { kind: 'inherited', fd: INHERITED_FD, exclusive: this.balance === 'exclusive' };
    } else if (this.balance === 'reuseport') {
      this.#socket = portHolder(host, port);
      this.#listen = { kind: 'reuseport', port: boundPort(this.#socket) };
    } else {
      this.#socket = sharedListener(host, port, this.#backlog);
      this.#listen = { kind: 'inherited', fd: INHERITED_FD, exclusive: this.balance === 'exclusive' };
    }
    this.#address = addressOf(this.#socket);
    for (let i = 0; i < this.workers; i++) {
      this.#slots.push({ index: i, child: undefined, startedAt: 0, failures: 0, restart: undefined, last: undefined });
    }
    try {
      await Promise.all(this.#slots.map((slot) => this.#spawn(slot)));
      this.#serving = true;
    } catch (err) {
      await this.stop(0);
      throw err;
    }
    return this.#address;
  }

  /** Every worker's counters now (asked over IPC), with those of workers that have exited, and the totals. */
  async stats(): Promise<WorkerPoolStats> {
    const live = this.#slots.filter((s) => s.child?.connected === true && s.last !== undefined);
    await Promise.all(live.map((slot) => this.#askStats(slot)));
    return this.#collect();
  }

  /** `await using pool = new WorkerPool(...)`: stop() with its default deadline. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Stops every worker: each stops accepting and gets `deadlineMs` for the responses in
   * flight (SIGKILL if it has not exited STOP_GRACE_MS after that). Resolves with the
   * final counters once every worker has exited. A second call can only cut off sooner
   * (`stop(0)`: at once).
   */
  stop(deadlineMs = this.#closeTimeoutMs): Promise<WorkerPoolStats> {
    integer(deadlineMs, 'deadlineMs', 0, 0x7fffffff);
    if (this.#stopping) {
      if (deadlineMs === 0) this.#cutOff = true;
      for (const slot of this.#slots) this.#send(slot, { type: 'stop', deadlineMs });
      return this.#stopping;
    }
    this.#cutOff = deadlineMs === 0;
    this.#socket?.close();
    removeSocketFile(this.#socketFile);
    this.#stopping = new Promise((resolve) => {
      const waits = this.#slots.map((slot) => {
        clearTimeout(slot.restart);
        slot.restart = undefined;
        const child = slot.child;
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        // 'close', not 'exit': the channel has ended too, so every message the worker sent
        // (its final counters, an extension's last data) has arrived.
        const exited = new Promise<void>((done) => child.once('close', () => done()));
        if (!this.#send(slot, { type: 'stop', deadlineMs })) child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), deadlineMs + STOP_GRACE_MS);
        return exited.then(() => clearTimeout(kill));
      });
      void Promise.all(waits).then(() => resolve(this.#collect()));
    });
    return this.#stopping;
  }

  /** Whether a stop cut responses off (stop(0)) rather than letting them finish. */
  get cutOff(): boolean {
    return this.#cutOff;
  }

  /** The trigger strategy every worker runs (the server's `mode`, or the backend's default). */
  get mode(): Mode {
    return this.#mode;
  }

  /** The polling backend every worker runs. */
  get backend(): Backend {
    return this.#backend;
  }

  // ---- internals ----

  #config(slot: Slot): WorkerConfig {
    const ext = extensionOf(this);
    return {
      index: slot.index,
      // The listener is this pool's: a worker gets it as an inherited fd, never binds the path.
      server: withoutPath(this.#options.server ?? {}),
      listen: this.#listen!,
      closeTimeoutMs: this.#closeTimeoutMs,
      ...(this.#app === undefined ? {} : { app: this.#app }),
      ...(ext === undefined ? {} : { extension: { module: ext.module, data: ext.data(slot.index) } }),
    };
  }

  /** Starts the worker of `slot`; resolves once it serves, rejects if it fails first. */
  #spawn(slot: Slot): Promise<void> {
    const inherited = this.#listen?.kind === 'inherited';
    const stdio: StdioOptions = ['ignore', 'inherit', 'inherit', 'ipc'];
    if (inherited) stdio.push(this.#socket!.fileno());
    const child = fork(WORKER_MAIN, [], { stdio, serialization: 'advanced', execArgv: [] });
    slot.child = child;
    slot.startedAt = performance.now();
    slot.last = undefined;
    let ready = false;
    child.on('message', (msg: FromWorker) => this.#onMessage(slot, child, msg));
    // A channel error (the worker gone mid-send) shows as its exit.
    child.on('error', () => {});
    const serving = new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new EtltWorkerError(`worker ${slot.index} did not start serving`));
      }, this.#startTimeoutMs);
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'ready') {
          ready = true;
          slot.startedAt = performance.now();
          clearTimeout(timeout);
          child.off('message', onMessage);
          resolve();
        } else if (msg.type === 'failed') {
          clearTimeout(timeout);
          reject(failure(slot.index, msg));
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => {
        clearTimeout(timeout);
        if (!ready) reject(new EtltWorkerError(`worker ${slot.index} exited before serving (${cause(code, signal)})`));
      });
    });
    child.once('exit', (code, signal) => this.#onExit(slot, child, code, signal));
    this.#send(slot, { type: 'start', config: this.#config(slot) });
    return serving;
  }

  #onMessage(slot: Slot, child: ChildProcess, msg: FromWorker): void {
    if (msg.type === 'stats' || msg.type === 'final') {
      slot.last = {
        index: slot.index,
        pid: child.pid ?? 0,
        live: msg.type === 'stats',
        stats: msg.stats,
        cpu: msg.cpu,
        ...(msg.type === 'stats' && msg.memory !== undefined ? { memory: msg.memory } : {}),
      };
      if (msg.type === 'stats') {
        const done = this.#pendingStats.get(msg.id);
        this.#pendingStats.delete(msg.id);
        done?.(msg);
      }
    } else if (msg.type === 'ready') {
      // A worker that is never asked still appears in the stats.
      slot.last = { index: slot.index, pid: child.pid ?? 0, live: true, stats: msg.stats, cpu: msg.cpu };
    } else if (msg.type === 'extension') {
      extensionOf(this)?.receive?.(slot.index, msg.data);
    }
  }

  #onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    if (slot.last !== undefined) this.#retired.push({ ...slot.last, live: false });
    slot.last = undefined;
    let restartInMs: number | undefined;
    // A replacement that fails before serving (a bind that fails now) is tried again, later each time.
    if (this.#stopping === undefined && this.#serving) {
      const lived = performance.now() - slot.startedAt;
      slot.failures = lived < this.#healthyMs ? slot.failures + 1 : 0;
      restartInMs = slot.failures === 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (slot.failures - 1));
      slot.restart = setTimeout(() => {
        slot.restart = undefined;
        if (this.#stopping !== undefined) return;
        this.#replaced++;
        this.#spawn(slot).catch((err: Error) => {
          if (this.listenerCount('error') > 0) this.emit('error', err);
        });
      }, restartInMs);
    }
    this.emit('exit', {
      index: slot.index,
      pid: child.pid ?? 0,
      code,
      signal,
      cause: cause(code, signal),
      restartInMs,
    });
  }

  #send(slot: Slot, msg: ToWorker): boolean {
    const child = slot.child;
    if (child?.connected !== true) return false;
    try {
      child.send(msg, (err) => {
        // Gone meanwhile: its exit is handled.
        void err;
      });
      return true;
    } catch {
      return false;
    }
  }

  #askStats(slot: Slot): Promise<void> {
    const id = ++this.#statsId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pendingStats.delete(id);
        resolve();
      }, STATS_TIMEOUT_MS);
      this.#pendingStats.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      if (!this.#send(slot, { type: 'stats', id })) {
        clearTimeout(timer);
        this.#pendingStats.delete(id);
        resolve();
      }
    });
  }

  #collect(): WorkerPoolStats {
    const current = this.#slots.flatMap((s) => (s.last === undefined ? [] : [s.last]));
    const workers = [...this.#retired, ...current].sort((a, b) => a.index - b.index);
    const mode = workers[0]?.stats.mode ?? this.#mode;
    return {
      balance: this.balance,
      replaced: this.#replaced,
      workers,
      total: sumStats(
        workers.map((w) => w.stats),
        mode,
      ),
      cpu: sumCpu(workers.map((w) => w.cpu)),
    };
  }
}

function withoutPath(server: WorkerServerOptions): WorkerServerOptions {
  if (server.path === undefined) return server;
  const { path: _path, socketMode: _mode, ...rest } = server;
  return rest;
}
