/**
 * The completion engine's turns. A turn: the ring (its fd, or with DEFER_TASKRUN its eventfd:
 * see Ring.watch) wakes Node's loop; completions are reaped in place, each connection's
 * output is handed to the ring, one submit, and again while completions keep coming (inline
 * ones of the submit itself). Output queued outside a turn (a handler's answer that came
 * later, a timer) is submitted in a microtask, once per tick.
 */
import { EtltSystemError } from '../../errors.js';
import type { CompletionListener, Ring } from '../../reactor/uring.js';
import type { ReactorCounters } from '../../trace/counters.js';
import type { UringOutput } from './output.js';
import type { Submissions } from './submissions.js';

/** Reap-and-submit rounds per wake-up before Node's loop gets its turn. */
const MAX_ROUNDS = 8;

export class UringTurns {
  readonly #counters: ReactorCounters;
  readonly #onCompletion: CompletionListener;
  /** Runs at the end of a turn the ring woke (not of the turns that follow it in setImmediate). */
  readonly #wakeEnded: () => void;
  readonly #onError: (err: Error) => void;
  #io: Submissions | undefined;
  #dirty: UringOutput[] = [];
  #inTurn = false;
  #scheduled = false;
  #again = false;

  constructor(
    counters: ReactorCounters,
    onCompletion: CompletionListener,
    wakeEnded: () => void,
    onError: (err: Error) => void,
  ) {
    this.#counters = counters;
    this.#onCompletion = onCompletion;
    this.#wakeEnded = wakeEnded;
    this.#onError = onError;
  }

  /** The ring the turns reap and submit to (before it is watched). */
  attach(io: Submissions): void {
    this.#io = io;
  }

  /** `conn` has output for the ring: handed over at the end of this turn, or of this tick. */
  dirty(conn: UringOutput): void {
    if (conn.queued) return;
    conn.queued = true;
    this.#dirty.push(conn);
    this.flushSoon();
  }

  /** Output or SQEs queued outside a turn: submitted once, at the end of this tick. */
  flushSoon(): void {
    if (this.#inTurn || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#outOfTurn);
  }

  /** The ring's watch listener (see Ring.watch). */
  readonly onWake = (count: number, failed?: string): void => {
    const io = this.#io;
    if (io === undefined || io.ring.closed) return;
    const ring = io.ring;
    const rc = this.#counters;
    if (count < 0) {
      this.#onError(new EtltSystemError(count, failed ?? 'epoll_wait'));
      return;
    }
    rc.wakeups++;
    rc.waits++;
    this.#inTurn = true;
    try {
      this.#rounds(io, ring);
      this.#wakeEnded();
    } finally {
      this.#inTurn = false;
      rc.completions = ring.completions;
    }
  };

  #outOfTurn = (): void => {
    this.#scheduled = false;
    const io = this.#io;
    if (io === undefined || io.ring.closed) return;
    this.#inTurn = true;
    try {
      this.#flush();
      io.submit();
    } finally {
      this.#inTurn = false;
    }
  };

  #turnAgain = (): void => {
    this.#again = false;
    const io = this.#io;
    if (io === undefined || io.ring.closed) return;
    this.#counters.readyTurns++;
    this.#inTurn = true;
    try {
      this.#rounds(io, io.ring);
    } finally {
      this.#inTurn = false;
      this.#counters.completions = io.ring.completions;
    }
  };

  #rounds(io: Submissions, ring: Ring): void {
    const defer = ring.taskRun === 'defer';
    let more = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // DEFER_TASKRUN: completions run only when this thread enters; one enter submits too.
      if (defer) {
        this.#flush();
        io.buffers.publish();
        ring.submit(true);
      }
      const reaped = ring.reap(this.#onCompletion);
      this.#flush();
      // DEFER_TASKRUN runs a bounded batch of its task work per enter (the kernel's cap, 20
      // items, the rest kept on a retry list that neither the eventfd nor IORING_SQ_TASKRUN
      // announces): while enters keep producing completions, more may be waiting, and
      // nothing would wake us for them.
      if (defer) {
        more = reaped > 0 || ring.ready();
        // Going round again, the submit rides on the next round's enter: one
        // io_uring_enter a round, not two.
        if (!more) io.submit();
      } else {
        // The submit's own inline completions count: asked after it.
        io.submit();
        more = ring.ready();
      }
      if (!more) return;
    }
    if (defer) io.submit();
    // Still busy: Node's loop gets its turn first (one more libuv poll, as the reactor's ready list).
    if (more && !this.#again) {
      this.#again = true;
      setImmediate(this.#turnAgain);
    }
  }

  #flush(): void {
    const list = this.#dirty;
    for (let i = 0; i < list.length; i++) {
      const conn = list[i]!;
      conn.queued = false;
      conn.flush();
    }
    list.length = 0;
  }
}
