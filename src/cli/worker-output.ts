/**
 * What a worker of `etlt serve --workers N` writes: its requests, printed to the standard
 * output it shares with the parent as a single `etlt serve` prints them (unless --quiet),
 * and its access log lines, sent to the parent, which alone writes the log (access-log.ts
 * says why). A worker imports this module (see WorkerExtension in cluster/extension.ts).
 */
import { fileURLToPath } from 'node:url';
import type { WorkerExtension } from '../cluster/extension.js';
import type { WorkerSetup } from '../cluster/protocol.js';
import type { HttpServer } from '../http/server.js';
import { commonLogLine } from './access-log.js';
import { Printer } from './printer.js';
import { requestLines } from './request-lines.js';

/** How long, at exit, a worker's request lines may take to reach a slow reader. */
const EXIT_DRAIN_MS = 2000;
/**
 * Access log bytes a worker gathers before it sends them at once; below this they go at the
 * end of the turn (setImmediate): one IPC message per turn, not one per response.
 */
const LOG_BATCH = 64 << 10;

/** What each worker is told. */
interface OutputData {
  print: boolean;
  accessLog: boolean;
}

const setup: WorkerSetup = (options, { data, send }) => {
  const { print, accessLog } = data as OutputData;
  const out = print ? new Printer(1) : undefined;
  if (out !== undefined) options.onRequest = (request) => out.line(requestLines(request));
  let batch = '';
  let scheduled = false;
  const flush = (then?: () => void): void => {
    scheduled = false;
    if (batch === '') {
      then?.();
      return;
    }
    const lines = batch;
    batch = '';
    send(lines, then);
  };
  const serving = (server: HttpServer): void => {
    server.on('access', (e) => {
      batch += commonLogLine(e);
      if (batch.length >= LOG_BATCH) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  };
  return {
    ...(accessLog ? { serving } : {}),
    // After the server has closed: the last lines, written to the channel before the final counters.
    beforeExit: async () => {
      await new Promise<void>((resolve) => flush(resolve));
      if (out !== undefined) {
        await out.drain(EXIT_DRAIN_MS);
        out.release();
      }
    },
  };
};
export default setup;

/**
 * The extension every worker of `etlt serve` gets when it prints requests or logs them
 * (undefined when it does neither); `log` receives each batch of whole access log lines.
 */
export function workerOutput(print: boolean, log: ((lines: string) => void) | undefined): WorkerExtension | undefined {
  if (!print && log === undefined) return undefined;
  const data: OutputData = { print, accessLog: log !== undefined };
  return {
    module: fileURLToPath(import.meta.url),
    data: () => data,
    ...(log === undefined
      ? {}
      : {
          receive: (_index: number, lines: unknown) => {
            if (typeof lines === 'string') log(lines);
          },
        }),
  };
}
