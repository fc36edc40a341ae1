/**
 * The lab's child processes: a `serve` per run and its load generator, each pinned to its
 * own CPU, each with a stdin pipe it watches so that it exits when the lab is gone (even
 * killed with SIGKILL), and all stopped at once when the run is aborted.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
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

/** Whether the server and the load generator each get a CPU of their own. */
export function canPin(): boolean {
  return availableParallelism() >= 2 && existsSync('/usr/bin/taskset');
}

function pinned(cpu: number, argv: string[]): [string, string[]] {
  if (canPin()) return ['/usr/bin/taskset', ['-c', String(cpu), ...argv]];
  return [argv[0]!, argv.slice(1)];
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

/** The children of one lab run, so that an abort can stop every one of them. */
export class ChildSet {
  readonly #live = new Set<ChildProcess>();

  #spawn(cpu: number, argv: string[], stderr: 'pipe' | 'inherit'): ChildProcess {
    const [cmd, args] = pinned(cpu, argv);
    // stdin is a pipe the child never reads: its EOF tells the child the lab is gone.
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', stderr] });
    this.#live.add(child);
    child.once('exit', () => this.#live.delete(child));
    return child;
  }

  /** Starts `etlt serve` with `argv` on CPU 0; resolves with it and its port once it serves. */
  async startServer(argv: string[]): Promise<{ child: ChildProcess; port: number }> {
    const child = this.#spawn(0, [process.execPath, CLI, 'serve', '--stop-on-stdin-eof', ...argv], 'pipe');
    const lines = createInterface({ input: child.stdout! });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new EtltLabError(`server did not start: ${stderr}`)), START_TIMEOUT_MS);
      lines.on('line', (line) => {
        const m = /serving on http:\/\/[^ ]*:(\d+)\//.exec(line);
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

  /** Runs the load generator with `cfg` on CPU 1; resolves with what it measured. */
  runLoad(cfg: LoadConfig, onProgress: (n: number) => void): Promise<LoadResult> {
    const child = this.#spawn(1, [process.execPath, LOADGEN, JSON.stringify(cfg)], 'inherit');
    const lines = createInterface({ input: child.stdout! });
    return new Promise((resolve, reject) => {
      let result: LoadResult | undefined;
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { progress?: number; result?: LoadResult };
        if (msg.progress !== undefined) onProgress(msg.progress);
        if (msg.result !== undefined) result = msg.result;
      });
      child.once('exit', (code, signal) => {
        if (result) resolve(result);
        else reject(new EtltLabError(`load generator failed (exit ${code ?? signal})`));
      });
    });
  }

  /** Stops every child still running: SIGTERM, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 2000): Promise<void> {
    const live = [...this.#live];
    for (const child of live) child.kill('SIGTERM');
    await Promise.all(live.map((child) => waitExit(child, graceMs)));
  }
}
