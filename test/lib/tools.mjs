/**
 * External programs the tests drive (curl, ab, wrk), with the bench's parsers of their
 * output, and a program runner that never rejects for a non-zero exit.
 */
import { execFile } from 'node:child_process';

import { abFields, wrkFields } from '../../bench/lib/tools.mjs';
import { HOST } from './bytes.mjs';

/**
 * Runs a program; resolves with { code, signal, stdout, stderr } (stdout a Buffer when
 * `buffer`), never rejects for a non-zero exit. Killed after `timeout` ms.
 */
export function run(file, args, { timeout = 15_000, buffer = false, env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: 64 << 20,
        encoding: buffer ? 'buffer' : 'utf8',
        env: env ?? process.env,
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number' && !err.killed && err.signal == null) {
          reject(err);
          return;
        }
        resolve({
          code: err ? (err.code ?? null) : 0,
          signal: err?.signal ?? null,
          killed: !!err?.killed,
          stdout,
          stderr: String(stderr),
        });
      },
    );
  });
}

/** curl as an HTTP/1.0 client: stdout is the head as received (-D -) then the body. */
export function curl(port, path = '/') {
  return run(
    'curl',
    ['-s', '-S', '-0', '--noproxy', '*', '--max-time', '5', '-D', '-', '-o', '-', `http://${HOST}:${port}${path}`],
    {
      buffer: true,
    },
  );
}

/** ApacheBench (HTTP/1.0); returns its output and the parsed counts (NaN when not printed). */
export async function ab(port, { n, c, timeout = 30_000, extra = [] }) {
  const r = await run(
    'ab',
    ['-q', '-r', '-s', '5', '-n', String(n), '-c', String(c), ...extra, `http://${HOST}:${port}/`],
    {
      timeout,
    },
  );
  const f = abFields(r.stdout);
  return {
    ...r,
    complete: f.complete ?? NaN,
    failed: f.failed ?? NaN,
    non2xx: f.non2xx ?? NaN,
    totalLength: f.transferred ?? NaN,
  };
}

/** wrk; returns its output, the request count and socket errors (0 when not printed). */
export async function wrk(port, args) {
  const r = await run('wrk', [...args, `http://${HOST}:${port}/`], { timeout: 30_000 });
  const f = wrkFields(r.stdout);
  return {
    ...r,
    requests: f.requests ?? NaN,
    errors: f.socketErrors ?? { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: f.non2xx ?? 0,
  };
}
