/**
 * The lab's child processes: a `serve` per run and its load generator, each pinned to its
 * own CPU, each with a stdin pipe it watches so that it exits when the lab is gone (even
 * killed with SIGKILL), and all stopped at once when the run is aborted.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, truncateSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EtltLabError } from '../errors.js';
import type { LoadConfig, LoadResult } from './loadgen.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CLI = join(here, '..', 'cli', 'main.js');
const LOADGEN = join(here, '..', 'cli', 'loadgen.js');
/** How long a server may take to print its start line. */
const START_TIMEOUT_MS = 10_000;

/**
 * The options every server of the lab starts with, before its own: loopback, a port the
 * kernel picks (`startServer` reads it from the start line), no request lines, its counters
 * written to `statsFile` when it stops, and a short close timeout.
 */
export function labServeArgv(statsFile: string): string[] {
  return ['--host', '127.0.0.1', '--port', '0', '--quiet', '--stats-json', statsFile, '--close-timeout', '1'];
}

/** Options that hold idle and kept-alive connections for the whole run: no timeout or request limit ends one. */
export const HOLD_CONNECTIONS: readonly string[] = [
  '--idle-timeout',
  '600',
  '--keepalive-timeout',
  '600',
  '--max-requests',
  '1000000',
];

/** Whether the server and the load generator each get a CPU of their own. */
export function canPin(): boolean {
  return availableParallelism() >= 2 && existsSync('/usr/bin/taskset');
}

function pinned(cpu: number, argv: string[]): [string, string[]] {
  if (canPin()) return ['/usr/bin/taskset', ['-c', String(cpu), ...argv]];
  return [argv[0]!, argv.slice(1)];
}

/** This process's limit on open files: [soft, hard] (/proc/self/limits). */
export function fileLimit(): [number, number] {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const n = (v: string | undefined) => (v === undefined || v === 'unlimited' ? Infinity : Number(v));
  return [n(m?.[1]), n(m?.[2])];
}

/**
 * Throws an EtltLabError unless a child may have `fds` open files. Only the hard limit
 * matters: every child is a Node process, and Node raises its own soft limit to the hard
 * one at start-up.
 */
export function checkFiles(fds: number, what: string): void {
  const hard = fileLimit()[1];
  if (fds > hard)
    throw new EtltLabError(`${what} needs ${fds} open files per process; the hard limit here is ${hard} (ulimit -Hn)`);
}

/** Resolves once `child` has exited, SIGKILLing it after `ms`. */
export function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** How long a server may take to write its counters after SIGUSR1. */
const SNAPSHOT_TIMEOUT_MS = 5000;

/**
 * The counters of the `etlt serve --stats-json statsFile` running as `child`, now: SIGUSR1
 * makes it write them to its stats file (emptied first, so that an earlier snapshot is not
 * taken for this one). Counters only grow: one snapshot less an earlier one of the same
 * process is what happened in between, and cannot be negative.
 */
export async function snapshotCounters(child: ChildProcess, statsFile: string): Promise<Record<string, number>> {
  truncateSync(statsFile, 0);
  child.kill('SIGUSR1');
  const deadline = Date.now() + SNAPSHOT_TIMEOUT_MS;
  for (;;) {
    try {
      const saved = JSON.parse(readFileSync(statsFile, 'utf8')) as {
        snapshot?: boolean;
        stats?: Record<string, number>;
      };
      if (saved.snapshot === true && saved.stats !== undefined) return saved.stats;
    } catch {
      // Empty, or written half: read again.
    }
    if (child.exitCode !== null || child.signalCode !== null)
      throw new EtltLabError('the server exited before writing its counters');
    if (Date.now() > deadline)
      throw new EtltLabError(`the server wrote no counters within ${SNAPSHOT_TIMEOUT_MS} ms of SIGUSR1`);
    await sleep(2);
  }
}

/** The children of one lab run, so that an abort can stop every one of them. */
export class ChildSet {
  readonly #live = new Set<ChildProcess>();

  #spawn(cpu: number, argv: string[], stderr: 'pipe' | 'inherit', fds = 0): ChildProcess {
    if (fds > 0) checkFiles(fds, 'this workload');
    const [cmd, args] = pinned(cpu, argv);
    // stdin is a pipe the child never reads: its EOF tells the child the lab is gone.
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', stderr] });
    this.#live.add(child);
    child.once('exit', () => this.#live.delete(child));
    return child;
  }

  /**
   * Starts `etlt serve` with `argv` on CPU 0, allowed `fds` open files (0: as the lab);
   * resolves with it and its port once it serves.
   */
  async startServer(argv: string[], fds = 0): Promise<{ child: ChildProcess; port: number }> {
    const child = this.#spawn(0, [process.execPath, CLI, 'serve', '--stop-on-stdin-eof', ...argv], 'pipe', fds);
    const lines = createInterface({ input: child.stdout! });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new EtltLabError(`server did not start: ${stderr}`)), START_TIMEOUT_MS);
      lines.on('line', (line) => {
        const m = /serving (?:the files of .+ )?on http:\/\/[^ ]*:(\d+)\//.exec(line);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(t);
        reject(new EtltLabError(`server exited (${code ?? signal}) before serving: ${stderr}`));
      });
    });
    return { child, port };
  }

  /**
   * Starts the load generator with `cfg` on CPU 1, allowed `fds` open files. `result`
   * resolves when it reports (`hooks.busy` is told when the measured load is about to begin;
   * with `cfg.gated` the load waits until the promise `busy` returns has settled; `hooks.warm`
   * is told when a warm-up has ended);
   * the idle connections it holds stay open until `stop` ends its stdin, and it exits.
   */
  startLoad(
    cfg: LoadConfig,
    hooks: { progress: (n: number) => void; busy?: () => void | Promise<void>; warm?: () => void },
    fds = 0,
  ): { result: Promise<LoadResult>; stop: () => Promise<void> } {
    const child = this.#spawn(1, [process.execPath, LOADGEN, JSON.stringify(cfg)], 'inherit', fds);
    const lines = createInterface({ input: child.stdout! });
    const result = new Promise<LoadResult>((resolve, reject) => {
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { progress?: number; busy?: boolean; warm?: boolean; result?: LoadResult };
        if (msg.progress !== undefined) hooks.progress(msg.progress);
        if (msg.warm === true) hooks.warm?.();
        if (msg.busy === true) {
          void Promise.resolve()
            .then(() => hooks.busy?.())
            .then(
              () => cfg.gated === true && child.stdin?.write('go\n'),
              (e: unknown) => reject(e instanceof Error ? e : new EtltLabError(String(e))),
            );
        }
        if (msg.result !== undefined) resolve(msg.result);
      });
      child.once('close', (code, signal) => reject(new EtltLabError(`load generator failed (exit ${code ?? signal})`)));
    });
    // The exit after the result is no failure.
    result.catch(() => {});
    const stop = async () => {
      child.stdin?.end();
      await waitExit(child, 2000);
    };
    return { result, stop };
  }

  /** Stops every child still running: SIGTERM, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 2000): Promise<void> {
    const live = [...this.#live];
    for (const child of live) child.kill('SIGTERM');
    await Promise.all(live.map((child) => waitExit(child, graceMs)));
  }
}
