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
import type { ActivityLinks } from './activity.js';
import type { Connection as DefaultConnection } from './connection.js';

/** What the sweep needs of a connection (the readiness engine's and the completion engine's). */
export interface Swept<C> extends ActivityLinks<C> {
  /** When it last made progress (performance.now()). */
  lastActive: number;
  /** Its idle time ran out: it closes itself (and leaves its list). */
  timeOut(): void;
}

export class IdleSweep<Connection extends Swept<Connection> = DefaultConnection> {
  readonly #active = new ActivityList<Connection>();
  readonly #keptAlive = new ActivityList<Connection>();
  readonly #waiting = new ActivityList<Connection>();
  /** One list per credited silence (by SYN-ACK retransmits): within a list the credit is the same. */
  readonly #silent: ActivityList<Connection>[];
  readonly #timed: [ActivityList<Connection>, number][];
  readonly #timeoutMs: number;
  readonly #onTurn: () => void;
  #timer: NodeJS.Timeout | undefined;

  /** `onTurn` is told of each timer turn (each costs libuv an epoll_wait). */
  constructor(timeoutMs: number, keepAliveMs: number, silences: number, onTurn: () => void) {
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
    if (this.#timer) return;
    const shortest = Math.min(...this.#timed.map(([, ms]) => ms));
    this.#timer = setInterval(this.#sweep, Math.max(25, Math.min(1000, shortest / 4)));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
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
    const now = performance.now();
    for (const [list, limit] of this.#timed) {
      for (let conn = list.oldest; conn !== null && now - conn.lastActive >= limit; conn = list.oldest) {
        conn.timeOut();
        // Closing removes it from the list; never loop on one that somehow stayed.
        list.remove(conn);
      }
    }
  };
}
