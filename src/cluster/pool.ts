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
import { EtltServerClosedError, EtltSystemError, EtltWorkerError } from '../errors.js';
import type { HttpServerStats, ServerAddress } from '../http/server.js';
import type { Socket } from '../socket.js';
import { addressOf, adoptListener, bindUnix, removeSocketFile } from '../http/listener.js';
import type { UnixSocketFile } from '../http/listener.js';
import { boolean, integer, oneOf, options as checkOptions, rangeError, string } from '../validate.js';
import { BALANCES, boundPort, portHolder, sharedListener } from './balance.js';
import type { Balance } from './balance.js';
import { INHERITED_FD } from './protocol.js';
import type { CpuUsage, FromWorker, ToWorker, WorkerConfig, WorkerListen, WorkerServerOptions } from './protocol.js';
import { sumCpu, sumStats } from './stats.js';
import type { WorkerPoolStats, WorkerStats } from './stats.js';

const WORKER_MAIN = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'cli', 'worker.js');

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Worker processes, at least 1. */
  workers: number;
  /** How they share the accept load; default 'reuseport'. */
  balance?: Balance;
  /**
   * Each worker's HttpServer options (host, port, mode, limits...); functions cannot cross
   * processes. With `path` (a Unix domain socket), this process binds it and the workers
   * share it, as they share `fd`.
   */
  server?: WorkerServerOptions;
  /**
   * A listening socket inherited by this process (systemd socket activation, a supervisor)
   * for the workers to share instead of binding one: checked and made non-blocking by
   * start(), closed by stop(). Balance 'exclusive' or 'shared' (the default: 'exclusive' on
   * epoll); 'reuseport' needs a port each worker binds.
   */
  fd?: number;
  /** Workers print each request to their standard output (inherited), as `etlt serve` does. */
  printRequests?: boolean;
  /** What a worker gets to finish responses in flight when its parent dies; default 5000 ms. */
  closeTimeoutMs?: number;
  /** Milliseconds a worker may take to start serving; default 10000. */
  startTimeoutMs?: number;
  /** The lab's slow worker: the worker at `index` spins `busyMs` ms on every request. */
  slowWorker?: { index: number; busyMs: number };
  /** The lab's tag: worker N answers `worker N` instead of the body, so a client sees who served it. */
  tagResponses?: boolean;
  /**
   * A worker that dies sooner than this after it began serving counts as a crash loop: its
   * replacement waits 100 ms, doubling with each such death up to 10 s. Default 1000 ms.
   */
  healthyMs?: number;
}

const OPTION_NAMES = [
  'workers',
  'balance',
  'server',
  'printRequests',
  'closeTimeoutMs',
  'startTimeoutMs',
  'slowWorker',
  'tagResponses',
  'healthyMs',
  'fd',
] as const;

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

const HEALTHY_MS = 1000;
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

/**
 * A pool of worker processes serving one address. `start()` resolves once every worker
 * serves; `stop()` once every worker has exited. Emits 'exit' (a {@link WorkerExit}) for
 * each worker that exits, and 'error' for a replacement that could not be started.
 */
export class WorkerPool extends EventEmitter {
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

  constructor(options: WorkerPoolOptions) {
    super();
    const o = checkOptions<WorkerPoolOptions>(options, 'WorkerPool options', OPTION_NAMES);
    this.workers = integer(o.workers, 'workers', 1, 1024, 'option');
    if (o.fd !== undefined) integer(o.fd, 'fd', 0, 0x7fffffff, 'option');
    const shares = o.fd !== undefined || o.server?.path !== undefined;
    const sharedKind = (o.server?.backend ?? 'epoll') === 'epoll' ? 'exclusive' : 'shared';
    this.balance = oneOf(o.balance ?? (shares ? sharedKind : 'reuseport'), 'balance', BALANCES, 'option');
    if (shares && this.balance === 'reuseport')
      throw rangeError(
        'balance',
        "'exclusive' or 'shared' when the workers share `fd` or a `path`",
        'reuseport',
        'option',
      );
    if (o.printRequests !== undefined) boolean(o.printRequests, 'printRequests', 'option');
    if (o.tagResponses !== undefined) boolean(o.tagResponses, 'tagResponses', 'option');
    if (o.closeTimeoutMs !== undefined) integer(o.closeTimeoutMs, 'closeTimeoutMs', 0, 0x7fffffff, 'option');
    if (o.startTimeoutMs !== undefined) integer(o.startTimeoutMs, 'startTimeoutMs', 1, 0x7fffffff, 'option');
    if (o.healthyMs !== undefined) integer(o.healthyMs, 'healthyMs', 0, 0x7fffffff, 'option');
    if (o.slowWorker !== undefined) {
      integer(o.slowWorker.index, 'slowWorker.index', 0, this.workers - 1, 'option');
      integer(o.slowWorker.busyMs, 'slowWorker.busyMs', 0, 60_000, 'option');
    }
    if (o.server?.host !== undefined) string(o.server.host, 'server.host', 'option');
    this.#options = o as WorkerPoolOptions;
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
   * rejects (an EtltSystemError for a failed bind, an EtltWorkerError otherwise).
   */
  async start(): Promise<ServerAddress> {
    if (this.#started) throw new EtltServerClosedError('start(): a WorkerPool starts once');
    this.#started = true;
    const server = this.#options.server ?? {};
    const host = (server.host ?? '0.0.0.0').replace(/^\[(.*)\]$/, '$1');
    const port = server.port ?? 8080;
    if (this.#options.fd !== undefined || server.path !== undefined) {
      if (this.#options.fd !== undefined) this.#socket = adoptListener(this.#options.fd, 'fd');
      else {
        const unix = bindUnix(server.path!, server.backlog ?? 4096, server.socketMode);
        this.#socket = unix.socket;
        this.#socketFile = unix.file;
      }
      this.#listen = { kind: 'inherited', fd: INHERITED_FD, exclusive: this.balance === 'exclusive' };
    } else if (this.balance === 'reuseport') {
      this.#socket = portHolder(host, port);
      this.#listen = { kind: 'reuseport', port: boundPort(this.#socket) };
    } else {
      this.#socket = sharedListener(host, port, server.backlog ?? 4096);
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

  /**
   * Stops every worker: each stops accepting and gets `deadlineMs` for the responses in
   * flight (SIGKILL if it has not exited STOP_GRACE_MS after that). Resolves with the
   * final counters once every worker has exited. A second call can only cut off sooner
   * (`stop(0)`: at once).
   */
  stop(deadlineMs = this.#options.closeTimeoutMs ?? 5000): Promise<WorkerPoolStats> {
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
        const exited = new Promise<void>((done) => child.once('exit', () => done()));
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

  // ---- internals ----

  #config(slot: Slot): WorkerConfig {
    const o = this.#options;
    return {
      index: slot.index,
      // The listener is this pool's: a worker gets it as an inherited fd, never binds the path.
      server: withoutPath(o.server ?? {}),
      listen: this.#listen!,
      printRequests: o.printRequests ?? false,
      closeTimeoutMs: o.closeTimeoutMs ?? 5000,
      busyMs: o.slowWorker !== undefined && o.slowWorker.index === slot.index ? o.slowWorker.busyMs : 0,
      tagResponses: o.tagResponses ?? false,
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
      }, this.#options.startTimeoutMs ?? 10_000);
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'ready') {
          ready = true;
          slot.startedAt = performance.now();
          clearTimeout(timeout);
          child.off('message', onMessage);
          resolve();
        } else if (msg.type === 'failed') {
          clearTimeout(timeout);
          reject(
            msg.errno !== undefined && msg.syscall !== undefined
              ? new EtltSystemError(
                  msg.errno,
                  msg.syscall,
                  undefined,
                  msg.address === undefined
                    ? undefined
                    : { address: msg.address, ...(msg.port === undefined ? {} : { port: msg.port }) },
                )
              : new EtltWorkerError(`worker ${slot.index}: ${msg.message}`),
          );
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
      slot.failures = lived < (this.#options.healthyMs ?? HEALTHY_MS) ? slot.failures + 1 : 0;
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
    const mode = workers[0]?.stats.mode ?? this.#options.server?.mode ?? 'et';
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

/** "exit code 1", "killed by SIGKILL". */
function cause(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exit code ${code ?? '?'}`;
}
