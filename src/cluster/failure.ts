/**
 * What the pool says about a worker that failed to start or exited: the error its 'failed'
 * message stands for, and the cause of an exit.
 */
import { EtltAppError, EtltSystemError, EtltWorkerError } from '../errors.js';
import type { FromWorker } from './protocol.js';

/** "exit code 1", "killed by SIGKILL". */
export function cause(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exit code ${code ?? '?'}`;
}

/**
 * The error a worker's 'failed' message stands for: the bind error as the worker saw it
 * (code, errno, syscall, address, and its message, which names the path or address), an
 * application that cannot be served, or an EtltWorkerError with the worker's reason.
 */
export function failure(index: number, msg: Extract<FromWorker, { type: 'failed' }>): Error {
  if (msg.errno !== undefined && msg.syscall !== undefined) {
    const where =
      msg.address === undefined
        ? undefined
        : { address: msg.address, ...(msg.port === undefined ? {} : { port: msg.port }) };
    const err = new EtltSystemError(msg.errno, msg.syscall, undefined, where);
    // The worker's own message: it names what failed ("(root /srv/www)").
    err.message = msg.message;
    return err;
  }
  if (msg.code === 'ERR_ETLT_APP') return new EtltAppError(msg.message);
  return new EtltWorkerError(`worker ${index}: ${msg.message}`);
}
