/**
 * When `etlt serve` should stop: SIGINT, SIGTERM, or (with --stop-on-stdin-eof) the end of
 * standard input. Shared by the single server and the pool of workers, which must install
 * these before printing the start line: whoever reads that line may signal at once.
 */
export function stopRequested(stopOnStdinEof: boolean): Promise<string> {
  return new Promise<string>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (stopOnStdinEof) {
      process.stdin.once('end', () => resolve('end of standard input'));
      process.stdin.once('error', () => resolve('end of standard input'));
      process.stdin.resume();
    }
  });
}
