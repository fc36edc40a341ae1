/**
 * The process's memory as `etlt serve` reports it beside its counters (SIGUSR1, --stats-json):
 * what a soak watches from outside for growth. Reading it costs one small /proc read and no
 * timer, so it is only done when asked.
 */

/** One line: resident set, V8 heap used and reserved, memory outside the heap (bytes). */
export function memoryLine(): string {
  const m = process.memoryUsage();
  return (
    `etlt: memory rss=${m.rss} heap-used=${m.heapUsed} heap-total=${m.heapTotal} ` +
    `external=${m.external} array-buffers=${m.arrayBuffers}`
  );
}
