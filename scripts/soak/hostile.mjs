// The hostile clients, all at once, each kind a few loops on their own connections:
// slowloris heads and bodies, resets (SO_LINGER 0) in the middle of a request and of a
// response, garbage, oversize heads, half-closes, pipelined floods that never read,
// streamed downloads and uploads abandoned mid-way (against the soak app only), and
// clients that connect and vanish. Every attempt is bounded by a deadline after which the
// client destroys its own socket; the tally says what the server did (answered, closed,
// nothing before our deadline), for the record: how the server treats them is checked by
// test/http/hostile.test.mjs, the soak checks that it survives them beside honest traffic.
import net from 'node:net';

import { forkRand } from './honest.mjs';
import { HOST } from './server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A raw connection that records what came back and how it ended; never throws. */
function open(port, { paused = false } = {}) {
  const sock = net.connect({ host: HOST, port, noDelay: true });
  if (paused) sock.pause();
  const c = { sock, received: 0, first: null, ended: false, code: null, closed: false };
  sock.on('data', (d) => {
    c.received += d.length;
    c.first ??= d.subarray(0, 16).toString('latin1');
  });
  sock.on('end', () => {
    c.ended = true;
  });
  sock.on('error', (e) => {
    c.code = e.code ?? e.message;
  });
  c.connected = new Promise((resolve) => {
    sock.once('connect', () => resolve(true));
    sock.once('close', () => resolve(false));
  });
  c.done = new Promise((resolve) =>
    sock.once('close', () => {
      c.closed = true;
      resolve();
    }),
  );
  return c;
}

/** Waits for the server to end `c` or for `ms` to pass; then destroys it. 'closed' or 'held'. */
async function closeWithin(c, ms) {
  let timer;
  const r = await Promise.race([
    c.done.then(() => 'closed'),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve('held'), ms);
    }),
  ]);
  clearTimeout(timer);
  c.sock.destroy();
  await c.done;
  return r;
}

const CRLF = Buffer.from('\r\n');

/** Resolves once `test()` holds (checked on each arrival), `c` closed, or `ms` passed. */
function until(c, test, ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      c.sock.off('data', check);
      resolve();
    };
    const check = () => {
      if (test()) done();
    };
    const timer = setTimeout(done, ms);
    c.sock.on('data', check);
    c.done.then(done);
    check();
  });
}

const status = (c) => (/^HTTP\/1\.[01] (\d{3})/.exec(c.first ?? '') ?? [])[1] ?? 'none';

const GET = 'GET / HTTP/1.1\r\nHost: soak\r\n\r\n';

/** Each kind: how many loops at once, and one attempt, resolving with what happened. */
export const HOSTILE = [
  {
    name: 'slowloris-head',
    loops: 12,
    async attempt(port, rand, run) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      c.sock.write('GET / HTTP/1.1\r\nHost: soak\r\n');
      // A header line every 400 ms: the head never ends; the idle timeout must close it.
      for (let i = 0; i < 40 && !c.closed && !run.stopping(); i++) {
        await sleep(400);
        if (!c.closed) c.sock.write(`X-Slow-${i}: ${Math.floor(rand() * 1e6)}\r\n`);
      }
      return `${await closeWithin(c, 0)} ${status(c)}`;
    },
  },
  {
    name: 'slowloris-body',
    loops: 6,
    async attempt(port, rand, run) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      c.sock.write('POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: 1000000\r\n\r\n');
      for (let i = 0; i < 30 && !c.closed && !run.stopping(); i++) {
        await sleep(300);
        if (!c.closed) c.sock.write('x'.repeat(1 + Math.floor(rand() * 16)));
      }
      return `${await closeWithin(c, 0)} ${status(c)}`;
    },
  },
  {
    name: 'reset-mid-request',
    loops: 3,
    async attempt(port, rand) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      const head = `POST / HTTP/1.1\r\nHost: soak\r\nContent-Length: 100\r\n\r\n${'b'.repeat(50)}`;
      c.sock.write(head.slice(0, 1 + Math.floor(rand() * head.length)));
      await sleep(rand() * 50);
      c.sock.resetAndDestroy();
      await c.done;
      return 'reset';
    },
  },
  {
    name: 'reset-mid-response',
    loops: 3,
    async attempt(port) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      c.sock.write(GET.repeat(200));
      // The first bytes of the answers are in: reset while the rest are being sent.
      await Promise.race([new Promise((r) => c.sock.once('data', r)), c.done, sleep(5000)]);
      c.sock.resetAndDestroy();
      await c.done;
      return c.received > 0 ? 'reset after data' : 'reset before data';
    },
  },
  {
    name: 'garbage',
    loops: 2,
    async attempt(port, rand) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      const bytes = Buffer.alloc(1 + Math.floor(rand() * 4096));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      if (rand() < 0.5) bytes.write('GET / HTTP/1.1\r\n', 'latin1');
      c.sock.end(bytes);
      return `${await closeWithin(c, 8000)} ${status(c)}`;
    },
  },
  {
    name: 'oversize-head',
    loops: 2,
    async attempt(port, rand) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      const big =
        rand() < 0.5
          ? `GET /${'a'.repeat(20000)} HTTP/1.1\r\n\r\n`
          : `GET / HTTP/1.1\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`;
      c.sock.write(big);
      return `${await closeWithin(c, 8000)} ${status(c)}`;
    },
  },
  {
    name: 'half-close',
    loops: 3,
    async attempt(port) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      c.sock.end(GET + GET);
      return `${await closeWithin(c, 8000)} ${status(c)}`;
    },
  },
  {
    name: 'pipeline-flood',
    loops: 3,
    async attempt(port, _rand, run) {
      const c = open(port, { paused: true });
      if (!(await c.connected)) return 'refused';
      // Write until the kernel's buffers are full, never read: the server's output limit and
      // its idle timeout must deal with it.
      const chunk = Buffer.from(GET.repeat(500));
      let written = 0;
      while (!c.closed && written < 64 << 20 && c.sock.write(chunk)) written += chunk.length;
      // A paused socket sees no close: after a while, read what is there and see whether the
      // server has let go (its idle timeout) or still holds the connection.
      for (let i = 0; i < 70 && !run.stopping(); i++) await sleep(100);
      c.sock.resume();
      const r = await closeWithin(c, 1000);
      return `${r} after ${written >= 1 << 20 ? '1MiB+' : 'less than 1MiB'} written`;
    },
  },
  {
    // A download of the soak app's stream (or its events) left mid-way: reset, closed, or
    // unread for a while and then closed. The generator behind it must be let go.
    name: 'abandon-download',
    app: true,
    loops: 2,
    async attempt(port, rand) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      const target = rand() < 0.7 ? `/stream/${256 << 20}` : '/events/100000';
      c.sock.write(`GET ${target} HTTP/1.1\r\nHost: soak\r\n\r\n`);
      const want = 1 + Math.floor(rand() * (128 << 10));
      await until(c, () => c.received >= want, 5000);
      const how = rand();
      if (how < 0.4) {
        c.sock.resetAndDestroy();
        await c.done;
        return `reset after ${c.received > 0 ? 'data' : 'nothing'}`;
      }
      // Unread for a while (paused) or not, the client goes with the stream still flowing.
      if (how < 0.7) {
        c.sock.pause();
        await sleep(500 + rand() * 1000);
      }
      c.sock.destroy();
      await c.done;
      return `${how < 0.7 ? 'stalled, then closed' : 'closed'} after ${c.received > 0 ? 'data' : 'nothing'}`;
    },
  },
  {
    // An upload to the soak app's hashing route left mid-body: reset, closed, or half-closed
    // (a body cut short: the handler's stream throws, the answer is a 400 and a close).
    name: 'abandon-upload',
    app: true,
    loops: 3,
    async attempt(port, rand, run) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      const chunked = rand() < 0.5;
      c.sock.write(
        `POST /upload HTTP/1.1\r\nHost: soak\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${64 << 20}`}\r\n\r\n`,
      );
      const piece = Buffer.alloc(1 + Math.floor(rand() * 65_536), 'u');
      const pieces = 1 + Math.floor(rand() * 20);
      for (let i = 0; i < pieces && !c.closed && !run.stopping(); i++) {
        c.sock.write(chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, CRLF]) : piece);
        if (rand() < 0.3) await sleep(rand() * 50);
      }
      const how = rand();
      if (how < 0.4) {
        c.sock.resetAndDestroy();
        await c.done;
        return 'reset';
      }
      if (how < 0.7) {
        c.sock.end();
        return `half-closed mid-body, then ${await closeWithin(c, 8000)} ${status(c)}`;
      }
      c.sock.destroy();
      await c.done;
      return 'closed mid-body';
    },
  },
  {
    name: 'connect-vanish',
    loops: 3,
    async attempt(port, rand) {
      const c = open(port);
      if (!(await c.connected)) return 'refused';
      if (rand() < 0.5) await sleep(rand() * 200);
      c.sock.destroy();
      await c.done;
      return 'vanished';
    },
  },
];

/** Counts of attempts and outcomes per kind. */
export class HostileTally {
  constructor() {
    this.kinds = {};
  }

  add(kind, outcome) {
    const k = (this.kinds[kind] ??= { attempts: 0, outcomes: {} });
    k.attempts++;
    k.outcomes[outcome] = (k.outcomes[outcome] ?? 0) + 1;
  }

  attempts() {
    return Object.values(this.kinds).reduce((a, k) => a + k.attempts, 0);
  }
}

/** Runs every hostile kind against `run.port` until `run.stopping()`; resolves when all loops have ended. */
export function hostileTraffic(run, tally, rand, kinds = HOSTILE) {
  const loops = [];
  for (const kind of kinds) {
    for (let i = 0; i < kind.loops; i++) {
      const r = forkRand(rand);
      loops.push(
        (async () => {
          // Spread the starts so the slow kinds do not all move in step.
          await sleep(r() * 500);
          while (!run.stopping()) {
            let outcome;
            try {
              outcome = await kind.attempt(run.port, r, run);
            } catch (e) {
              outcome = `client error ${e.code ?? e.message}`;
            }
            tally.add(kind.name, outcome);
            await sleep(20 + r() * 80);
          }
        })(),
      );
    }
  }
  return Promise.all(loops);
}
