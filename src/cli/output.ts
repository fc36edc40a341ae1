/**
 * Output that must arrive in full: a report on stdout, a JSON file. Unlike the Printer's
 * request lines, nothing here is ever dropped: a slow reader is waited for (without
 * blocking the event loop, so signals are still handled), and a reader that went away is
 * an error the command exits non-zero for.
 */
import { writeSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { EtltOutputError } from '../errors.js';

/** Longest pause between retries while a pipe is full. */
const MAX_BACKOFF_MS = 50;

/**
 * Writes all of `data` to `fd`, waiting while a non-blocking pipe is full. Rejects with an
 * EtltOutputError naming `what` when the fd fails (EPIPE: the reader is gone) or `signal` aborts.
 */
export async function writeFully(
  fd: number,
  data: string | Uint8Array,
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let offset = 0;
  let backoff = 1;
  while (offset < buf.length) {
    if (signal?.aborted) throw new EtltOutputError(`${what}: stopped after ${offset} of ${buf.length} bytes`);
    try {
      offset += writeSync(fd, buf, offset, buf.length - offset);
      backoff = 1;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EINTR') {
        throw new EtltOutputError(`${what}: ${offset} of ${buf.length} bytes written, then ${code ?? String(e)}`);
      }
      await delay(backoff);
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    }
  }
}
