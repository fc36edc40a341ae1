/**
 * The process's memory as `etlt serve` reports it beside its counters (SIGUSR1, --stats-json):
 * what a soak watches from outside for growth. Reading it costs no timer, so it is only
 * done when asked; and it must work while the process is out of fds, which is when it is
 * asked most: process.memoryUsage() opens /proc/self/stat for the RSS and throws EMFILE
 * then, so the heap comes from V8 (no fd) and a failed RSS read is reported as -1.
 */
import { getHeapStatistics } from 'node:v8';

/** Bytes: resident set (-1 when it cannot be read), V8 heap used and reserved, memory outside the heap. */
export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** The figures now; never throws. */
export function memoryFigures(): MemoryFigures {
  let rss = -1;
  try {
    rss = process.memoryUsage.rss();
  } catch {
    // EMFILE or ENFILE: no fd to read /proc with.
  }
  const h = getHeapStatistics();
  return { rss, heapUsed: h.used_heap_size, heapTotal: h.total_heap_size, external: h.external_memory };
}

/** The figures as one line of `key=bytes`. */
export function memoryLine(): string {
  const m = memoryFigures();
  return `etlt: memory rss=${m.rss} heap-used=${m.heapUsed} heap-total=${m.heapTotal} external=${m.external}`;
}
