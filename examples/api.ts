/**
 * A small JSON API on etlt's HttpServer handler, with its static folder on the same port:
 *
 *   GET  /api/items         the items, as JSON
 *   POST /api/items         adds one: a JSON object with a string "name" (400 with the reason otherwise)
 *   GET  /api/events        server-sent events: a tick every 200 ms, five of them, stopped early if the client leaves
 *   POST /api/upload        any body, streamed (never held whole) into a SHA-256: { bytes, sha256 }
 *   GET  /                  the files of examples/public (files first; the handler answers the rest)
 *
 * Run: `npm run example:api` (or `node dist/examples/api.js [port] [mode]`, default 8080 et), then
 *   curl -s localhost:8080/api/items
 *   curl -s -d '{"name":"pear"}' localhost:8080/api/items
 *   curl -sN localhost:8080/api/events
 *   curl -s -T big.iso localhost:8080/api/upload
 * Ctrl-C stops it gracefully.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { HttpServer } from 'etlt';
import type { HttpRequest, HttpResponse, Mode } from 'etlt';

const port = Number(process.argv[2] ?? 8080);
const mode = (process.argv[3] ?? 'et') as Mode;
/** The static folder: examples/public beside this file's source. */
const root = fileURLToPath(new URL('../../examples/public', import.meta.url));
/** The largest JSON body read into memory: the body is streamed, so this limit is ours to set. */
const MAX_JSON = 64 * 1024;

const items: { id: number; name: string }[] = [{ id: 1, name: 'apple' }];

function json(status: number, value: unknown): HttpResponse {
  return { status, headers: { 'Content-Type': 'application/json' }, body: `${JSON.stringify(value)}\n` };
}

/** The body as text, refused past `max` bytes (the connection is then closed with the answer). */
async function text(req: HttpRequest, max: number): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req.stream()) {
    n += chunk.length;
    if (n > max) return undefined;
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString();
}

async function addItem(req: HttpRequest): Promise<HttpResponse> {
  const body = await text(req, MAX_JSON);
  if (body === undefined) return json(413, { error: `the body is larger than ${MAX_JSON} bytes` });
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return json(400, { error: `the body is not JSON: ${(err as Error).message}` });
  }
  const name = (value as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || name === '') return json(400, { error: 'expected an object with a string "name"' });
  const item = { id: items.length + 1, name };
  items.push(item);
  return json(201, item);
}

/** Five ticks, 200 ms apart; req.signal ends the wait at once when the client leaves. */
async function* ticks(signal: AbortSignal): AsyncGenerator<string> {
  for (let i = 1; i <= 5 && !signal.aborted; i++) {
    yield `data: ${JSON.stringify({ tick: i, at: new Date().toISOString() })}\n\n`;
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 200);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true });
    });
  }
}

async function upload(req: HttpRequest): Promise<HttpResponse> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of req.stream()) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return json(200, { bytes, sha256: hash.digest('hex') });
}

async function api(req: HttpRequest): Promise<HttpResponse> {
  const path = req.target.split('?')[0];
  try {
    if (path === '/api/items' && req.method === 'GET') return json(200, items);
    if (path === '/api/items' && req.method === 'POST') return await addItem(req);
    if (path === '/api/events' && req.method === 'GET')
      return { headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' }, body: ticks(req.signal) };
    if (path === '/api/upload' && (req.method === 'POST' || req.method === 'PUT')) return await upload(req);
    return json(404, { error: `no route for ${req.method} ${path}` });
  } catch (err) {
    // A body cut short or malformed is thrown from req.stream(): the client is gone or broken.
    return json(400, { error: (err as Error).message });
  }
}

const server = new HttpServer({ mode, host: '127.0.0.1', port, root, handler: api, requestBody: 'stream' });
server.on('handlerError', (err) => console.error('handler error:', err));
const address = server.listen();
console.log(`api: serving on http://${address.host}:${address.port}/ (mode ${server.mode})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => console.log(`api: ${signal}: closed`));
  });
}
