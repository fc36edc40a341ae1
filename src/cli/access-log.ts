/**
 * `etlt serve --access-log FILE|-`: one line per response in the common log format (as
 * Apache httpd's `common` and nginx's `combined` without its last two fields), written
 * through a stream so that serving never waits for the disk.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { AccessEntry } from '../http/access-record.js';
import type { HttpServer } from '../http/server.js';
import { EtltUsageError } from '../errors.js';

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

/** Writes `server`'s access log to `path` ('-': standard output), appending; returns a function that ends it. */
export function attachAccessLog(server: HttpServer, path: string): () => Promise<void> {
  let out: Writable;
  if (path === '-') out = process.stdout;
  else {
    try {
      out = createWriteStream(path, { flags: 'a' });
    } catch (e) {
      throw new EtltUsageError(`--access-log ${path}: ${(e as Error).message}`);
    }
  }
  const write = (e: AccessEntry): void => void out.write(commonLogLine(e));
  server.on('access', write);
  return () =>
    new Promise((resolve) => {
      server.off('access', write);
      if (out === process.stdout) resolve();
      else out.end(resolve);
    });
}
