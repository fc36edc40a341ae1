/**
 * Entry point of a worker process of `WorkerPool` (`etlt serve --workers N`): forked by the
 * pool with an IPC channel, it gets its configuration as the first message, serves one
 * HttpServer on its own event loop, answers requests for its counters, and stops when told
 * to, on SIGTERM, or when the channel closes: the parent is gone (even killed by SIGKILL,
 * the kernel closes its end), and no worker outlives it.
 */
import type { FromWorker, ToWorker, WorkerConfig } from '../cluster/protocol.js';
import { EtltSystemError } from '../errors.js';
import { HttpServer } from '../http/server.js';
import type { HttpServerOptions } from '../http/server.js';
import { Printer } from './printer.js';
import { memoryFigures } from './memory.js';
import { requestLines } from './serve.js';

// No signal may open Node's inspector (see main.ts). SIGINT from a terminal reaches the
// whole process group: the parent decides, and tells each worker.
process.on('SIGUSR1', () => {});
process.on('SIGINT', () => {});

let server: HttpServer | undefined;
let config: WorkerConfig | undefined;
let stopping = false;
let cutOff = false;
/** Standard output, shared with the parent and the other workers: made only when requests are printed. */
let out: Printer | undefined;

// With a callback, a send that fails (the parent gone meanwhile) is not an 'error' event,
// which would be an uncaught exception: the channel's 'disconnect' handles a gone parent.
const say = (msg: FromWorker): void => {
  if (process.connected) process.send!(msg, undefined, {}, () => {});
};

function start(c: WorkerConfig): void {
  config = c;
  const options: HttpServerOptions = { ...c.server };
  if (c.listen.kind === 'inherited') {
    options.fd = c.listen.fd;
    options.exclusive = c.listen.exclusive;
  } else {
    options.port = c.listen.port;
    options.reusePort = true;
  }
  if (c.tagResponses) options.body = `worker ${c.index}\n`;
  const busyMs = c.busyMs;
  const print = c.printRequests;
  if (print) out = new Printer(1);
  if (busyMs > 0 || print) {
    options.onRequest = (request) => {
      out?.line(requestLines(request));
      // The lab's slow worker: busy, as a request that costs CPU is.
      const end = performance.now() + busyMs;
      while (performance.now() < end);
    };
  }
  try {
    server = new HttpServer(options);
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
    process.exitCode = 1;
    // Let go of the channel once the failure is sent: nothing else keeps the process alive.
    if (process.connected)
      process.send!({ type: 'failed', message: err.message, ...sys } satisfies FromWorker, undefined, {}, () =>
        process.disconnect(),
      );
  }
}

function stop(deadlineMs: number): void {
  if (deadlineMs === 0) cutOff = true;
  if (server === undefined) {
    process.exitCode = 1;
    if (process.connected) process.disconnect();
    return;
  }
  const s = server;
  const first = !stopping;
  stopping = true;
  const closed = s.close(deadlineMs);
  if (!first) return;
  void closed.then(async () => {
    if (out !== undefined) {
      await out.drain(2000);
      out.release();
    }
    process.exitCode = cutOff ? 130 : 0;
    if (!process.connected) return;
    // The final counters, then let go of the channel: with nothing left, the process ends.
    process.send!({ type: 'final', stats: s.stats(), cpu: process.cpuUsage(), cutOff } satisfies FromWorker, () =>
      process.disconnect(),
    );
  });
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'start' && config === undefined) start(msg.config);
  else if (msg.type === 'stats' && server !== undefined)
    say({ type: 'stats', id: msg.id, stats: server.stats(), cpu: process.cpuUsage(), memory: memoryFigures() });
  else if (msg.type === 'stop') stop(msg.deadlineMs);
});
process.on('SIGTERM', () => stop(stopping ? 0 : (config?.closeTimeoutMs ?? 5000)));
process.on('disconnect', () => {
  if (!stopping) stop(config?.closeTimeoutMs ?? 5000);
});
