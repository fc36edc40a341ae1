/**
 * `etlt serve --workers N` without `--quiet`: each worker prints its requests to the
 * standard output it shares with the parent, as a single `etlt serve` does (a worker
 * imports this module; see WorkerExtension in cluster/pool.ts).
 */
import { fileURLToPath } from 'node:url';
import type { WorkerExtension } from '../cluster/extension.js';
import type { WorkerSetup } from '../cluster/protocol.js';
import { Printer } from './printer.js';
import { requestLines } from './request-lines.js';

/** How long, at exit, a worker's request lines may take to reach a slow reader. */
const EXIT_DRAIN_MS = 2000;

const setup: WorkerSetup = (options) => {
  const out = new Printer(1);
  options.onRequest = (request) => out.line(requestLines(request));
  return {
    beforeExit: async () => {
      await out.drain(EXIT_DRAIN_MS);
      out.release();
    },
  };
};
export default setup;

/** The extension that makes every worker print its requests. */
export const PRINT_REQUESTS: WorkerExtension = { module: fileURLToPath(import.meta.url), data: () => null };
