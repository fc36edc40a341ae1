/**
 * The lab's knobs on the workers of a pool (`etlt lab balance`), injected from here rather
 * than offered by the public WorkerPool: each worker answers `worker N` (so the load
 * generator tells them apart), and one may be slow (it spins on every request, as a
 * request that costs CPU does). A worker imports this module; see WorkerExtension.
 */
import { fileURLToPath } from 'node:url';
import type { WorkerSetup } from '../cluster/protocol.js';
import type { WorkerExtension } from '../cluster/extension.js';

/** What each worker gets. */
interface Knobs {
  tag: boolean;
  busyMs: number;
}

const setup: WorkerSetup = (options, { index, data }) => {
  const { tag, busyMs } = data as Knobs;
  if (tag) options.body = `worker ${index}\n`;
  if (busyMs > 0) {
    options.onRequest = () => {
      const end = performance.now() + busyMs;
      while (performance.now() < end);
    };
  }
  return undefined;
};
export default setup;

/** The extension: every worker tagged, the worker at `slow.index` spinning `slow.busyMs` ms a request. */
export function labKnobs(slow: { index: number; busyMs: number } | undefined): WorkerExtension {
  return {
    module: fileURLToPath(import.meta.url),
    data: (index): Knobs => ({ tag: true, busyMs: slow !== undefined && slow.index === index ? slow.busyMs : 0 }),
  };
}
