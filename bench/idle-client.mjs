// The idle suite's client: opens COUNT connections to 127.0.0.1:PORT, at most
// PARALLEL at a time, sends one keep-alive request on each and reads its whole
// response, then holds them all open and idle. It prints one JSON line when
// they are all in ({"ready":true, ...}) and closes everything on SIGTERM, or
// by itself after HOLD_MAX_MS so that it can never outlive the bench for long.
//
//   node bench/idle-client.mjs PORT COUNT
import net from 'node:net';

const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
const PARALLEL = 200;
const TIMEOUT_MS = 10_000;
const HOLD_MAX_MS = 120_000;
const REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

const held = new Set();
let failed = 0;
let closedByServer = 0;
let firstError = null;
let shuttingDown = false;

/** Length of the complete response at the start of `data`, or 0. */
function responseLength(data) {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return 0;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(data.slice(0, end + 2));
  const total = end + 4 + (m ? Number(m[1]) : 0);
  return data.length >= total ? total : 0;
}

function open() {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let data = '';
    let done = false;
    const fail = (why) => {
      if (done) return;
      done = true;
      failed++;
      firstError ??= why;
      sock.destroy();
      resolve();
    };
    sock.setEncoding('latin1');
    sock.setTimeout(TIMEOUT_MS, () => fail('timeout'));
    sock.on('connect', () => sock.write(REQUEST));
    sock.on('data', (d) => {
      if (done) return;
      data += d;
      if (responseLength(data) === 0) return;
      done = true;
      sock.setTimeout(0);
      held.add(sock);
      resolve();
    });
    sock.on('error', (err) => fail(err.code ?? String(err)));
    sock.on('close', () => {
      if (!done) return fail('closed before the response');
      if (held.delete(sock) && !shuttingDown) closedByServer++;
    });
  });
}

function closeAll(code) {
  shuttingDown = true;
  for (const sock of held) sock.destroy();
  process.stdout.write(`${JSON.stringify({ closed: held.size, closedByServer })}\n`);
  process.exit(code);
}
process.on('SIGTERM', () => closeAll(0));
process.on('SIGINT', () => closeAll(0));
setTimeout(() => closeAll(1), HOLD_MAX_MS).unref();

const t0 = Date.now();
let next = 0;
async function worker() {
  while (next < count) {
    next++;
    await open();
  }
}
await Promise.all(Array.from({ length: Math.min(PARALLEL, count) }, worker));
process.stdout.write(`${JSON.stringify({ ready: true, held: held.size, failed, firstError, ms: Date.now() - t0 })}\n`);
// Held until SIGTERM: the interval only keeps the event loop from ending should
// every socket be closed by the server.
setInterval(() => {}, 1 << 30);
