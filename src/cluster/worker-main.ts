/**
 * Entry point of a worker process of `WorkerPool`: forked by the pool with an IPC channel,
 * it gets its configuration as the first message, imports the application module and the
 * extension of the layer above if there are any, serves one HttpServer on its own event
 * loop, answers requests for its counters, and stops when told to, on SIGTERM, or when the
 * channel closes: the parent is gone (even killed by SIGKILL, the kernel closes its end),
 * and no worker outlives it. An entry point owns its process: its signals and exit code.
 */
import { EtltError, EtltSystemError } from '../errors.js';
import { loadApp } from '../http/app.js';
import { HttpServer } from '../http/server.js';
import type { HttpServerOptions } from '../http/server.js';
import { memoryFigures } from '../trace/memory.js';
import type { FromWorker, ToWorker, WorkerConfig, WorkerSetup } from './protocol.js';

// No signal may open Node's inspector (see cli/main.ts). SIGINT from a terminal reaches the
// whole process group: the parent decides, and tells each worker.
process.on('SIGUSR1', () => {});
process.on('SIGINT', () => {});

/** The exit code of a worker that could not start serving (the pool reports it with the reason). */
const FAILED_TO_START = 1;

let server: HttpServer | undefined;
let config: WorkerConfig | undefined;
let stopping = false;
let cutOff = false;
let beforeExit: (() => Promise<void>) | undefined;
let serving: ((server: HttpServer) => void) | undefined;

let leaving = false;

/**
 * Lets go of the channel once: with nothing left, the process ends. A second disconnect()
 * while the first waits for pending messages throws inside Node's child_process.
 */
function leave(): void {
  if (leaving) return;
  leaving = true;
  if (process.connected) process.disconnect();
}

// With a callback, a send that fails (the parent gone meanwhile) is not an 'error' event,
// which would be an uncaught exception: the channel's 'disconnect' handles a gone parent.
const say = (msg: FromWorker, then?: () => void): void => {
  if (process.connected) process.send!(msg, undefined, {}, then ?? (() => {}));
  else then?.();
};

async function start(c: WorkerConfig): Promise<void> {
  config = c;
  const options: HttpServerOptions = { ...c.server };
  if (c.listen.kind === 'inherited') {
    options.fd = c.listen.fd;
    options.exclusive = c.listen.exclusive;
  } else {
    options.port = c.listen.port;
    options.reusePort = true;
  }
  try {
    if (c.app !== undefined) Object.assign(options, await loadApp(c.app));
    if (c.extension !== undefined) {
      const setup = ((await import(c.extension.module)) as { default: WorkerSetup }).default;
      const send = (data: unknown, then?: () => void): void => say({ type: 'extension', data }, then);
      ({ beforeExit, serving } = setup(options, { index: c.index, data: c.extension.data, send }) ?? {});
    }
    // Told to stop while the modules loaded: serve nothing.
    if (stopping) return;
    server = new HttpServer(options);
    serving?.(server);
    server.on('error', (e: Error) => process.stderr.write(`etlt: worker ${c.index}: ${e.message}\n`));
    const { host, port } = server.listen();
    say({ type: 'ready', host, port, stats: server.stats(), cpu: process.cpuUsage() });
  } catch (e) {
    const err = e as Error;
    const sys =
      err instanceof EtltSystemError
        ? {
            errno: err.errno,
            syscall: err.syscall,
            ...(err.address === undefined ? {} : { address: err.address, port: err.port }),
          }
        : {};
    process.exitCode = FAILED_TO_START;
    stopping = true;
    const code = err instanceof EtltError ? { code: err.code } : {};
    // Let go of the channel once the failure is sent: nothing else keeps the process alive.
    say({ type: 'failed', message: err.message, ...code, ...sys }, leave);
  }
}

function stop(deadlineMs: number): void {
  if (deadlineMs === 0) cutOff = true;
  if (server === undefined) {
    // Stopped before it served (or it failed): nothing to finish.
    process.exitCode ??= FAILED_TO_START;
    stopping = true;
    leave();
    return;
  }
  const s = server;
  const first = !stopping;
  stopping = true;
  const closed = s.close(deadlineMs);
  if (!first) return;
  void closed.then(async () => {
    await beforeExit?.();
    process.exitCode = cutOff ? 130 : 0;
    // The final counters, then let go of the channel: with nothing left, the process ends.
    say({ type: 'final', stats: s.stats(), cpu: process.cpuUsage(), cutOff }, leave);
  });
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'start' && config === undefined) void start(msg.config);
  else if (msg.type === 'stats' && server !== undefined)
    say({ type: 'stats', id: msg.id, stats: server.stats(), cpu: process.cpuUsage(), memory: memoryFigures() });
  else if (msg.type === 'stop') stop(msg.deadlineMs);
});
process.on('SIGTERM', () => stop(stopping ? 0 : (config?.closeTimeoutMs ?? 5000)));
process.on('disconnect', () => {
  if (!stopping) stop(config?.closeTimeoutMs ?? 5000);
});
