// The application the soak's handler variants serve (`etlt serve --app scripts/soak/app.mjs`):
// a streamed download (an async generator, chunked, or as is under a Content-Length the
// handler gives), server-sent events, and an upload read with req.stream() into a SHA-256;
// every other target gets the fixed body, so wrk, ab and the probe check it byte for byte.
// What each route must answer is computed by the same functions the clients import, so a
// client knows every byte it is due. It imports nothing of etlt: each worker imports it.
import { createHash } from 'node:crypto';

/** The app reads request bodies as they arrive (etlt's `requestBody: 'stream'`). */
export const requestBody = 'stream';

const LINE = 'etlt soak: every byte of this body is checked by the clients that fetch it.\n';
/** The fixed body: 2 KiB of text, so a wrong byte shows. */
export const FIXED_BODY = Buffer.from(LINE.repeat(Math.ceil(2048 / LINE.length)).slice(0, 2048));

/** The streamed download's bytes repeat every PERIOD bytes: a prime, so no chunk size lines up with it. */
const PERIOD = 65_521;
/** Two periods, so that any chunk up to PERIOD bytes long is a view of it, allocating nothing. */
const TWICE = (() => {
  const out = Buffer.alloc(2 * PERIOD + 32);
  for (let i = 0; i * 32 < PERIOD; i++)
    createHash('sha256')
      .update(`etlt-soak-${i}`)
      .digest()
      .copy(out, i * 32);
  out.copy(out, PERIOD, 0, PERIOD);
  return out.subarray(0, 2 * PERIOD);
})();
const PATTERN = TWICE.subarray(0, PERIOD);

/** The `n` bytes /stream/n answers, from `offset`. */
export function streamBytes(n, offset = 0) {
  const out = Buffer.alloc(n);
  for (let at = 0; at < n;) {
    const from = (offset + at) % PERIOD;
    at += PATTERN.copy(out, at, from, Math.min(PERIOD, from + n - at));
  }
  return out;
}

/** The text /events/k answers: k server-sent events. */
export function eventsText(k) {
  let s = '';
  for (let i = 0; i < k; i++) s += eventText(i);
  return s;
}

const eventText = (i) => `id: ${i}\ndata: {"event":${i},"pad":"${'e'.repeat(i % 97)}"}\n\n`;

/** What /upload answers for `body`: its length and SHA-256, one line. */
export const uploadAnswer = (bytes, sha256hex) => `${bytes} ${sha256hex}\n`;

/** Chunk sizes of a stream of `n` bytes: drawn from a generator seeded by n, so each size mixes small and large. */
function* chunkSizes(n) {
  let x = (n ^ 0x9e3779b9) >>> 0;
  for (let left = n; left > 0;) {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    // At most 40 KB, under PERIOD: every chunk is a view of TWICE.
    const size = Math.min(left, x % 7 === 0 ? 1 + (x % 61) : 1 + (x % 40_000));
    yield size;
    left -= size;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** The download, chunk by chunk; every few chunks it waits a turn, so chunks cross turns; stops when the client leaves. */
async function* download(n, signal) {
  let offset = 0;
  let i = 0;
  for (const size of chunkSizes(n)) {
    if (signal.aborted) return;
    // Buffers and plain Uint8Arrays both (the events are strings): the server frames each.
    // Views of one buffer the app never writes, so the stream's only garbage is the server's.
    const from = offset % PERIOD;
    yield i % 5 === 4 ? new Uint8Array(TWICE.buffer, TWICE.byteOffset + from, size) : TWICE.subarray(from, from + size);
    offset += size;
    if (++i % 3 === 0) await tick();
  }
}

async function* events(k, signal) {
  for (let i = 0; i < k && !signal.aborted; i++) {
    yield eventText(i);
    await tick();
  }
}

async function upload(req) {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of req.stream()) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  } catch (err) {
    // A body cut short or malformed: the connection closes after this answer.
    return { status: 400, headers: { 'content-type': 'text/plain' }, body: `${err.message}\n` };
  }
  return { headers: { 'content-type': 'text/plain' }, body: uploadAnswer(bytes, hash.digest('hex')) };
}

/** The largest download or event count a target may ask for (the hostile clients ask for the most and leave). */
const MAX_STREAM = 1 << 30;
const MAX_EVENTS = 100_000;

export default function soakApp(req) {
  const [path, query = ''] = req.target.split('?');
  const m = /^\/(stream|events)\/(\d+)$/.exec(path);
  if (m !== null && req.method === 'GET') {
    const n = Number(m[2]);
    if (m[1] === 'stream' && n <= MAX_STREAM) {
      const headers = { 'content-type': 'application/octet-stream' };
      if (query === 'length') headers['content-length'] = String(n);
      return { headers, body: download(n, req.signal) };
    }
    if (m[1] === 'events' && n <= MAX_EVENTS)
      return {
        headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store' },
        body: events(n, req.signal),
      };
    return { status: 404, body: 'too much asked\n' };
  }
  if (path === '/upload' && (req.method === 'POST' || req.method === 'PUT')) return upload(req);
  return { headers: { 'content-type': 'text/plain' }, body: FIXED_BODY };
}
