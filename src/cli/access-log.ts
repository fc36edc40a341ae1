/**
 * `etlt serve --access-log FILE|-`: one line per response in the common log format (as
 * Apache httpd's `common` and nginx's `combined` without its last two fields), written
 * through a stream so that serving never waits for the disk, and never ends for the log's sake.
 */
import { createWriteStream, openSync } from 'node:fs';
import type { AccessEntry } from '../http/access-record.js';
import type { HttpServer } from '../http/server.js';

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

/** Where the lines go: the command's own output (bounded, a reader that left costs lines, not the process) and errors. */
export interface AccessLogIo {
  readonly out: { line(text: string): void };
  readonly err: { line(text: string): void };
}

/**
 * Writes `server`'s access log to `path` ('-': standard output, through `io.out`),
 * appending; returns a function that ends it. A file that cannot be opened throws now,
 * naming the option; one that fails later (a full disk) stops the log, said once on
 * `io.err`, and the server goes on.
 */
export function attachAccessLog(server: HttpServer, path: string, io: AccessLogIo): () => Promise<void> {
  if (path === '-') {
    const line = (e: AccessEntry): void => io.out.line(commonLogLine(e).slice(0, -1));
    server.on('access', line);
    return () => {
      server.off('access', line);
      return Promise.resolve();
    };
  }
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (e) {
    throw new Error(`--access-log ${path}: ${(e as Error).message}`);
  }
  const out = createWriteStream(path, { fd });
  const write = (e: AccessEntry): void => void out.write(commonLogLine(e));
  server.on('access', write);
  out.on('error', (e) => {
    server.off('access', write);
    io.err.line(`etlt: --access-log ${path}: ${e.message}; access logging stopped`);
  });
  return () =>
    new Promise((resolve) => {
      server.off('access', write);
      if (out.destroyed) resolve();
      else out.end(resolve);
    });
}
