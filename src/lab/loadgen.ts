/**
 * The lab's load generator, run as its own process so its CPU is not the server's:
 * src/cli/loadgen.ts is its entry point. Either one connection per request (the seed's
 * HTTP/1.0), or persistent HTTP/1.1 connections (keep-alive, pipelining, think times, idle
 * connections held open beside the busy ones: see persistent.ts). Loopback only, bounded
 * in count and time.
 */
import { connect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { openIdle, persistentClient, seeded } from './persistent.js';
import type { Budget, Conn, IdleTally, PersistentTally } from './persistent.js';

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
  /** HTTP/1.1 on persistent connections, one per client, instead of a connection per request. */
  persistent?: boolean;
  /** Persistent: requests per write, all answered before the next write (1: one at a time). */
  depth?: number;
  /** Persistent: pause between an answer and the next request, [min, max] ms... */
  thinkMs?: [number, number];
  /** ...drawn from a PRNG seeded with this (plus the client's index). */
  seed?: number;
  /** Persistent: connections opened first, one request each, then held idle until the lab ends. */
  idleConnections?: number;
  /** A connection per request: group latencies by the response's body (the balance lab's workers answer `worker N`). */
  byBody?: boolean;
  /** The measured load waits for the lab's `go` after `busy` (the lab snapshots the server's counters meanwhile). */
  gated?: boolean;
  /**
   * Persistent: requests the busy clients make first (before the idle connections), on
   * connections they then close, so that the server's JIT and caches are warm when the
   * measured load begins.
   */
  warmupRequests?: number;
}

/** Told when the measured load is about to begin; the load waits for what it returns. */
export type BusyHook = () => void | Promise<void>;

/** What the load generator measured. */
export interface LoadResult {
  attempted: number;
  completed: number;
  stalled: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
  /** Connections opened for the measured requests. */
  connections: number;
  /** Of those, opened because the server had closed a persistent connection (Connection: close, or EOF). */
  reconnects: number;
  /** The idle connections, when the workload has any: their requests are not in the figures above. */
  idle?: IdleTally;
  /** With `byBody`: the latencies of `latenciesMs` by the body that answered them. */
  byBody?: Record<string, number[]>;
}

/** The idle connections a persistent run holds open after its result, until the lab ends. */
export type Held = Conn[];

function requestBytes(cfg: LoadConfig): Buffer {
  const pad = cfg.padHeader > 0 ? `Cookie: ${'x'.repeat(cfg.padHeader)}\r\n` : '';
  if (cfg.persistent) {
    // A browser-like request (177 bytes, like TechEmpower's plaintext test): 16 of them
    // pipelined are more than one recv(1024).
    return Buffer.from(
      `GET / HTTP/1.1\r\nHost: ${cfg.host}\r\nUser-Agent: etlt-lab\r\n` +
        'Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n' +
        `Connection: keep-alive\r\n${pad}\r\n`,
    );
  }
  return Buffer.from(`GET / HTTP/1.0\r\nHost: ${cfg.host}\r\nUser-Agent: etlt-lab\r\n${pad}\r\n`);
}

/** Whether `data` holds a complete response: a head and Content-Length body bytes. */
function complete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /Content-Length: (\d+)/i.exec(data.subarray(0, end).toString('latin1'));
  return m !== null && data.length - end - 4 >= Number(m[1]);
}

/** The body of a complete response. */
function bodyOf(data: Buffer): string {
  return data.subarray(data.indexOf('\r\n\r\n') + 4).toString('latin1');
}

function oneRequest(
  cfg: LoadConfig,
  payload: Buffer,
  answered?: (response: Buffer) => void,
): Promise<'ok' | 'stalled' | 'error'> {
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
        else
          timers.push(
            setTimeout(() => {
              if (!settled) sock.write(piece);
            }, i * cfg.pieceDelayMs),
          );
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
    const ended = () => {
      const data = Buffer.concat(chunks, size);
      const ok = size > 0 && complete(data);
      if (ok && !settled) answered?.(data);
      done(ok ? 'ok' : 'error');
    };
    sock.on('end', ended);
    sock.on('error', ended);
  });
}

/** How many idle connections are being opened at once. */
const IDLE_PARALLEL = 100;

/**
 * Runs a persistent load: the idle connections first (`busy` is told when they are all
 * in: the measured load starts then), then the busy clients. Resolves with the result and
 * the idle connections still open, which the caller closes when the lab says so.
 */
async function runPersistent(
  cfg: LoadConfig,
  progress: (finished: number) => void,
  busy: BusyHook,
  warm: () => void,
): Promise<{ result: LoadResult; held: Held }> {
  const request = requestBytes(cfg);
  const client = (i: number) => ({
    host: cfg.host,
    port: cfg.port,
    request,
    depth: Math.max(1, cfg.depth ?? 1),
    timeoutMs: cfg.timeoutMs,
    thinkMs: cfg.thinkMs,
    random: seeded((cfg.seed ?? 1) + i),
  });
  let held: Held = [];
  let idle: IdleTally | undefined;
  // Warm-up first: the server's memory with the idle connections open is then theirs, not the JIT's.
  if ((cfg.warmupRequests ?? 0) > 0) {
    await warmUp(cfg, client);
    warm();
  }
  if ((cfg.idleConnections ?? 0) > 0) {
    idle = { opened: 0, held: 0, closedByServer: 0, failed: 0 };
    held = await openIdle(client(-1), cfg.idleConnections!, IDLE_PARALLEL, idle);
  }
  await busy();
  const tally = emptyTally();
  const start = performance.now();
  const stopAt = start + cfg.seconds * 1000;
  let taken = 0;
  let finished = 0;
  let reported = 0;
  const budget: Budget = {
    take: (n) => {
      if (performance.now() >= stopAt) return 0;
      const k = Math.min(n, cfg.requests - taken);
      taken += k;
      return k;
    },
    finished: (n) => {
      finished += n;
      if (finished - reported >= 100) {
        reported = finished - (finished % 100);
        progress(reported);
      }
    },
  };
  await Promise.all(Array.from({ length: cfg.concurrency }, (_, i) => persistentClient(client(i), budget, tally)));
  const seconds = (performance.now() - start) / 1000;
  if (idle) {
    const before = held.length;
    held = held.filter((c) => !c.dead);
    idle.closedByServer += before - held.length;
    idle.held = held.length;
  }
  const result: LoadResult = { ...tally, seconds, ...(idle ? { idle } : {}) };
  return { result, held };
}

function emptyTally(): PersistentTally {
  return { attempted: 0, completed: 0, stalled: 0, errors: 0, connections: 0, reconnects: 0, latenciesMs: [] };
}

/** The busy clients' warm-up: `cfg.warmupRequests` requests, not counted, on connections closed after. */
async function warmUp(cfg: LoadConfig, client: (i: number) => Parameters<typeof persistentClient>[0]): Promise<void> {
  let left = cfg.warmupRequests ?? 0;
  const stopAt = performance.now() + cfg.seconds * 1000;
  const budget: Budget = {
    take: (n) => {
      const k = performance.now() < stopAt ? Math.min(n, left) : 0;
      left -= k;
      return k;
    },
    finished: () => {},
  };
  const tally = emptyTally();
  await Promise.all(Array.from({ length: cfg.concurrency }, (_, i) => persistentClient(client(i), budget, tally)));
}

/**
 * Runs the load described by `cfg`; `progress` is told the count of finished requests,
 * `busy` when the measured part begins (after the idle connections, if any). The idle
 * connections are returned open (`held`): the caller closes them.
 */
export async function runLoadHolding(
  cfg: LoadConfig,
  progress: (finished: number) => void,
  busy: BusyHook,
  warm: () => void = () => {},
): Promise<{ result: LoadResult; held: Held }> {
  if (cfg.persistent) return runPersistent(cfg, progress, busy, warm);
  await busy();
  return { result: await runLoad(cfg, progress), held: [] };
}

/** Runs the load described by `cfg`; `progress` is told the count of finished requests. */
export async function runLoad(cfg: LoadConfig, progress: (finished: number) => void): Promise<LoadResult> {
  if (cfg.persistent) {
    const { result, held } = await runPersistent(
      cfg,
      progress,
      () => {},
      () => {},
    );
    for (const c of held) c.destroy();
    return result;
  }
  const payload = requestBytes(cfg);
  const result: LoadResult = {
    attempted: 0,
    completed: 0,
    stalled: 0,
    errors: 0,
    seconds: 0,
    latenciesMs: [],
    connections: 0,
    reconnects: 0,
  };
  const start = performance.now();
  const stopAt = start + cfg.seconds * 1000;
  let finished = 0;
  const byBody: Record<string, number[]> | undefined = cfg.byBody === true ? {} : undefined;
  if (byBody) result.byBody = byBody;
  const worker = async () => {
    while (result.attempted < cfg.requests && performance.now() < stopAt) {
      result.attempted++;
      result.connections++;
      const t0 = performance.now();
      let body = '';
      const r = await oneRequest(cfg, payload, byBody && ((data) => (body = bodyOf(data))));
      if (r === 'ok') {
        const ms = performance.now() - t0;
        result.completed++;
        result.latenciesMs.push(ms);
        if (byBody) (byBody[body] ??= []).push(ms);
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
