/**
 * The lab's load generator, run as its own process so its CPU is not the server's:
 * src/cli/loadgen.ts is its entry point. One connection per request (the seed's HTTP/1.0),
 * loopback only, bounded in count and time.
 */
import { connect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';

/** What to send, how, and how much. */
export interface LoadConfig {
  host: string;
  port: number;
  /** Connections in flight at once. */
  concurrency: number;
  /** Requests to make in all. */
  requests: number;
  /** Stop starting new requests after this many seconds. */
  seconds: number;
  /** Split the request into this many writes... */
  pieces: number;
  /** ...this many milliseconds apart. */
  pieceDelayMs: number;
  /** Extra header bytes, to make a large request head. */
  padHeader: number;
  /** Read the response slowly: pause this many ms after each chunk. */
  slowReadMs: number;
  /** A request not answered in full within this is counted as stalled. */
  timeoutMs: number;
}

/** What the load generator measured. */
export interface LoadResult {
  attempted: number;
  completed: number;
  stalled: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

function requestBytes(cfg: LoadConfig): Buffer {
  const pad = cfg.padHeader > 0 ? `Cookie: ${'x'.repeat(cfg.padHeader)}\r\n` : '';
  return Buffer.from(`GET / HTTP/1.0\r\nHost: ${cfg.host}\r\nUser-Agent: etlt-lab\r\n${pad}\r\n`);
}

/** Whether `data` holds a complete response: a head and Content-Length body bytes. */
function complete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /Content-Length: (\d+)/i.exec(data.subarray(0, end).toString('latin1'));
  return m !== null && data.length - end - 4 >= Number(m[1]);
}

function oneRequest(cfg: LoadConfig, payload: Buffer): Promise<'ok' | 'stalled' | 'error'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const sock: NetSocket = connect({ host: cfg.host, port: cfg.port });
    const done = (r: 'ok' | 'stalled' | 'error') => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      sock.destroy();
      resolve(r);
    };
    timers.push(setTimeout(() => done('stalled'), cfg.timeoutMs));
    sock.on('connect', () => {
      const step = Math.ceil(payload.length / cfg.pieces);
      for (let i = 0; i < cfg.pieces; i++) {
        const piece = payload.subarray(i * step, (i + 1) * step);
        if (i === 0) sock.write(piece);
        else timers.push(setTimeout(() => { if (!settled) sock.write(piece); }, i * cfg.pieceDelayMs));
      }
    });
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      if (cfg.slowReadMs > 0) {
        sock.pause();
        timers.push(setTimeout(() => sock.resume(), cfg.slowReadMs));
      }
    });
    sock.on('end', () => done(complete(Buffer.concat(chunks, size)) ? 'ok' : 'error'));
    sock.on('error', () => done(size > 0 && complete(Buffer.concat(chunks, size)) ? 'ok' : 'error'));
  });
}

/** Runs the load described by `cfg`; `progress` is told the count of finished requests. */
export async function runLoad(cfg: LoadConfig, progress: (finished: number) => void): Promise<LoadResult> {
  const payload = requestBytes(cfg);
  const result: LoadResult = { attempted: 0, completed: 0, stalled: 0, errors: 0, seconds: 0, latenciesMs: [] };
  const start = performance.now();
  const stopAt = start + cfg.seconds * 1000;
  let finished = 0;
  const worker = async () => {
    while (result.attempted < cfg.requests && performance.now() < stopAt) {
      result.attempted++;
      const t0 = performance.now();
      const r = await oneRequest(cfg, payload);
      if (r === 'ok') {
        result.completed++;
        result.latenciesMs.push(performance.now() - t0);
      } else if (r === 'stalled') result.stalled++;
      else result.errors++;
      finished++;
      if (finished % 100 === 0) progress(finished);
    }
  };
  await Promise.all(Array.from({ length: cfg.concurrency }, worker));
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

