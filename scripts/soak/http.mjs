// The soak's own honest HTTP/1.1 client: requests written several at a time on one
// persistent connection (pipelined), every response framed by its Content-Length and
// checked against what that request must get (status, Content-Range, the exact body).
// A response that says `Connection: close` ends the connection; the requests behind it
// were never answered, and are sent again on a new one (as browsers do with idempotent
// requests), counted as `resent`, never as failures.
import { createHash } from 'node:crypto';
import net from 'node:net';

import { HOST } from './server.mjs';

/** Hex SHA-256. */
export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/**
 * One request and what must come back: { method, target, headers, status, body (Buffer:
 * the exact bytes, or for HEAD the bytes a GET would get, whose length is checked),
 * contentRange }. `bytes` are written.
 */
export function spec({ method = 'GET', target, headers = {}, status = 200, body, contentRange }) {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${HOST}`, 'User-Agent: etlt-soak'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return {
    method,
    target,
    status,
    body,
    sha: sha256(body),
    contentRange,
    bytes: Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'),
  };
}

/**
 * Reads as many complete responses from `buf` as `pending` (the specs sent, in order)
 * allows: { responses: [{ status, headers, body }], used } (bytes consumed). Throws on a
 * response that cannot be framed.
 */
export function parseResponses(buf, pending) {
  const responses = [];
  let at = 0;
  while (responses.length < pending.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3}) /.exec(lines[0] + ' ');
    if (!m) throw new Error(`not a status line: ${JSON.stringify(lines[0].slice(0, 80))}`);
    const headers = {};
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(':');
      if (colon > 0) headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
    }
    const status = Number(m[1]);
    const noBody = pending[responses.length].method === 'HEAD' || status === 204 || status === 304;
    const length = noBody ? 0 : Number(headers['content-length']);
    if (!Number.isInteger(length)) throw new Error(`status ${status} without a Content-Length`);
    if (buf.length < end + 4 + length) break;
    responses.push({ status, headers, body: buf.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return { responses, used: at };
}

/** Why `got` is not what `want` must get, or null when it is. */
export function mismatch(want, got) {
  if (got.status !== want.status) return `status ${got.status}, want ${want.status}`;
  if (want.contentRange !== undefined && got.headers['content-range'] !== want.contentRange)
    return `Content-Range ${got.headers['content-range']}, want ${want.contentRange}`;
  if (want.method === 'HEAD') {
    const n = Number(got.headers['content-length']);
    return n === want.body.length ? null : `HEAD Content-Length ${n}, want ${want.body.length}`;
  }
  if (got.body.length !== want.body.length) return `${got.body.length} body bytes, want ${want.body.length}`;
  return sha256(got.body) === want.sha ? null : 'body bytes differ (sha256)';
}

/**
 * A persistent connection that sends batches of requests and resolves each batch with what
 * came back: { responses, closed } where `closed` says the connection ended (after a
 * `Connection: close`, or unexpectedly) before every request was answered.
 */
export class Pipeline {
  constructor(port) {
    this.port = port;
    this.sock = null;
    this.connections = 0;
  }

  #open() {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: HOST, port: this.port, noDelay: true });
      s.once('connect', () => {
        s.removeListener('error', reject);
        // Errors between batches (a reset while idle) are seen by the next batch as a close.
        s.on('error', () => {});
        resolve(s);
      });
      s.once('error', reject);
    });
  }

  /** Sends `specs` in one write; resolves within `timeoutMs` or rejects. */
  async batch(specs, timeoutMs) {
    this.reused = this.sock !== null && !this.sock.destroyed;
    if (!this.reused) {
      this.sock = await this.#open();
      this.connections++;
    }
    const sock = this.sock;
    return new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const responses = [];
      const finish = (err, closed) => {
        clearTimeout(timer);
        sock.removeListener('data', onData);
        sock.removeListener('close', onClose);
        sock.removeListener('error', onError);
        if (err) {
          sock.destroy();
          this.sock = null;
          reject(err);
        } else resolve({ responses, closed });
      };
      const onData = (d) => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
        let parsed;
        try {
          parsed = parseResponses(buf, specs.slice(responses.length));
        } catch (e) {
          finish(e);
          return;
        }
        responses.push(...parsed.responses);
        buf = buf.subarray(parsed.used);
        const last = responses.at(-1);
        if (responses.length === specs.length || last?.headers.connection?.toLowerCase() === 'close') {
          if (responses.length < specs.length || last?.headers.connection?.toLowerCase() === 'close') {
            sock.destroy();
            this.sock = null;
          }
          finish(null, responses.length < specs.length);
        }
      };
      let error = null;
      const onError = (e) => {
        error = e;
      };
      const onClose = () => {
        this.sock = null;
        if (responses.length > 0 && responses.at(-1).headers.connection?.toLowerCase() === 'close') finish(null, true);
        else finish(error ?? new Error(`connection closed after ${responses.length} of ${specs.length} responses`));
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(`${specs.length - responses.length} of ${specs.length} responses missing after ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      sock.on('data', onData);
      sock.on('close', onClose);
      sock.on('error', onError);
      sock.write(Buffer.concat(specs.map((s) => s.bytes)));
    });
  }

  close() {
    this.sock?.destroy();
    this.sock = null;
  }
}
