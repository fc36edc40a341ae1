/**
 * The idle timeouts: open connections in lists ordered by last activity, one list per
 * timeout, and a timer that closes the ones idle too long. A connection making progress
 * (a head arriving, a body, a response, a linger) has the idle timeout; one waiting between
 * requests has the keep-alive timeout; one waiting for its handler has none. Connections
 * handed over by TCP_DEFER_ACCEPT after a silence sit in lists of their own (see
 * `credit`), so every list stays ordered and the sweep, which stops at a list's first
 * connection not yet idle, finds every idle one on time.
 */
import { ActivityList } from './activity.js';
import type { Connection } from './connection.js';

/** Where the sweep reads the time and gets its turns: Node's clock and timers, or a test's. */
export interface SweepClock {
  now(): number;
  /** Calls `turn` every `ms` until the returned function is called; never keeps the process alive. */
  every(ms: number, turn: () => void): () => void;
}

const NODE_CLOCK: SweepClock = {
  now: () => performance.now(),
  every(ms, turn) {
    const timer = setInterval(turn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export class IdleSweep {
  readonly #active = new ActivityList<Connection>();
  readonly #keptAlive = new ActivityList<Connection>();
  readonly #waiting = new ActivityList<Connection>();
  /** One list per credited silence (by SYN-ACK retransmits): within a list the credit is the same. */
  readonly #silent: ActivityList<Connection>[];
  readonly #timed: [ActivityList<Connection>, number][];
  readonly #timeoutMs: number;
  readonly #onTurn: () => void;
  readonly #clock: SweepClock;
  #stopTimer: (() => void) | undefined;

  /** `onTurn` is told of each timer turn (each costs libuv an epoll_wait); `clock` is Node's unless a test gives one. */
  constructor(timeoutMs: number, keepAliveMs: number, silences: number, onTurn: () => void, clock = NODE_CLOCK) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#silent = Array.from({ length: silences + 1 }, () => new ActivityList<Connection>());
    this.#timed = [
      [this.#active, timeoutMs],
      [this.#keptAlive, keepAliveMs],
      ...this.#silent.map((l) => [l, timeoutMs] as [ActivityList<Connection>, number]),
    ];
    this.#onTurn = onTurn;
  }

  /** Starts the timer: a quarter of the shorter timeout, within 25 ms and 1 s; it never keeps the process alive. */
  start(): void {
    if (this.#stopTimer) return;
    const shortest = Math.min(...this.#timed.map(([, ms]) => ms));
    this.#stopTimer = this.#clock.every(Math.max(25, Math.min(1000, shortest / 4)), this.#sweep);
  }

  stop(): void {
    this.#stopTimer?.();
    this.#stopTimer = undefined;
  }

  /** `conn` made progress now: the idle timeout counts from now. */
  touch(conn: Connection, now: number): void {
    conn.lastActive = now;
    this.#active.touch(conn);
  }

  /** `conn` waits for its next request from now: the keep-alive timeout. */
  idle(conn: Connection, now: number): void {
    conn.lastActive = now;
    this.#keptAlive.touch(conn);
  }

  /** `conn` waits for its handler: no timeout, but it is still open. */
  hold(conn: Connection): void {
    this.#waiting.touch(conn);
  }

  /**
   * A connection the kernel held back for `silences` SYN-ACK retransmits (at 1, 2, 4... s):
   * silent for 2**k - 1 s before it reached us, and that counts towards its idle timeout.
   */
  credit(conn: Connection, silences: number): void {
    conn.lastActive -= ((1 << silences) - 1) * 1000;
    this.#silent[silences]!.touch(conn);
  }

  /** Connections open now. */
  get size(): number {
    let n = this.#waiting.size;
    for (const [list] of this.#timed) n += list.size;
    return n;
  }

  /** A copy of every open connection (safe to close them while iterating). */
  all(): Connection[] {
    return [this.#waiting, ...this.#timed.map(([l]) => l)].flatMap((list) => list.toArray());
  }

  /** A copy of the connections waiting between requests. */
  keptAlive(): Connection[] {
    return this.#keptAlive.toArray();
  }

  /** Connections in progress, oldest first (for shedding partial heads). */
  oldestActive(): Connection[] {
    return this.#active.toArray();
  }

  /** The idle timeout, in ms. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  #sweep = (): void => {
    this.#onTurn();
    const now = this.#clock.now();
    for (const [list, limit] of this.#timed) {
      for (let conn = list.oldest; conn !== null && now - conn.lastActive >= limit; conn = list.oldest) {
        conn.timeOut();
        // Closing removes it from the list; never loop on one that somehow stayed.
        list.remove(conn);
      }
    }
  };
}
