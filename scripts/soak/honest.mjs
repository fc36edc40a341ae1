// The honest clients, all at once: wrk over keep-alive (every body checked by a Lua
// script), ab with one connection per request (its length check), our own pipelined
// clients (every response checked), file downloads with and without ranges (the variant's
// specs), streamed downloads, events and uploads (pipelined, and through Node's fetch),
// curl, and a probe that times one tiny request a second. Each counts into one
// tally: ok, failed (no answer, a reset, a timeout), different (an answer that is not the
// one due), resent (unanswered behind a `Connection: close`, sent again).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { abFields, wrkFields } from '../../bench/lib/tools.mjs';
import { seeded } from '../../dist/src/lab/persistent.js';
import { eventsText, streamBytes, uploadAnswer } from './app.mjs';
import { Pipeline, mismatch, sha256 } from './http.mjs';
import { HOST } from './server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** wrk and ab run in segments this long, so their failures land near when they happened. */
const SEGMENT_S = 10;
/** Pipelined responses not all in within this are a failure. */
const BATCH_TIMEOUT_MS = 10_000;
const MAX_NOTES = 20;

/** Honest results by source; `errors()` is the running total of failed + different. */
export class Tally {
  constructor() {
    this.sources = {};
    this.notes = [];
  }

  add(source, kind, n = 1, note) {
    const s = (this.sources[source] ??= { ok: 0, failed: 0, different: 0, resent: 0 });
    s[kind] += n;
    if (note !== undefined && kind !== 'ok' && kind !== 'resent' && this.notes.length < MAX_NOTES)
      this.notes.push(`${source}: ${note}`);
  }

  total(kind) {
    return Object.values(this.sources).reduce((a, s) => a + s[kind], 0);
  }

  errors() {
    return this.total('failed') + this.total('different');
  }
}

/** Runs a program, resolving (never rejecting) with { code, signal, stdout (Buffer), stderr }; killed after timeoutMs. */
export function runTool(file, args, timeoutMs, live) {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: 'buffer' },
      (err, stdout, stderr) => {
        live.delete(child);
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
          signal: err?.signal ?? null,
          error: err && typeof err.code === 'string' ? err.code : null,
          stdout,
          stderr: String(stderr),
        });
      },
    );
    live.add(child);
  });
}

const url = (port, target) => `http://${HOST}:${port}${target}`;

async function wrkLoop(run, variant, tally) {
  while (!run.stopping()) {
    const seconds = Math.max(1, Math.min(SEGMENT_S, Math.floor(run.left())));
    const r = await runTool(
      'wrk',
      [
        '-t1',
        '-c8',
        `-d${seconds}s`,
        '--timeout',
        '5s',
        '-s',
        path.join(HERE, 'verify.lua'),
        url(run.port, variant.wrk.target),
        '--',
        variant.wrk.file,
      ],
      (seconds + 15) * 1000,
      run.live,
    );
    const out = r.stdout.toString();
    const f = wrkFields(out);
    const lua = /^soak: ok=(\d+) bad=(\d+)$/m.exec(out);
    if (r.code !== 0 || !lua || f.requests === null) {
      tally.add('wrk', 'failed', 1, `wrk exited ${r.code ?? r.signal}: ${r.stderr.slice(0, 200)}`);
      await sleep(500);
      continue;
    }
    const sock = f.socketErrors ?? { connect: 0, read: 0, write: 0, timeout: 0 };
    const failed = sock.connect + sock.read + sock.write + sock.timeout;
    tally.add('wrk', 'ok', Number(lua[1]));
    if (Number(lua[2]) > 0)
      tally.add('wrk', 'different', Number(lua[2]), `${lua[2]} responses not 200 with the expected body`);
    if (failed > 0) tally.add('wrk', 'failed', failed, `socket errors ${JSON.stringify(sock)}`);
  }
}

async function abLoop(run, variant, tally) {
  while (!run.stopping()) {
    const seconds = Math.max(1, Math.min(SEGMENT_S, Math.floor(run.left())));
    const r = await runTool(
      'ab',
      ['-q', '-r', '-s', '10', '-t', String(seconds), '-n', '10000000', '-c', '2', url(run.port, variant.ab.target)],
      (seconds + 20) * 1000,
      run.live,
    );
    const out = r.stdout.toString();
    const f = abFields(out);
    const docLength = Number((/Document Length:\s+(\d+) bytes/.exec(out) ?? [])[1]);
    if (f.complete === null) {
      tally.add('ab', 'failed', 1, `ab exited ${r.code ?? r.signal}: ${(r.stderr || out).slice(0, 200)}`);
      await sleep(500);
      continue;
    }
    const bad = (f.failed ?? 0) + (f.non2xx ?? 0);
    if (docLength !== variant.ab.length) {
      tally.add('ab', 'different', f.complete, `Document Length ${docLength}, want ${variant.ab.length}`);
    } else {
      tally.add('ab', 'ok', f.complete - bad);
      if (bad > 0)
        tally.add('ab', 'failed', bad, `failed ${f.failed} ${JSON.stringify(f.failedDetail)} non-2xx ${f.non2xx}`);
    }
  }
}

/**
 * One pipelined client: batches of 1..maxDepth requests drawn by `draw(rand)`, each
 * response checked; unanswered requests behind a close, or on a reused connection the
 * server had closed before answering anything, are sent again.
 */
async function pipelineLoop(run, source, draw, maxDepth, rand, tally) {
  const p = new Pipeline(run.port);
  let queue = [];
  try {
    while (!run.stopping()) {
      const depth = 1 + Math.floor(rand() * maxDepth);
      while (queue.length < depth) queue.push(draw(rand));
      const specs = queue.splice(0, depth);
      let got;
      try {
        got = await p.batch(specs, BATCH_TIMEOUT_MS);
      } catch (e) {
        if (p.reused && /closed after 0 of/.test(e.message)) {
          tally.add(source, 'resent', specs.length);
          queue = [...specs, ...queue];
        } else tally.add(source, 'failed', specs.length, e.message);
        continue;
      }
      got.responses.forEach((r, i) => {
        const why = mismatch(specs[i], r);
        if (why === null) tally.add(source, 'ok');
        else tally.add(source, 'different', 1, `${specs[i].method} ${specs[i].target}: ${why}`);
      });
      const unanswered = specs.slice(got.responses.length);
      if (unanswered.length > 0) {
        tally.add(source, 'resent', unanswered.length);
        queue = [...unanswered, ...queue];
      }
    }
  } finally {
    p.close();
  }
}

/** curl, one download or upload at a time, each answer checked by sha256 (ranges through -r). */
async function curlLoop(run, variant, rand, tally) {
  while (!run.stopping()) {
    const s = variant.curl(rand);
    const range = s.range === undefined ? [] : ['-r', s.range];
    // An upload from a file, framed by its length or (curl reading it as it sends) chunked.
    const upload =
      s.upload === undefined
        ? []
        : [
            '--data-binary',
            `@${s.upload}`,
            '-H',
            'Content-Type: application/octet-stream',
            ...(s.chunked ? ['-H', 'Transfer-Encoding: chunked'] : []),
          ];
    const r = await runTool(
      'curl',
      [
        '-s',
        '-S',
        '--noproxy',
        '*',
        '--max-time',
        '10',
        '-o',
        '-',
        '-w',
        '%{http_code}',
        '-D',
        '/dev/null',
        ...range,
        ...upload,
        url(run.port, s.target),
      ],
      15_000,
      run.live,
    );
    const code = r.stdout.subarray(-3).toString();
    const body = r.stdout.subarray(0, -3);
    if (r.code !== 0) tally.add('curl', 'failed', 1, `curl exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
    else if (Number(code) !== s.status || sha256(body) !== sha256(s.body))
      tally.add(
        'curl',
        'different',
        1,
        `${s.upload === undefined ? '' : `upload ${s.upload} `}${s.target} ${s.range ?? ''}: status ${code}, ${body.length} bytes`,
      );
    else tally.add('curl', 'ok');
    await sleep(200);
  }
}

/** `res`'s body, read as it arrives (a chunk at a time, as a browser's EventSource does). */
async function readAll(res) {
  const parts = [];
  for await (const chunk of res.body) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * Node's fetch (undici), streaming both ways: server-sent events read as they come, and
 * uploads from a ReadableStream that yields its pieces over time (sent chunked), each
 * answer checked to the byte.
 */
async function fetchStreamLoop(run, rand, tally) {
  const check = (what, ok, note) =>
    tally.add('streams', ok ? 'ok' : 'different', 1, ok ? undefined : `${what}: ${note}`);
  while (!run.stopping()) {
    const signal = AbortSignal.timeout(BATCH_TIMEOUT_MS);
    // Near the end, each on a connection of its own: none is left for the server's
    // keep-alive timeout to close after the load (the soak waits for every one to close).
    const headers = run.left() < 6 ? { connection: 'close' } : {};
    const events = rand() < 0.5;
    const what = events ? 'events' : 'upload';
    try {
      if (events) {
        const k = 1 + Math.floor(rand() * 60);
        const res = await fetch(url(run.port, `/events/${k}`), { headers, signal });
        const got = await readAll(res);
        const want = eventsText(k);
        check(
          `GET /events/${k}`,
          res.status === 200 && res.headers.get('content-type') === 'text/event-stream' && got.toString() === want,
          `status ${res.status}, ${got.length} bytes, want ${want.length}`,
        );
      } else {
        const n = Math.floor(rand() ** 2 * (512 << 10));
        const content = streamBytes(n, Math.floor(rand() * 1e6));
        // Pieces of 1 byte up to 100 KB, but no more than 200 of them, so an upload ends in time.
        const piece = Math.max(Math.ceil(n / 200), 1 + Math.floor(rand() * 100_000));
        let at = 0;
        const body = new ReadableStream({
          async pull(controller) {
            if (at >= content.length) return controller.close();
            // Now and then a pause, so the server waits on the client mid-body.
            if (rand() < 0.2) await sleep(rand() * 20);
            controller.enqueue(content.subarray(at, at + piece));
            at += piece;
          },
        });
        const res = await fetch(url(run.port, '/upload'), { method: 'POST', headers, body, duplex: 'half', signal });
        const got = await res.text();
        check(
          `POST /upload ${n} bytes`,
          res.status === 200 && got === uploadAnswer(n, sha256(content)),
          `status ${res.status}: ${got.slice(0, 100)}`,
        );
      }
    } catch (e) {
      tally.add('streams', 'failed', 1, `${what}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
    }
  }
}

/** The probe: one tiny request a second on its own connection; its latency is the loop's delay as a client sees it. */
async function probeLoop(run, variant, tally, seen) {
  const p = new Pipeline(run.port);
  try {
    while (!run.stopping()) {
      const t0 = performance.now();
      try {
        const got = await p.batch([variant.probe], 5000);
        const why = got.responses.length === 1 ? mismatch(variant.probe, got.responses[0]) : 'no answer';
        if (why === null) tally.add('probe', 'ok');
        else tally.add('probe', 'different', 1, why);
        seen.probeMs = performance.now() - t0;
      } catch (e) {
        if (!(p.reused && /closed after 0 of/.test(e.message))) tally.add('probe', 'failed', 1, e.message);
      }
      await sleep(1000 - Math.min(900, performance.now() - t0));
    }
  } finally {
    p.close();
  }
}

/**
 * Starts every honest client of `variant` against `run.port`; resolves once all have
 * stopped (when `run.stopping()` turns true). `seen.probeMs` is the probe's last latency.
 */
export function honestTraffic(run, variant, tally, seen, rand) {
  const jobs = [wrkLoop(run, variant, tally), abLoop(run, variant, tally), curlLoop(run, variant, rand, tally)];
  for (let i = 0; i < 3; i++) jobs.push(pipelineLoop(run, 'pipelined', variant.pipelined, 16, forkRand(rand), tally));
  if (variant.downloads !== undefined)
    for (let i = 0; i < 2; i++) jobs.push(pipelineLoop(run, 'downloads', variant.downloads, 2, forkRand(rand), tally));
  if (variant.streamed !== undefined)
    for (let i = 0; i < 2; i++) jobs.push(pipelineLoop(run, 'streamed', variant.streamed, 4, forkRand(rand), tally));
  if (variant.streams) for (let i = 0; i < 2; i++) jobs.push(fetchStreamLoop(run, forkRand(rand), tally));
  jobs.push(probeLoop(run, variant, tally, seen));
  return Promise.all(jobs);
}

/** A new seeded stream from `rand` (the lab's PRNG), so each client's draws are its own and repeatable. */
export function forkRand(rand) {
  return seeded(Math.floor(rand() * 2 ** 32));
}
