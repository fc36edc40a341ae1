#!/usr/bin/env node
// How many of etlt's own source files one request runs through (issue 19: "one place for
// each thing"). For each checkout given (default: this one), it starts an HttpServer from
// that checkout's dist/src/index.js, et mode, on 127.0.0.1 port 0, with the handler
// `() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'Hello, world!' })`,
// in a child process, and counts what one request costs in the checkout's dist/src/**:
//
//   calls    function calls per file (V8's precise coverage, callCount, per function)
//   entries  times control entered the file from outside it: a function of the file
//            called from another file of dist/src, from Node (an event, a timer, a
//            microtask, the addon's callback) or from the handler. Found by calling
//            a counter at the start of every function (scripts/files-entered/hooks.mjs
//            inserts the call when the module loads) that reads its caller's file from
//            the stack; builtins between the two (Array.prototype.forEach, Function.call)
//            are skipped, so a callback a file hands to a builtin is no entry.
//
// Each is the count over a window of requests divided by their number, after a warm-up
// of as many on the same connection (so neither accept nor the first compile is in it).
// Two workloads: keep-alive (one request, its response, the next, on one connection) and
// pipelined (16 requests per write, the next batch after all 16 responses).
//
//   node scripts/files-entered.mjs                          this checkout
//   node scripts/files-entered.mjs /work/wt/before .        two checkouts side by side
//   node scripts/files-entered.mjs --requests 400 A B       window (and warm-up) length
//
// A checkout needs a build (npm run build). Everything is bounded: the child is killed
// after 60 s, on failure and on exit.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(HERE), '..');
const BODY = 'Hello, world!';
const DEPTH = 16;
const CHILD_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------
// The server side (the child process).

async function serve(dir) {
  const { register } = await import('node:module');
  const { Session } = await import('node:inspector/promises');
  const prefix = pathToFileURL(path.join(dir, 'dist', 'src')).href + '/';
  register(pathToFileURL(path.join(path.dirname(HERE), 'files-entered', 'hooks.mjs')), { data: { prefix } });

  // Per file (relative to dist/src): calls counted by the inserted call, and entries.
  let counting = false;
  let tally = new Map();
  const fileOf = (site) => site.getFileName() ?? '';
  globalThis.__etltEnter = function enter(file) {
    if (!counting) return;
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    Error.prepareStackTrace = (_, sites) => sites;
    Error.stackTraceLimit = 8;
    const holder = {};
    Error.captureStackTrace(holder, enter);
    const sites = holder.stack;
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
    // sites[0] is the function entered; its caller is the next frame with a file.
    const caller =
      sites
        .slice(1)
        .map(fileOf)
        .find((f) => f !== '') ?? '';
    const t = tally.get(file) ?? { hooked: 0, entries: 0, from: {} };
    t.hooked++;
    if (caller !== prefix + file) {
      t.entries++;
      const where = caller.startsWith(prefix) ? caller.slice(prefix.length) : caller === '' ? '(native)' : '(outside)';
      t.from[where] = (t.from[where] ?? 0) + 1;
    }
    tally.set(file, t);
  };

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  const { HttpServer } = await import(`${prefix}index.js`);
  const server = new HttpServer({
    mode: 'et',
    host: '127.0.0.1',
    port: 0,
    handler: () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: BODY }),
    maxRequests: 100000,
    keepAliveTimeoutMs: 30000,
  });
  server.listen();
  const coverage = async () => {
    const { result } = await session.post('Profiler.takePreciseCoverage'); // also resets the counts
    const calls = {};
    for (const script of result) {
      if (!script.url.startsWith(prefix)) continue;
      const file = script.url.slice(prefix.length);
      // Without block coverage each function has one range; its count is its calls.
      const n = script.functions.reduce((sum, f) => sum + f.ranges[0].count, 0);
      if (n > 0) calls[file] = n;
    }
    return calls;
  };
  process.on('message', async (msg) => {
    if (msg === 'begin') {
      await coverage();
      tally = new Map();
      counting = true;
      process.send({ begun: true });
    } else if (msg === 'end') {
      counting = false;
      const calls = await coverage();
      process.send({ calls, tally: Object.fromEntries(tally) });
    } else if (msg === 'stop') {
      await server.close();
      process.exit(0);
    }
  });
  process.send({ port: server.address().port });
}

// ---------------------------------------------------------------------------------------
// The client side.

/** Length of the first complete response (head and Content-Length body) in `data`, or 0. */
function responseLength(data) {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return 0;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(data.slice(0, end + 2));
  if (!m) throw new Error(`a response without Content-Length: ${JSON.stringify(data.slice(0, 200))}`);
  const total = end + 4 + Number(m[1]);
  return data.length >= total ? total : 0;
}

/** A connection that sends `batch` requests per write and resolves when all are answered. */
function client(port) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setEncoding('latin1');
  sock.setNoDelay(true);
  let buffered = '';
  let waiting = null;
  sock.on('data', (d) => {
    buffered += d;
    if (!waiting) return;
    for (let n; (n = responseLength(buffered)) > 0;) {
      const response = buffered.slice(0, n);
      buffered = buffered.slice(n);
      if (!/^HTTP\/1\.1 200 /.test(response) || !response.endsWith(BODY)) {
        waiting.reject(new Error(`unexpected response: ${JSON.stringify(response.slice(0, 200))}`));
        return;
      }
      if (--waiting.left === 0) {
        const w = waiting;
        waiting = null;
        w.resolve();
        return;
      }
    }
  });
  const failed = new Promise((_, reject) => {
    sock.on('error', reject);
    sock.on('close', () => reject(new Error('the server closed the connection')));
  });
  failed.catch(() => {});
  const connected = new Promise((resolve) => sock.once('connect', resolve));
  const request = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  return {
    async send(batch) {
      await connected;
      const done = new Promise((resolve, reject) => (waiting = { left: batch, resolve, reject }));
      sock.write(request.repeat(batch));
      await Promise.race([done, failed]);
    },
    close: () => sock.destroy(),
  };
}

/** Starts the measured server of checkout `dir` and runs both workloads; resolves with their counts. */
async function measure(dir, requests) {
  for (const file of ['dist/src/index.js']) {
    if (!fs.existsSync(path.join(dir, file)))
      throw new Error(`${path.join(dir, file)} not found (npm run build there)`);
  }
  const child = fork(HERE, ['--serve', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const exited = new Promise((_, reject) =>
    child.on('exit', (code, signal) => reject(new Error(`the server exited (code ${code}, signal ${signal})`))),
  );
  exited.catch(() => {});
  const next = () => Promise.race([new Promise((resolve) => child.once('message', resolve)), exited]);
  try {
    const { port } = await next();
    const out = {};
    for (const [name, batch, count] of [
      ['keep-alive', 1, requests],
      ['pipelined', DEPTH, Math.max(1, Math.round(requests / DEPTH))],
    ]) {
      const c = client(port);
      try {
        for (let i = 0; i < count; i++) await c.send(batch); // warm-up
        child.send('begin');
        await next();
        for (let i = 0; i < count; i++) await c.send(batch);
        child.send('end');
        const { calls, tally } = await next();
        out[name] = { requests: count * batch, batch, calls, tally };
      } finally {
        c.close();
      }
    }
    child.send('stop');
    await Promise.race([new Promise((resolve) => child.once('exit', resolve)), exited.catch(() => {})]);
    return out;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------
// The report.

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])));
  return [
    line(headers).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => line(r).join('  ')),
  ].join('\n');
}

function report(dirs, results, workload) {
  const per = results.map((r) => {
    const w = r[workload];
    const files = new Set([...Object.keys(w.calls), ...Object.keys(w.tally)]);
    const rows = {};
    for (const f of files) {
      rows[f] = {
        calls: (w.calls[f] ?? 0) / w.requests,
        hooked: (w.tally[f]?.hooked ?? 0) / w.requests,
        entries: (w.tally[f]?.entries ?? 0) / w.requests,
        // entries whose caller is another file of dist/src (the rest come from Node, the addon or the handler)
        fromSrc:
          Object.entries(w.tally[f]?.from ?? {})
            .filter(([where]) => !where.startsWith('('))
            .reduce((a, [, n]) => a + n, 0) / w.requests,
      };
    }
    return { w, rows };
  });
  const files = [...new Set(per.flatMap((p) => Object.keys(p.rows)))].sort();
  const f2 = (x) => (x === undefined ? '-' : x.toFixed(2));
  const headers = ['file (dist/src/)'];
  for (let i = 0; i < dirs.length; i++) headers.push(`calls ${i + 1}`, `entries ${i + 1}`);
  const rows = files.map((f) => [f, ...per.flatMap((p) => [f2(p.rows[f]?.calls), f2(p.rows[f]?.entries)])]);
  rows.push(['(all files)', ...per.flatMap((p) => [f2(sum(p, 'calls')), f2(sum(p, 'entries'))])]);
  const lines = [
    `${workload}: ${per.map((p, i) => `${i + 1} = ${dirs[i]} (${p.w.requests} requests)`).join(', ')}; figures per request`,
    '',
    table(headers, rows),
    '',
  ];
  for (const [i, p] of per.entries()) {
    // Entered on every write of requests, as a rate: the others run only on some (the
    // reactor's wake-ups, which depend on timing; a timer, such as the Date of the head).
    const every = Object.values(p.rows).filter((r) => r.entries * p.w.batch >= 0.995);
    const unit = p.w.batch === 1 ? 'request' : `batch of ${p.w.batch}`;
    lines.push(
      `${i + 1}: files entered ${Object.keys(p.rows).length} (${every.length} of them at least once per ${unit}), ` +
        `${f2(sum(p, 'calls'))} function calls and ${f2(sum(p, 'entries'))} entries into a file per request ` +
        `(${f2(sum(p, 'fromSrc'))} from another file of dist/src, the rest from Node, the addon or the handler)`,
    );
    const mismatch = Object.entries(p.rows).filter(([, r]) => Math.abs(r.calls - r.hooked) > 1e-9);
    if (mismatch.length > 0)
      lines.push(
        `   (V8 counts a class's field initializers as one more call per instance: its call counts exceed the inserted counter's for ${mismatch.map(([f, r]) => `${f} ${f2(r.calls)}/${f2(r.hooked)}`).join(', ')})`,
      );
  }
  return lines.join('\n');
}

function sum(p, key) {
  return Object.values(p.rows).reduce((a, r) => a + r[key], 0);
}

async function main() {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: { requests: { type: 'string', default: '320' }, json: { type: 'string' } },
    });
  } catch (err) {
    process.stderr.write(
      `files-entered: ${err.message}\nusage: node scripts/files-entered.mjs [--requests N] [--json FILE] [DIR...]\n`,
    );
    return 2;
  }
  const { values, positionals } = args;
  const requests = Number(values.requests);
  if (!Number.isInteger(requests) || requests < DEPTH) {
    process.stderr.write(`files-entered: --requests must be an integer of at least ${DEPTH}\n`);
    return 2;
  }
  const dirs = (positionals.length > 0 ? positionals : [ROOT]).map((d) => path.resolve(d));
  const results = [];
  for (const dir of dirs) {
    try {
      results.push(await measure(dir, requests));
    } catch (err) {
      process.stderr.write(`files-entered: ${dir}: ${err.message}\n`);
      return 1;
    }
  }
  if (values.json) fs.writeFileSync(values.json, `${JSON.stringify({ dirs, results }, null, 2)}\n`);
  process.stdout.write(`${report(dirs, results, 'keep-alive')}\n\n${report(dirs, results, 'pipelined')}\n`);
  return 0;
}

// The child: started by measure() with an IPC channel, never by hand.
if (process.argv[2] === '--serve' && process.send) await serve(process.argv[3]);
else process.exitCode = await main();
