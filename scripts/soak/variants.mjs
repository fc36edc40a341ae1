// The server variants the soak runs, as data: the flags of each, the capability it needs
// from this build of `etlt serve` (probed in its --help), and its honest traffic: what
// wrk, ab, our pipelined clients, the downloads, the streams both ways, curl and the probe
// ask for, and the exact bytes each must get back. The handler variants serve the soak app
// (app.mjs: the fixed body, streamed downloads, events, uploads); root serves files. Files
// are generated, seeded, under the soak's work directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { seeded } from '../../dist/src/lab/persistent.js';
import { FIXED_BODY, eventsText, streamBytes, uploadAnswer } from './app.mjs';
import { sha256, spec } from './http.mjs';
import { CLI } from './server.mjs';

function bytes(n, seed) {
  const rand = seeded(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

const pick = (rand, items) => items[Math.floor(rand() * items.length)];

/** The fixed body every plain variant serves (--body), and the soak app's default route. */
function fixedBody(dir) {
  const file = path.join(dir, 'body.txt');
  writeFileSync(file, FIXED_BODY);
  return { body: FIXED_BODY, file };
}

/** Honest traffic against a server that answers every target with `body`. */
function fixedTraffic(dir) {
  const { body, file } = fixedBody(dir);
  const ok = (o) => spec({ body, ...o });
  return {
    wrk: { target: '/', file },
    ab: { target: '/', length: body.length },
    probe: ok({ target: '/probe' }),
    pipelined: (rand) => {
      const r = rand();
      if (r < 0.6) return ok({ target: `/p/${Math.floor(rand() * 1e6)}` });
      if (r < 0.8) return ok({ method: 'HEAD', target: '/head' });
      // A request body the fixed response ignores, read and framed all the same.
      const sent = 'v'.repeat(Math.floor(rand() * 200));
      return {
        ...ok({ method: 'POST', target: '/post' }),
        bytes: Buffer.from(`POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${sent.length}\r\n\r\n${sent}`),
      };
    },
    curl: () => ({ target: '/curl', status: 200, body }),
  };
}

/** The soak app (scripts/soak/app.mjs). */
export const APP = fileURLToPath(new URL('app.mjs', import.meta.url));

/** A request to the soak app's streaming routes and what it must get: a download, events, an upload. */
function streamRequest(rand, maxBytes) {
  const r = rand();
  if (r < 0.4) {
    const n = Math.floor(rand() ** 2 * maxBytes);
    // Under the handler's Content-Length the stream goes out as is; otherwise chunked.
    const length = rand() < 0.25;
    return spec({ target: `/stream/${n}${length ? '?length' : ''}`, body: streamBytes(n), chunked: !length });
  }
  if (r < 0.6) {
    const k = Math.floor(rand() * 40);
    return spec({ target: `/events/${k}`, body: Buffer.from(eventsText(k)), chunked: true });
  }
  const n = Math.floor(rand() ** 2 * maxBytes);
  const content = streamBytes(n, Math.floor(rand() * 1e6));
  // Half of them chunked, in pieces from one byte up.
  const chunks = rand() < 0.5 ? undefined : [1 + Math.floor(rand() * 9), 1 + Math.floor(rand() * 70_000)];
  return spec({
    method: rand() < 0.8 ? 'POST' : 'PUT',
    target: '/upload',
    body: Buffer.from(uploadAnswer(n, sha256(content))),
    content,
    chunks,
  });
}

/** Files curl uploads, by size: from one byte to past the 64 KiB the server reads ahead of the handler. */
const UPLOADS = [1, 70_000, 300_000];

/** Honest traffic against the soak app: the fixed body's clients, plus streams both ways. */
function appTraffic(dir) {
  const fixed = fixedTraffic(dir);
  const uploads = UPLOADS.map((n, i) => {
    const file = path.join(dir, `upload-${n}.bin`);
    const content = bytes(n, 2000 + i);
    writeFileSync(file, content);
    return { file, answer: Buffer.from(uploadAnswer(n, sha256(content))) };
  });
  return {
    ...fixed,
    app: true,
    streamed: (rand) => streamRequest(rand, 256 << 10),
    curl: (rand) => {
      const r = rand();
      if (r < 0.3) return fixed.curl(rand);
      if (r < 0.6) {
        const n = Math.floor(rand() * (256 << 10));
        return { target: `/stream/${n}`, status: 200, body: streamBytes(n) };
      }
      const u = pick(rand, uploads);
      return { target: '/upload', status: 200, body: u.answer, upload: u.file, chunked: rand() < 0.5 };
    },
    streams: true,
  };
}

/** The tree `--root` serves: nested directories, files from empty to 8 MiB. */
const TREE = [
  ['index.html', 1500],
  ['empty.txt', 0],
  ['small/a.txt', 100],
  ['small/b.css', 2048],
  ['small/c.js', 4096],
  ['media/img-64k.bin', 64 << 10],
  ['media/deep/nested/one-mib.bin', 1 << 20],
  ['big/eight-mib.bin', 8 << 20],
];

function makeTree(dir) {
  const files = new Map();
  TREE.forEach(([name, size], i) => {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    const b = bytes(size, 1000 + i);
    writeFileSync(file, b);
    files.set(`/${name}`, b);
  });
  return files;
}

/** A GET of `target` with a random single range (plain, suffix or open) or none. */
function download(rand, target, body, rangeShare) {
  const size = body.length;
  if (size === 0 || rand() >= rangeShare) return spec({ target, body });
  const kind = rand();
  let start;
  let end;
  let header;
  if (kind < 0.5) {
    start = Math.floor(rand() * size);
    end = Math.min(size - 1, start + Math.floor(rand() * size));
    header = `bytes=${start}-${end}`;
  } else if (kind < 0.75) {
    const n = 1 + Math.floor(rand() * size);
    start = size - n;
    end = size - 1;
    header = `bytes=-${n}`;
  } else {
    start = Math.floor(rand() * size);
    end = size - 1;
    header = `bytes=${start}-`;
  }
  return spec({
    target,
    headers: { Range: header },
    status: 206,
    body: body.subarray(start, end + 1),
    contentRange: `bytes ${start}-${end}/${size}`,
  });
}

function rootTraffic(treeDir) {
  const files = makeTree(treeDir);
  const small = ['/index.html', '/empty.txt', '/small/a.txt', '/small/b.css', '/small/c.js'];
  const large = ['/media/img-64k.bin', '/media/deep/nested/one-mib.bin', '/big/eight-mib.bin'];
  return {
    wrk: { target: '/small/b.css', file: path.join(treeDir, 'small/b.css') },
    ab: { target: '/small/a.txt', length: 100 },
    probe: spec({ target: '/small/a.txt', body: files.get('/small/a.txt') }),
    pipelined: (rand) => {
      const target = pick(rand, small);
      if (rand() < 0.2) return spec({ method: 'HEAD', target, body: files.get(target) });
      return download(rand, target, files.get(target), 0.3);
    },
    downloads: (rand) => {
      const target = pick(rand, large);
      return download(rand, target, files.get(target), 0.5);
    },
    curl: (rand) => {
      const target = pick(rand, [...small, ...large]);
      const body = files.get(target);
      if (body.length === 0 || rand() < 0.5) return { target, status: 200, body };
      const start = Math.floor(rand() * body.length);
      const end = Math.min(body.length - 1, start + Math.floor(rand() * 100_000));
      return { target, range: `${start}-${end}`, status: 206, body: body.subarray(start, end + 1) };
    },
  };
}

/**
 * The variants, in run order. `needs`: the flags this build's `etlt serve --help` must list
 * for the variant to run; without them it is reported as not available, never passed.
 */
export const VARIANTS = [
  {
    name: 'et',
    needs: ['--app'],
    args: () => ['--mode', 'et', '--app', APP],
    traffic: appTraffic,
  },
  {
    name: 'lt',
    needs: ['--app'],
    args: () => ['--mode', 'lt', '--app', APP],
    traffic: appTraffic,
  },
  {
    name: 'workers-2',
    needs: ['--workers', '--app'],
    args: () => ['--mode', 'et', '--workers', '2', '--app', APP],
    traffic: appTraffic,
  },
  {
    name: 'io_uring',
    needs: ['--sqpoll', '--app'],
    args: () => ['--backend', 'io_uring', '--app', APP],
    traffic: appTraffic,
  },
  {
    name: 'root',
    needs: ['--root'],
    args: (dir) => ['--mode', 'et', '--root', path.join(dir, 'tree')],
    traffic: (dir) => rootTraffic(path.join(dir, 'tree')),
  },
];

/**
 * Deliberately broken servers (the lab's pitfall strategies), run only when named in
 * --variants: the soak must fail them, which shows it can.
 */
export const PITFALLS = [
  {
    name: 'et-no-drain',
    pitfall: true,
    needs: [],
    args: (dir) => ['--mode', 'et-no-drain', '--body', path.join(dir, 'body.txt')],
    traffic: fixedTraffic,
  },
];

/** The flags this build's `etlt serve --help` lists. */
export function serveFlags() {
  const r = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0)
    throw new Error(`etlt serve --help failed (${r.status ?? r.signal}): ${r.stderr} (npm run build?)`);
  return new Set(r.stdout.match(/--[a-z][a-z0-9-]*/g) ?? []);
}

/** The flags of `variant` missing from `flags`. */
export const missingFlags = (variant, flags) => variant.needs.filter((f) => !flags.has(f));
