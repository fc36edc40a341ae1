/**
 * What the supervising parent and a worker process say to each other over the IPC channel
 * (Node's, with the structured-clone serialization, so a body's bytes cross as they are).
 */
import type { HttpServer, HttpServerOptions, HttpServerStats } from '../http/server.js';

/** Server options that can cross to another process: no functions, and the listener is the pool's affair. */
export type WorkerServerOptions = Omit<HttpServerOptions, 'handler' | 'onRequest' | 'fd' | 'exclusive' | 'reusePort'>;

/** The fd number at which a worker finds an inherited listener (after stdin, stdout, stderr and the IPC channel). */
export const INHERITED_FD = 4;

/** How a worker gets its listener. */
export type WorkerListen = { kind: 'inherited'; fd: number; exclusive: boolean } | { kind: 'reuseport'; port: number };

/** Everything a worker needs to serve, sent as its first message. */
export interface WorkerConfig {
  /** The worker's slot, 0 to N-1; a replacement takes the slot of the worker it replaces. */
  index: number;
  server: WorkerServerOptions;
  listen: WorkerListen;
  /** How long responses in flight may take when the parent is gone or sends SIGTERM. */
  closeTimeoutMs: number;
  /** The absolute path of the application module whose default export is the handler. */
  app?: string;
  /** A module of the layer above that adds to the worker (see WorkerExtension in pool.ts), and its data. */
  extension?: { module: string; data: unknown };
}

/**
 * The default export of a worker extension module: it may change the server's options
 * before the server is made (its onRequest, its body), and may return what the worker
 * calls once the server is made (`serving`: to listen for its events) and awaits before it
 * exits (`beforeExit`: output to flush, after the server has closed and before the final
 * counters). `send` gives the extension's own data to the parent (the extension's
 * `receive`, in the same order); `then` runs once it is written to the channel.
 */
export type WorkerSetup = (
  options: HttpServerOptions,
  worker: { index: number; data: unknown; send: (data: unknown, then?: () => void) => void },
) => { serving?: (server: HttpServer) => void; beforeExit?: () => Promise<void> } | undefined;

/** CPU time of a process, in microseconds (process.cpuUsage()). */
export interface CpuUsage {
  user: number;
  system: number;
}

/** A worker's memory in bytes, as `etlt serve` prints it (rss -1 when it could not be read). */
export interface WorkerMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** Parent to worker. */
export type ToWorker =
  { type: 'start'; config: WorkerConfig } | { type: 'stats'; id: number } | { type: 'stop'; deadlineMs: number };

/** Worker to parent. */
export type FromWorker =
  | { type: 'ready'; host: string; port: number; stats: HttpServerStats; cpu: CpuUsage }
  | {
      type: 'failed';
      message: string;
      code?: string;
      errno?: number;
      syscall?: string;
      address?: string;
      port?: number;
    }
  | { type: 'stats'; id: number; stats: HttpServerStats; cpu: CpuUsage; memory?: WorkerMemory }
  | { type: 'final'; stats: HttpServerStats; cpu: CpuUsage; cutOff: boolean }
  /** The extension's own data, for its `receive` in the parent. */
  | { type: 'extension'; data: unknown };
