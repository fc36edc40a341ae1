/**
 * `etlt serve --access-log FILE|-`: one line per response in the common log format (as
 * Apache httpd's `common` and nginx's `combined` without its last two fields). Serving
 * never waits for the log: a file is written through a stream, standard output through the
 * command's printer (the one writer of stdout in its process, so a log line and a printed
 * request never cut into each other).
 *
 * With `--workers N`, each worker formats its lines and sends them, a batch per turn of its
 * loop, to the parent, which alone writes the log (see worker-output.ts). One writer, not N
 * appending with O_APPEND: the same holds for a file, a pipe or a terminal (`-`), where
 * O_APPEND means nothing and a write is only atomic up to PIPE_BUF (4 KiB, less than one
 * line may take: a target may be as long as the head allows), and for a file on NFS, where
 * O_APPEND is not atomic across clients; the parent opens the file once, before any worker
 * starts, so a bad path fails at start.
 */
import { createWriteStream, openSync } from 'node:fs';
import type { AccessEntry } from '../http/access-record.js';
import type { HttpServer } from '../http/server.js';
import type { Printer } from './printer.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `[07/Dec/2026:18:40:01 +0000]`: the common log format's time, in UTC. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  return (
    `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`
  );
}

/** One response as a common log format line: host ident authuser [time] "request" status bytes. */
export function commonLogLine(e: AccessEntry): string {
  const request = e.method === '-' ? '-' : `${e.method} ${e.target} HTTP/${e.version}`;
  // The request line is the client's: a quote or a control byte in it must not forge a field.
  let quoted = '';
  for (const ch of request) {
    const c = ch.charCodeAt(0);
    quoted += c < 0x20 || c === 0x7f || ch === '"' || ch === '\\' ? `\\x${c.toString(16).padStart(2, '0')}` : ch;
  }
  const bytes = e.bytes === 0 ? '-' : String(e.bytes);
  return `${e.remoteAddress || '-'} - - ${clfTime(e.time)} "${quoted}" ${e.status} ${bytes}\n`;
}

/** Where the lines go: `write` takes whole lines; `end` resolves once they are written. */
export interface AccessLog {
  write(lines: string): void;
  end(): Promise<void>;
}

/**
 * Opens the access log: `path` appended to (opened now, so a bad path fails before serving:
 * exit 1), or '-' for `stdout`. A write that fails later (a full disk) is said once on
 * `complain` and the log stops; serving goes on.
 */
export function openAccessLog(path: string, stdout: Printer, complain: (line: string) => void): AccessLog {
  if (path === '-') return { write: (lines) => stdout.write(lines), end: () => Promise.resolve() };
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (e) {
    throw new Error(`--access-log ${path}: ${(e as Error).message}`);
  }
  const out = createWriteStream('', { fd });
  let failed = false;
  out.on('error', (e) => {
    if (!failed) complain(`etlt: --access-log ${path}: ${e.message}; no more lines are logged`);
    failed = true;
  });
  return {
    write: (lines) => {
      if (!failed) out.write(lines);
    },
    end: () =>
      new Promise((resolve) => {
        if (failed) resolve();
        else out.end(resolve);
      }),
  };
}

/** Writes `server`'s responses to `log`; returns a function that stops and ends it. */
export function attachAccessLog(server: HttpServer, log: AccessLog): () => Promise<void> {
  const write = (e: AccessEntry): void => log.write(commonLogLine(e));
  server.on('access', write);
  return () => {
    server.off('access', write);
    return log.end();
  };
}
