/**
 * The two parsers of the differential test, each behind an echo server on loopback, and a
 * raw client that sends a case's bytes on a fresh connection and reads what comes back.
 *
 * Both servers answer an accepted request with 200 and an echo of what they parsed: method,
 * target, version, header fields (names lower-cased, repeated fields joined as etlt joins
 * them: ', ', Cookie '; ') and the body in base64. The echo rides in an `x-echo` header
 * (base64 of the JSON) as well as in the body, so that a HEAD request, whose response has
 * no content, is compared too.
 *
 * The client half-closes after its bytes: each server then answers what is complete and
 * closes, so a case costs a round trip, not a timeout; the deadline only bounds a hang.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';

import { HttpServer } from 'etlt';

export const HOST = '127.0.0.1';
/** Longest a case may take on one server: the connection is destroyed then. */
export const DEADLINE_MS = 1000;

function echoOf(method, target, version, pairs, body) {
  const headers = Object.create(null);
  for (const [name, value] of pairs) {
    const before = headers[name];
    headers[name] = before === undefined ? value : `${before}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return JSON.stringify({ method, target, version, headers, body: body.toString('base64') });
}

/** etlt's HttpServer, its handler echoing the request it was handed. */
export function startEtlt() {
  const server = new HttpServer({
    host: HOST,
    port: 0,
    handler: (req) => {
      const echo = echoOf(req.method, req.target, req.version, Object.entries(req.headers), req.body);
      return { status: 200, headers: { 'x-echo': Buffer.from(echo).toString('base64') }, body: echo };
    },
  });
  const { port } = server.listen();
  return { name: 'etlt', port, close: () => server.close(1000) };
}

/**
 * Node's own server (llhttp), defaults kept (requireHostHeader, the strict parser, 16 KiB of
 * head). `clientErrors` maps a client's local port to the llhttp error code its bytes got.
 */
export async function startNode() {
  const clientErrors = new Map();
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
      const pairs = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        pairs.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
      const echo = echoOf(req.method, req.url, req.httpVersion, pairs, Buffer.concat(parts));
      res.writeHead(200, { 'x-echo': Buffer.from(echo).toString('base64'), 'content-length': Buffer.byteLength(echo) });
      res.end(echo);
    });
  });
  // What a client's FIN does, not how bytes parse: answer the requests already in, then
  // close (as etlt does, RFC 9112 section 9.6), instead of ending the socket at once.
  server.httpAllowHalfOpen = true;
  // Node's default clientError answer, with the code recorded for the report; except that
  // a response already under way (to a request llhttp parsed before the bad bytes) is let
  // finish and the connection closes after it, as etlt answers what it parsed before a
  // refusal: the test compares what the parsers accepted, not how Node's default handler
  // cuts in.
  server.on('clientError', (err, socket) => {
    clientErrors.set(socket.remotePort, err.code);
    const res = socket._httpMessage;
    if (res && !res.finished && res.req.complete) {
      res._last = true;
      res.shouldKeepAlive = false;
    } else if (socket.writable && !res?._headerSent) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  return {
    name: 'llhttp',
    port: server.address().port,
    clientErrors,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Sends `bytes` to `port` on a fresh connection, half-closes, and reads until the server
 * closes or the deadline. Resolves { data, localPort, timedOut }; the socket is destroyed.
 */
export function exchange(port, bytes) {
  return new Promise((resolve) => {
    const parts = [];
    let localPort = 0;
    let timedOut = false;
    const socket = net.connect({ host: HOST, port });
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, DEADLINE_MS);
    socket.on('connect', () => {
      localPort = socket.localPort;
      socket.end(bytes);
    });
    socket.on('data', (d) => parts.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(parts), localPort, timedOut });
    });
  });
}

/**
 * The responses in `data`, 1xx skipped, up to and including the first that is not a 200
 * echo (after a refusal both servers close: what follows is not compared). Each is
 * { status, echo } (echo: the parsed JSON, or null).
 */
export function responses(data) {
  const out = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0) {
      out.push({ status: -1, echo: null, note: `truncated: ${JSON.stringify(data.toString('latin1', at, at + 60))}` });
      break;
    }
    const head = data.toString('latin1', at, end);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (m === null) {
      out.push({ status: -1, echo: null, note: `not a response: ${JSON.stringify(head.slice(0, 60))}` });
      break;
    }
    const status = Number(m[1]);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    const echoField = /\r\nx-echo: *([A-Za-z0-9+/=]+)/i.exec(head);
    at = end + 4;
    if (status >= 100 && status < 200) continue;
    const echo = echoField === null ? null : JSON.parse(Buffer.from(echoField[1], 'base64').toString());
    out.push({ status, echo });
    if (status !== 200 || echo === null) break;
    // A response to HEAD has no content, whatever its Content-Length says.
    if (echo.method !== 'HEAD' && length !== null) at += Number(length[1]);
  }
  return out;
}

/**
 * What a server made of a case: `accepted`, the echoes of the requests it answered with 200,
 * in order; `refusal`, how it ended when not all well: the status it refused with, 'closed'
 * (closed without a response to the bytes after the last echo: seen only when none was
 * accepted), or 'timeout'.
 */
export async function outcome(peer, bytes) {
  const r = await exchange(peer.port, bytes);
  const list = responses(r.data);
  const accepted = list.filter((x) => x.status === 200 && x.echo !== null).map((x) => x.echo);
  const last = list[list.length - 1];
  let refusal = null;
  if (last !== undefined && (last.status !== 200 || last.echo === null)) refusal = last.status;
  else if (r.timedOut) refusal = 'timeout';
  else if (accepted.length === 0) refusal = 'closed';
  const code = peer.clientErrors?.get(r.localPort);
  peer.clientErrors?.delete(r.localPort);
  return { accepted, refusal, code, note: last?.note };
}
