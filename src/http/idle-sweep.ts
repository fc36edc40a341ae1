/**
 * The idle timeout: open connections in order of last activity, and a timer that closes
 * the ones idle too long. Connections handed over by TCP_DEFER_ACCEPT after a silence sit
 * in lists of their own (see `credit`), so every list stays ordered and the sweep, which
 * stops at a list's first connection not yet idle, finds every idle one on time.
 */
import { ActivityList } from './activity.js';
import { CloseReason } from './contract.js';
import type { Connection } from './connection.js';

export class IdleSweep {
  readonly #active = new ActivityList<Connection>();
  /** One list per credited silence (by SYN-ACK retransmits): within a list the credit is the same. */
  readonly #silent: ActivityList<Connection>[];
  readonly #timeoutMs: number;
  readonly #onTurn: () => void;
  #timer: NodeJS.Timeout | undefined;

  /** `onTurn` is told of each timer turn (each costs libuv an epoll_wait). */
  constructor(timeoutMs: number, silences: number, onTurn: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#silent = Array.from({ length: silences + 1 }, () => new ActivityList<Connection>());
    this.#onTurn = onTurn;
  }

  /** Starts the timer: a quarter of the timeout, within 25 ms and 1 s; it never keeps the process alive. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(this.#sweep, Math.max(25, Math.min(1000, this.#timeoutMs / 4)));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Marks `conn` as active now (moving it from any list). */
  touch(conn: Connection): void {
    this.#active.touch(conn);
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
    let n = this.#active.size;
    for (const list of this.#silent) n += list.size;
    return n;
  }

  /** A copy of every open connection (safe to close them while iterating). */
  all(): Connection[] {
    return [this.#active, ...this.#silent].flatMap((list) => list.toArray());
  }

  #sweep = (): void => {
    this.#onTurn();
    const now = performance.now();
    const limit = this.#timeoutMs;
    for (const list of [this.#active, ...this.#silent]) {
      for (let conn = list.oldest; conn !== null && now - conn.lastActive >= limit; conn = list.oldest) {
        conn.close(CloseReason.TimedOut);
        // Closing removes it from the list; never loop on one that somehow stayed.
        list.remove(conn);
      }
    }
  };
}
