/**
 * The parent's side of one worker process: the fork (the shared listener, if any, as fd 4),
 * the start handshake and sending over its IPC channel. What to do when a worker dies, and
 * when to stop one, is the pool's (pool.ts).
 */
import { fork } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtltWorkerError } from '../errors.js';
import { cause, failure } from './failure.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** The worker's entry point, beside this file: a worker is a process of this layer. */
const WORKER_MAIN = join(fileURLToPath(new URL('.', import.meta.url)), 'worker-main.js');

/** Forks a worker, handing it `listenerFd` (at INHERITED_FD) when the workers share a listener. */
export function forkWorker(listenerFd: number | undefined): ChildProcess {
  const stdio: StdioOptions = ['ignore', 'inherit', 'inherit', 'ipc'];
  if (listenerFd !== undefined) stdio.push(listenerFd);
  const child = fork(WORKER_MAIN, [], { stdio, serialization: 'advanced', execArgv: [] });
  // A channel error (the worker gone mid-send) shows as its exit.
  child.on('error', () => {});
  return child;
}

/**
 * Resolves when worker `index` says it serves (`onReady` runs then), and rejects if it fails
 * first: its own 'failed' message, an exit, or no word within `timeoutMs` (it is killed then).
 */
export function untilServing(
  child: ChildProcess,
  index: number,
  timeoutMs: number,
  onReady: () => void,
): Promise<void> {
  let ready = false;
  return new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new EtltWorkerError(`worker ${index} did not start serving`));
    }, timeoutMs);
    const onMessage = (msg: FromWorker) => {
      if (msg.type === 'ready') {
        ready = true;
        onReady();
        clearTimeout(timeout);
        child.off('message', onMessage);
        resolve();
      } else if (msg.type === 'failed') {
        clearTimeout(timeout);
        reject(failure(index, msg));
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code, signal) => {
      clearTimeout(timeout);
      if (!ready) reject(new EtltWorkerError(`worker ${index} exited before serving (${cause(code, signal)})`));
    });
  });
}

/** Sends `msg` to `child` if its channel is open; false if not. Never throws. */
export function sendTo(child: ChildProcess | undefined, msg: ToWorker): boolean {
  if (child?.connected !== true) return false;
  try {
    child.send(msg, (err) => {
      // Gone meanwhile: its exit is handled.
      void err;
    });
    return true;
  } catch {
    return false;
  }
}
