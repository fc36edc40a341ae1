/**
 * `WorkerPool`: N worker processes, each an `HttpServer` with its own event loop and epoll
 * set, sharing one port in one of three ways (see balance.ts), under a supervising parent
 * that replaces a worker that dies (with a backoff, so a crash loop does not spin), stops
 * them all gracefully, and gathers their counters. No worker outlives the parent: each
 * watches its IPC channel, which closes when the parent dies, even by SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { EtltServerClosedError } from '../errors.js';
import type { HttpServerStats, ServerAddress } from '../http/server.js';
import type { Socket } from '../socket.js';
import { addressOf, removeSocketFile } from '../http/listener.js';
import type { UnixSocketFile } from '../http/listener.js';
import type { Backend, Mode } from '../http/trigger/catalog.js';
import { integer } from '../validate.js';
import { poolListener } from './balance.js';
import type { Balance } from './balance.js';
import { resolvePoolOptions } from './options.js';
import type { ResolvedPoolOptions, WorkerPoolOptions } from './options.js';

export type { WorkerPoolOptions } from './options.js';
import { extensionOf } from './extension.js';
import { cause } from './failure.js';
import type { CpuUsage, FromWorker, ToWorker, WorkerConfig, WorkerListen, WorkerServerOptions } from './protocol.js';
import { sumCpu, sumStats } from './stats.js';
import type { WorkerPoolStats, WorkerStats } from './stats.js';
import { forkWorker, sendTo, untilServing } from './worker-process.js';

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
  readonly #options: ResolvedPoolOptions;
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

  /**
   * Checks every option now, the server's included (a wrong value throws here, not in N
   * workers); a function among them is refused at once: it cannot cross to a process.
   */
  constructor(options: WorkerPoolOptions) {
    super();
    this.#options = resolvePoolOptions(options);
    this.workers = this.#options.workers;
    this.balance = this.#options.balance;
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
    const { fd, server, host, port, backlog } = this.#options;
    const listener = poolListener({
      balance: this.balance,
      fd,
      path: server.path,
      socketMode: server.socketMode,
      host,
      port,
      backlog,
    });
    this.#socket = listener.socket;
    this.#socketFile = listener.file;
    this.#listen = listener.listen;
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
  stop(deadlineMs = this.#options.closeTimeoutMs): Promise<WorkerPoolStats> {
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
    return this.#options.mode;
  }

  /** The polling backend every worker runs. */
  get backend(): Backend {
    return this.#options.backend;
  }

  // ---- internals ----

  #config(slot: Slot): WorkerConfig {
    const ext = extensionOf(this);
    return {
      index: slot.index,
      // The listener is this pool's: a worker gets it as an inherited fd, never binds the path.
      server: withoutPath(this.#options.server),
      listen: this.#listen!,
      closeTimeoutMs: this.#options.closeTimeoutMs,
      ...(this.#options.app === undefined ? {} : { app: this.#options.app }),
      ...(ext === undefined ? {} : { extension: { module: ext.module, data: ext.data(slot.index) } }),
    };
  }

  /** Starts the worker of `slot`; resolves once it serves, rejects if it fails first. */
  #spawn(slot: Slot): Promise<void> {
    const child = forkWorker(this.#listen?.kind === 'inherited' ? this.#socket!.fileno() : undefined);
    slot.child = child;
    slot.startedAt = performance.now();
    slot.last = undefined;
    child.on('message', (msg: FromWorker) => this.#onMessage(slot, child, msg));
    const serving = untilServing(child, slot.index, this.#options.startTimeoutMs, () => {
      slot.startedAt = performance.now();
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
      slot.failures = lived < this.#options.healthyMs ? slot.failures + 1 : 0;
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
    return sendTo(slot.child, msg);
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
    const mode = workers[0]?.stats.mode ?? this.#options.mode;
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
