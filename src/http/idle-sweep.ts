/**
 * The idle timeouts: open connections in lists ordered by last activity, one list per
 * timeout, and a timer that closes the ones idle too long. A connection making progress
 * (a head arriving, a body, a linger) has the idle timeout; one waiting between requests
 * has the keep-alive timeout; one waiting for its handler has none. Connections handed
 * over by TCP_DEFER_ACCEPT after a silence sit in lists of their own (see `credit`), so
 * every list stays ordered and the sweep, which stops at a list's first connection not yet
 * idle, finds every idle one on time.
 *
 * A connection with output pending has the send timeout instead (nginx's send_timeout,
 * 60 s by default), and it counts the peer's progress, not only ours: a slow reader of a
 * large response may take many seconds to drain enough of a multi-megabyte send buffer for
 * EPOLLOUT to come back, and an idle timeout that saw only our sends cut every such
 * download off. Such a connection is looked at every eighth of the send timeout (its list
 * is ordered by that look), and the socket's send queue (SIOCOUTQ) shrinking since the
 * last look counts as progress; one that took nothing for the whole send timeout is closed.
 * A kept-alive connection whose last responses are still in the kernel's queue, shrinking,
 * is not idle either: its keep-alive timeout starts again, and it is closed (normally: its
 * queued responses are complete and still delivered) once the queue stands still.
 */

/** Looks at a sending connection's queue this many times per send timeout. */
const LOOKS_PER_SEND_TIMEOUT = 8;

/** What the list links through: fields the member carries itself. */
export interface ActivityLinks<T> {
  olderActive: T | null;
  newerActive: T | null;
  /** The list the member is in, or null. */
  activeList: { remove(item: T): void } | null;
}

/**
 * Open connections in order of last activity, oldest first, for the idle sweep: an
 * intrusive doubly linked list, so marking a connection active or removing it is a few
 * field writes (a Map keyed by fd paid a hash insert and delete, and rehashing, per request).
 * A member belongs to at most one list at a time; touching it in another list moves it.
 */
export class ActivityList<T extends ActivityLinks<T>> {
  #oldest: T | null = null;
  #newest: T | null = null;
  #size = 0;

  /** Members now. */
  get size(): number {
    return this.#size;
  }

  /** The least recently active member, or null. */
  get oldest(): T | null {
    return this.#oldest;
  }

  /** Adds `item` as the most recently active, or moves it there (from any list). */
  touch(item: T): void {
    if (this.#newest === item) return;
    item.activeList?.remove(item);
    item.olderActive = this.#newest;
    item.newerActive = null;
    item.activeList = this;
    if (this.#newest !== null) this.#newest.newerActive = item;
    else this.#oldest = item;
    this.#newest = item;
    this.#size++;
  }

  /** Removes `item`; does nothing when it is not a member of this list. */
  remove(item: T): void {
    if (item.activeList !== this) return;
    const older = item.olderActive;
    const newer = item.newerActive;
    if (older !== null) older.newerActive = newer;
    else this.#oldest = newer;
    if (newer !== null) newer.olderActive = older;
    else this.#newest = older;
    item.olderActive = null;
    item.newerActive = null;
    item.activeList = null;
    this.#size--;
  }

  /** A copy of the members, oldest first (safe to close them while iterating). */
  toArray(): T[] {
    const out: T[] = [];
    for (let item = this.#oldest; item !== null; item = item.newerActive) out.push(item);
    return out;
  }
}

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

/** What the sweep needs of a connection (the readiness engine's and the completion engine's). */
export interface Swept<C> extends ActivityLinks<C> {
  /** When it last made progress (performance.now()). */
  lastActive: number;
  /** Unsent output bytes: with some, the send timeout applies. */
  readonly outBytes: number;
  /** The send queue at the last look (-1: not looked at), and when the output last moved. */
  kernelQueued: number;
  outputMovedAt: number;
  /** Bytes sent but not yet acknowledged by the peer (SIOCOUTQ), or 0 when unknown. */
  unacknowledged(): number;
  /** Its idle time ran out: it closes itself (and leaves its list). */
  timeOut(): void;
  /**
   * A held stream's connection, idle for the idle timeout: closes it and says true when its
   * peer has sent its FIN (a client gone, or half-closed), false when the peer may still read.
   */
  closeIfPeerGone(): boolean;
}

export class IdleSweep<Connection extends Swept<Connection>> {
  readonly #active = new ActivityList<Connection>();
  readonly #keptAlive = new ActivityList<Connection>();
  readonly #waiting = new ActivityList<Connection>();
  /** One list per credited silence (by SYN-ACK retransmits): within a list the credit is the same. */
  readonly #silent: ActivityList<Connection>[];
  readonly #timed: [ActivityList<Connection>, number][];
  /** Connections with output pending, ordered by when their send queue was last looked at. */
  readonly #sending = new ActivityList<Connection>();
  readonly #timeoutMs: number;
  readonly #sendTimeoutMs: number;
  readonly #lookEveryMs: number;
  readonly #onTurn: () => void;
  readonly #onSendTimeout: (conn: Connection) => void;
  readonly #clock: SweepClock;
  #stopTimer: (() => void) | undefined;

  /**
   * `onTurn` is told of each timer turn (each costs libuv an epoll_wait); `onSendTimeout`
   * closes a connection whose peer took nothing for `sendTimeoutMs`; `clock` is Node's
   * unless a test gives one.
   */
  constructor(
    timeoutMs: number,
    keepAliveMs: number,
    sendTimeoutMs: number,
    silences: number,
    onTurn: () => void,
    onSendTimeout: (conn: Connection) => void,
    clock: SweepClock = NODE_CLOCK,
  ) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#sendTimeoutMs = sendTimeoutMs;
    this.#lookEveryMs = Math.max(1, sendTimeoutMs / LOOKS_PER_SEND_TIMEOUT);
    this.#silent = Array.from({ length: silences + 1 }, () => new ActivityList<Connection>());
    this.#timed = [
      [this.#active, timeoutMs],
      [this.#keptAlive, keepAliveMs],
      ...this.#silent.map((l) => [l, timeoutMs] as [ActivityList<Connection>, number]),
    ];
    this.#onTurn = onTurn;
    this.#onSendTimeout = onSendTimeout;
  }

  /** Starts the timer: a quarter of the shorter timeout, within 25 ms and 1 s; it never keeps the process alive. */
  start(): void {
    if (this.#stopTimer) return;
    const shortest = Math.min(this.#lookEveryMs * 4, ...this.#timed.map(([, ms]) => ms));
    this.#stopTimer = this.#clock.every(Math.max(25, Math.min(1000, shortest / 4)), this.#sweep);
  }

  stop(): void {
    this.#stopTimer?.();
    this.#stopTimer = undefined;
  }

  /**
   * `conn` made progress (a head started, a body, output, a linger): with output pending its
   * send timeout counts from now (our send moved it), else its idle timeout.
   */
  progress(conn: Connection): void {
    if (conn.outBytes > 0) this.sent(conn, this.#clock.now());
    else this.touch(conn, this.#clock.now());
  }

  /** `conn` made progress now: the idle timeout counts from now. */
  touch(conn: Connection, now: number): void {
    conn.lastActive = now;
    this.#active.touch(conn);
  }

  /** `conn` waits for its next request from now: the keep-alive timeout. */
  idle(conn: Connection, now: number = this.#clock.now()): void {
    conn.lastActive = now;
    conn.kernelQueued = -1;
    this.#keptAlive.touch(conn);
  }

  /** `conn` sent some of its pending output now: the send timeout counts from now. */
  sent(conn: Connection, now: number): void {
    conn.lastActive = now;
    conn.outputMovedAt = now;
    conn.kernelQueued = -1;
    this.#sending.touch(conn);
  }

  /**
   * `conn` waits for its response stream's next chunk: no timeout while its peer may still
   * read, but looked at every idle timeout for the peer's FIN, which only a write or a read
   * would tell (an event stream between events writes nothing for as long as it likes).
   */
  hold(conn: Connection): void {
    conn.lastActive = this.#clock.now();
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
    let n = this.#waiting.size + this.#sending.size;
    for (const [list] of this.#timed) n += list.size;
    return n;
  }

  /** A copy of every open connection (safe to close them while iterating). */
  all(): Connection[] {
    return [this.#waiting, this.#sending, ...this.#timed.map(([l]) => l)].flatMap((list) => list.toArray());
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
        if (list === this.#keptAlive && this.#stillDelivering(conn)) {
          conn.lastActive = now;
          list.touch(conn);
          continue;
        }
        if (conn.outBytes > 0) {
          // Output pending (a response queued behind a send that blocked at once): the
          // send timeout decides, from the last progress this connection made.
          this.#startSending(conn, now);
          continue;
        }
        conn.timeOut();
        // Closing removes it from the list; never loop on one that somehow stayed.
        list.remove(conn);
      }
    }
    this.#lookAtSending(now);
    this.#lookAtHeld(now);
  };

  /** Held streams idle for the idle timeout: closed if their peer has gone, else looked at again later. */
  #lookAtHeld(now: number): void {
    const list = this.#waiting;
    for (let conn = list.oldest; conn !== null && now - conn.lastActive >= this.#timeoutMs; conn = list.oldest) {
      if (conn.closeIfPeerGone()) {
        // Closing removes it from the list; never loop on one that somehow stayed.
        list.remove(conn);
        continue;
      }
      conn.lastActive = now;
      list.touch(conn);
    }
  }

  /**
   * A kept-alive connection whose responses are still leaving the kernel's queue: true when
   * the first look finds bytes queued, or a later one finds fewer than the look before. The
   * look that finds the queue emptied still counts: the peer may be reading the last of it
   * from its own buffer and then send its next request, which deserves a whole keep-alive
   * timeout from then.
   */
  #stillDelivering(conn: Connection): boolean {
    const before = conn.kernelQueued;
    const queued = conn.unacknowledged();
    conn.kernelQueued = queued;
    return before < 0 ? queued > 0 : queued < before;
  }

  #startSending(conn: Connection, now: number): void {
    conn.outputMovedAt = conn.lastActive;
    conn.lastActive = now;
    conn.kernelQueued = conn.unacknowledged();
    this.#sending.touch(conn);
  }

  /**
   * Looks at each sending connection due for a look: progress if its send queue shrank (or
   * emptied) since the last one; closed when nothing moved for the send timeout.
   */
  #lookAtSending(now: number): void {
    const list = this.#sending;
    for (let conn = list.oldest; conn !== null && now - conn.lastActive >= this.#lookEveryMs; conn = list.oldest) {
      if (conn.outBytes === 0) {
        // Its output drained and it stayed here (a partial next head was buffered): the
        // idle timeout again, from now.
        this.touch(conn, now);
        continue;
      }
      const queued = conn.unacknowledged();
      if (conn.kernelQueued >= 0 && (queued < conn.kernelQueued || queued === 0)) conn.outputMovedAt = now;
      conn.kernelQueued = queued;
      if (now - conn.outputMovedAt >= this.#sendTimeoutMs) {
        this.#onSendTimeout(conn);
        list.remove(conn);
        continue;
      }
      conn.lastActive = now;
      list.touch(conn);
    }
  }
}
