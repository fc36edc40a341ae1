/**
 * The one serving lifecycle of `etlt serve`, for one server in this process or a pool of
 * workers: signal handlers before the start line, SIGUSR1's counters, a graceful stop on
 * the first SIGINT/SIGTERM (or the end of stdin), a cut-off on the second, the final
 * counters and `--stats-json`, and the exit code (0 stopped gracefully, 130 cut off, 1
 * failed while stopping).
 */
import { fstatSync, ftruncateSync, writeSync } from 'node:fs';
import type { Printer } from './printer.js';
import { stopRequested } from './stop-signals.js';

/** What the lifecycle serves. */
export interface Served {
  /** Starts serving; resolves with the start line. */
  start(): Promise<string>;
  /** The counters now, for SIGUSR1. */
  statsNow(): Promise<string>;
  /**
   * What SIGUSR1 writes to `--stats-json`, if anything: the lab's snapshot (counters are
   * monotonic, so a later snapshot less this one cannot be negative).
   */
  snapshotJson?(): unknown;
  /** What the first stop signal line says after `etlt: SIGTERM: `. */
  stopping(deadlineMs: number): string;
  /** What a second signal line says after `etlt: SIGINT again: `. */
  readonly again: string;
  /**
   * Stops, letting responses in flight finish within `deadlineMs` (a second call with 0
   * cuts them off); resolves once stopped, with the final counters and what `--stats-json` gets.
   */
  stop(deadlineMs: number): Promise<{ text: string; json: unknown; cutOff: boolean }>;
}

/** How the lifecycle runs. */
export interface LifecycleIo {
  out: Printer;
  err: Printer;
  /** `--stats-json`'s fd, or -1, and its path (for messages). */
  statsFd: number;
  statsPath?: string | undefined;
  usr1: { handler: () => void };
  closeTimeoutMs: number;
  stopOnStdinEof: boolean;
  /** `--access-log -`: its lines share `out` with the printed requests. */
  accessLogOnStdout: boolean;
}

/** Serves until a stop signal and the stop that follows; resolves with the exit code. */
export async function serveUntilStopped(served: Served, io: LifecycleIo): Promise<number> {
  const { out, err } = io;
  // Signal handlers go in before the start line: whoever reads that line may signal at once.
  const signals = stopRequested(io.stopOnStdinEof);
  out.line(await served.start());
  io.usr1.handler = () => {
    // A signal's handler: a failed write (a full disk, a reader gone) is said, never fatal.
    if (io.statsFd >= 0 && served.snapshotJson) writeStats(io, JSON.stringify(served.snapshotJson()));
    void served.statsNow().then((text) => err.line(text));
  };
  const first = await signals;
  let forced = false;
  const again = (signal: string) => {
    err.line(`etlt: ${signal} again: ${served.again}`);
    forced = true;
    void served.stop(0);
  };
  process.on('SIGINT', again);
  process.on('SIGTERM', again);
  err.line(`etlt: ${first}: ${served.stopping(io.closeTimeoutMs)}`);
  let code: number;
  try {
    const end = await served.stop(io.closeTimeoutMs);
    code = forced || end.cutOff ? 130 : 0;
    err.line(end.text);
    if (io.statsFd >= 0 && !writeStats(io, JSON.stringify(end.json))) code = 1;
  } catch (e) {
    err.line(`etlt: ${(e as Error).message}`);
    code = 1;
  }
  io.usr1.handler = () => {};
  if (io.stopOnStdinEof) process.stdin.destroy();
  if (out.dropped > 0) {
    const what = io.accessLogOnStdout ? 'request and access log' : 'request';
    err.line(`etlt: ${out.dropped} ${what} lines were dropped: stdout was too slow`);
  }
  return code;
}

/** Writes a `--stats-json` record; false (and a line on stderr naming the option) when that fails. */
function writeStats(io: LifecycleIo, text: string): boolean {
  try {
    rewrite(io.statsFd, text);
    return true;
  } catch (e) {
    io.err.line(`etlt: --stats-json ${io.statsPath ?? `(fd ${io.statsFd})`}: ${(e as Error).message}`);
    return false;
  }
}

/**
 * Replaces the whole content of the file open as `fd` by `text`; what has no content to
 * replace (a pipe, a terminal, a device: `--stats-json /dev/stdout`) gets it as a line.
 */
function rewrite(fd: number, text: string): void {
  if (fstatSync(fd).isFile()) {
    ftruncateSync(fd, 0);
    writeSync(fd, text, 0);
  } else writeSync(fd, `${text}\n`);
}
