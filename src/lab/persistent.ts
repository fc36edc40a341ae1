/**
 * The load generator's persistent (HTTP/1.1 keep-alive) clients: each opens one connection
 * and sends its requests on it, one at a time or `depth` per write (pipelining), reading
 * every response in full (Content-Length framing) before the next write. A server that
 * closes (`Connection: close`, as the seed's loops do after every response, or at its
 * --max-requests) is reconnected to transparently and the unanswered requests sent again;
 * a request not answered within the timeout is stalled, and its connection given up.
 */
import { connect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** One response's framing, parsed from its head. */
interface Head {
  /** Bytes of head plus body. */
  length: number;
  /** The server said Connection: close. */
  close: boolean;
}

function parseHead(buf: Buffer): Head | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end + 2).toString('latin1');
  const cl = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  return {
    length: end + 4 + (cl ? Number(cl[1]) : 0),
    close: /\r\nconnection:[^\r]*\bclose\b/i.test(head) || /^HTTP\/1\.0 /.test(head),
  };
}

/** How an exchange ended. */
type Outcome = 'answered' | 'closed' | 'timeout' | 'failed';

/**
 * A persistent connection to the server, reading responses as they arrive. `exchange`
 * writes requests and waits for as many responses; the socket's end, an error, or the
 * timeout end the wait early.
 */
export class Conn {
  readonly #sock: NetSocket;
  #buf: Buffer = Buffer.alloc(0);
  #head: Head | undefined;
  /** Responses complete but not yet taken by an exchange. */
  #ready: number[] = [];
  #ended = false;
  #failed = false;
  /** The connection answered at least once (a later EOF is the server closing a kept-alive connection). */
  answered = false;
  /** The server announced that it closes after the last response read. */
  closing = false;
  #wake: (() => void) | undefined;

  private constructor(sock: NetSocket) {
    this.#sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.#onData(d));
    sock.on('end', () => this.#stop(false));
    sock.on('close', () => this.#stop(false));
    sock.on('error', () => this.#stop(true));
  }

  /** Opens a connection; resolves with it, or with undefined if it failed or took longer than `timeoutMs`. */
  static open(host: string, port: number, timeoutMs: number): Promise<Conn | undefined> {
    return new Promise((resolve) => {
      const sock = connect({ host, port });
      const t = setTimeout(() => fail(), timeoutMs);
      const fail = () => {
        clearTimeout(t);
        sock.destroy();
        resolve(undefined);
      };
      sock.once('error', fail);
      sock.once('connect', () => {
        clearTimeout(t);
        sock.removeListener('error', fail);
        resolve(new Conn(sock));
      });
    });
  }

  get dead(): boolean {
    return this.#ended || this.#failed || this.closing;
  }

  #onData(d: Buffer): void {
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    for (;;) {
      this.#head ??= parseHead(this.#buf);
      if (this.#head === undefined || this.#buf.length < this.#head.length) break;
      this.#buf = this.#buf.subarray(this.#head.length);
      if (this.#head.close) this.closing = true;
      this.#head = undefined;
      this.answered = true;
      this.#ready.push(performance.now());
    }
    this.#wake?.();
  }

  #stop(failed: boolean): void {
    if (failed) this.#failed = true;
    this.#ended = true;
    this.#wake?.();
  }

  /**
   * Writes `payload` (`count` requests) and waits for `count` responses. Resolves with the
   * time each response completed and how the wait ended.
   */
  async exchange(payload: Buffer, count: number, timeoutMs: number): Promise<{ times: number[]; outcome: Outcome }> {
    const times: number[] = [];
    if (!this.#ended) this.#sock.write(payload);
    let timedOut = false;
    const t = setTimeout(() => {
      timedOut = true;
      this.#wake?.();
    }, timeoutMs);
    try {
      for (;;) {
        while (this.#ready.length > 0 && times.length < count) times.push(this.#ready.shift()!);
        if (times.length >= count) return { times, outcome: 'answered' };
        if (this.#ended || this.closing) return { times, outcome: this.#failed ? 'failed' : 'closed' };
        if (timedOut) return { times, outcome: 'timeout' };
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    } finally {
      clearTimeout(t);
    }
  }

  destroy(): void {
    this.#sock.destroy();
  }
}

/** What the persistent clients count; the load generator's result gets these. */
export interface PersistentTally {
  attempted: number;
  completed: number;
  stalled: number;
  errors: number;
  connections: number;
  reconnects: number;
  latenciesMs: number[];
}

/** What every client of a run shares: the budget of requests and time, and the counts. */
export interface Budget {
  /** Takes up to `n` requests from the budget; 0 when it is spent (or the time is up). */
  take(n: number): number;
  /** Told each time a request is finished, whatever its outcome. */
  finished(n: number): void;
}

/** A small seeded PRNG (mulberry32): the same think times on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What one client does: its connection's target, its pipelining depth and think times. */
export interface ClientConfig {
  host: string;
  port: number;
  /** One request's bytes. */
  request: Buffer;
  /** Requests per write. */
  depth: number;
  timeoutMs: number;
  /** Pause between an answered write and the next, [min, max] ms. */
  thinkMs: readonly [number, number] | undefined;
  random: () => number;
}

/**
 * One persistent client: sends its requests on one connection until the budget is spent,
 * reconnecting when the server closes it. Unanswered requests of a closed connection are
 * sent again on the next (once per connection that answered: a connection that closes
 * without any answer fails its requests, so nothing loops).
 */
export async function persistentClient(c: ClientConfig, budget: Budget, tally: PersistentTally): Promise<void> {
  let conn: Conn | undefined;
  /** The send time of each request not answered yet: kept across a reconnect. */
  let pending: number[] = [];
  /** The connection was closed by the server: the next one is a reconnect. */
  let closedByServer = false;
  /** This client has sent before: it thinks before each write but its first. */
  let sent = false;
  const batches = new Map<number, Buffer>();
  const batch = (n: number) => {
    let b = batches.get(n);
    if (b === undefined) batches.set(n, (b = Buffer.concat(Array.from({ length: n }, () => c.request))));
    return b;
  };
  try {
    for (;;) {
      if (pending.length === 0) {
        if (conn?.dead) {
          closedByServer = conn.closing || conn.answered;
          conn.destroy();
          conn = undefined;
        }
        if (c.thinkMs !== undefined && sent) {
          const [lo, hi] = c.thinkMs;
          await delay(lo + c.random() * (hi - lo));
        }
        const n = budget.take(c.depth);
        if (n === 0) return;
        sent = true;
        tally.attempted += n;
        const now = performance.now();
        pending = Array.from({ length: n }, () => now);
      }
      if (conn === undefined) {
        conn = await Conn.open(c.host, c.port, c.timeoutMs);
        if (conn === undefined) {
          tally.errors += pending.length;
          budget.finished(pending.length);
          pending = [];
          continue;
        }
        tally.connections++;
        if (closedByServer) tally.reconnects++;
        closedByServer = false;
      }
      const fresh = !conn.answered;
      const { times, outcome } = await conn.exchange(batch(pending.length), pending.length, c.timeoutMs);
      for (const [i, t] of times.entries()) tally.latenciesMs.push(t - pending[i]!);
      tally.completed += times.length;
      budget.finished(times.length);
      pending = pending.slice(times.length);
      if (outcome === 'answered') continue;
      const left = pending.length;
      if (outcome === 'timeout') {
        // A lost wake-up: these requests were never answered. Start afresh.
        tally.stalled += left;
      } else if (left > 0 && fresh && times.length === 0 && !conn.closing) {
        // Closed or reset before answering anything: not a server closing a kept-alive connection.
        tally.errors += left;
      } else {
        // The server closed it (announced, or a kept-alive connection it gave up): send the rest again.
        closedByServer = true;
        conn.destroy();
        conn = undefined;
        continue;
      }
      budget.finished(left);
      pending = [];
      conn.destroy();
      conn = undefined;
      closedByServer = false;
    }
  } finally {
    conn?.destroy();
  }
}

/** The idle connections of a run: opened, answered once, then held. */
export interface IdleTally {
  /** Connections opened. */
  opened: number;
  /** Answered and still open when the measured load ended. */
  held: number;
  /** Closed by the server (after their one answer, or later). */
  closedByServer: number;
  /** Never answered (refused, reset, or no answer within the timeout). */
  failed: number;
}

/**
 * Opens `count` connections, at most `parallel` at a time, each with one request answered
 * in full; keeps the ones the server keeps. Returns them, to be destroyed by the caller.
 */
export async function openIdle(c: ClientConfig, count: number, parallel: number, tally: IdleTally): Promise<Conn[]> {
  const held: Conn[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const conn = await Conn.open(c.host, c.port, c.timeoutMs);
      if (conn === undefined) {
        tally.failed++;
        continue;
      }
      tally.opened++;
      const { outcome } = await conn.exchange(c.request, 1, c.timeoutMs);
      if (outcome !== 'answered') {
        if (conn.answered) tally.closedByServer++;
        else tally.failed++;
        conn.destroy();
      } else if (conn.closing) {
        tally.closedByServer++;
        conn.destroy();
      } else {
        held.push(conn);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return held;
}
