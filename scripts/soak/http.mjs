// The soak's own honest HTTP/1.1 client: requests written several at a time on one
// persistent connection (pipelined), every response framed by its Content-Length or its
// chunks and checked against what that request must get (status, Content-Range, the exact body).
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
 * contentRange, chunked (true: the response must be chunked; false: it must not) }.
 * `bytes` are written: the head, then `content` (a Buffer) if given, framed by its
 * Content-Length or, with `chunks` (sizes), as a chunked body in pieces of those sizes.
 */
export function spec({
  method = 'GET',
  target,
  headers = {},
  status = 200,
  body,
  contentRange,
  chunked,
  content,
  chunks,
}) {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${HOST}`, 'User-Agent: etlt-soak'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (content !== undefined)
    lines.push(chunks === undefined ? `Content-Length: ${content.length}` : 'Transfer-Encoding: chunked');
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return {
    method,
    target,
    status,
    body,
    sha: sha256(body),
    contentRange,
    chunked,
    bytes: Buffer.concat([head, ...(content === undefined ? [] : framed(content, chunks))]),
  };
}

/** `content` as written: as is, or chunked in pieces of `sizes` (cycled), then the last chunk. */
function framed(content, sizes) {
  if (sizes === undefined) return [content];
  const out = [];
  for (let at = 0, i = 0; at < content.length; i++) {
    const n = Math.min(content.length - at, Math.max(1, sizes[i % sizes.length]));
    out.push(Buffer.from(`${n.toString(16)}\r\n`, 'latin1'), content.subarray(at, at + n), Buffer.from('\r\n'));
    at += n;
  }
  out.push(Buffer.from('0\r\n\r\n'));
  return out;
}

/**
 * A chunked body in `buf` from `at` (RFC 9112 section 7.1, no trailers expected but read):
 * { body, end } once it is all in, null before; throws on a malformed frame.
 */
export function dechunk(buf, at) {
  const parts = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const line = buf.subarray(at, eol).toString('latin1');
    const m = /^([0-9a-fA-F]{1,8})(;.*)?$/.exec(line);
    if (!m) throw new Error(`not a chunk size line: ${JSON.stringify(line.slice(0, 40))}`);
    const n = parseInt(m[1], 16);
    if (n === 0) {
      // Trailer fields, then the empty line.
      let t = eol + 2;
      for (;;) {
        const e = buf.indexOf('\r\n', t);
        if (e < 0) return null;
        if (e === t) return { body: Buffer.concat(parts), end: e + 2 };
        t = e + 2;
      }
    }
    if (buf.length < eol + 2 + n + 2) return null;
    if (buf[eol + 2 + n] !== 0x0d || buf[eol + 3 + n] !== 0x0a) throw new Error('a chunk not followed by CRLF');
    parts.push(buf.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
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
    if (!noBody && headers['transfer-encoding'] !== undefined) {
      if (headers['transfer-encoding'].toLowerCase() !== 'chunked' || headers['content-length'] !== undefined)
        throw new Error(
          `Transfer-Encoding ${headers['transfer-encoding']}, Content-Length ${headers['content-length']}`,
        );
      const got = dechunk(buf, end + 4);
      if (got === null) break;
      responses.push({ status, headers, body: got.body });
      at = got.end;
      continue;
    }
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
  const chunked = got.headers['transfer-encoding'] !== undefined;
  if (want.chunked !== undefined && chunked !== want.chunked)
    return chunked ? 'chunked, want a Content-Length' : `Content-Length ${got.headers['content-length']}, want chunked`;
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
