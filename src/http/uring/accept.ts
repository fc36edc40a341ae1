/**
 * The completion engine's accepting: one multishot accept on the listener, armed again when
 * the kernel ends it; when the process is out of fds, the queued connections shed with the
 * spare fd and the accept retried later rather than at once; with TCP_DEFER_ACCEPT, the
 * silence before accept credited to the idle time of connections that came without data.
 */
import { sys } from '../../sys.js';
import { ECANCELED, EMFILE, ENFILE, IORING_CQE_F_MORE } from '../../constants.js';
import type { ReactorCounters, ServerCounters } from '../../trace/counters.js';
import { ConnState } from '../contract.js';
import { AcceptGuard } from '../accept-guard.js';
import { SilenceMeter } from '../deferred-accept.js';
import type { IdleSweep } from '../idle-sweep.js';
import type { UringConnection } from './connection.js';
import type { Submissions } from './submissions.js';

/** After EMFILE/ENFILE the multishot accept ends; it is armed again this much later. */
const ACCEPT_RETRY_MS = 100;
/** Connections shed per EMFILE completion at most (the rest at the next retry). */
const ACCEPT_SHED_MAX = 64;

export class UringAcceptor {
  readonly #counters: ServerCounters;
  readonly #reactorCounters: ReactorCounters;
  readonly #sweep: IdleSweep<UringConnection>;
  /** Makes a connection of an accepted fd (the engine's). */
  readonly #adopt: (fd: number) => UringConnection;
  /** Has what was prepared outside a turn submitted (the engine's). */
  readonly #flushSoon: () => void;
  #io: Submissions | undefined;
  #listenerFd = -1;
  #armed = false;
  #closing = false;
  #retryTimer: NodeJS.Timeout | undefined;
  /** The listener has TCP_DEFER_ACCEPT: a connection with nothing to read was silent before accept. */
  #deferred = false;
  readonly #silence = new SilenceMeter();
  /** The spare fd that lets a connection be accepted and shed when the process is out of fds. */
  readonly #guard = new AcceptGuard(
    () => {},
    () => {},
  );
  /** Connections accepted in this turn, to look for silent ones at its end (deferred accept). */
  readonly #fresh: UringConnection[] = [];

  constructor(
    counters: ServerCounters,
    reactorCounters: ReactorCounters,
    sweep: IdleSweep<UringConnection>,
    adopt: (fd: number) => UringConnection,
    flushSoon: () => void,
  ) {
    this.#counters = counters;
    this.#reactorCounters = reactorCounters;
    this.#sweep = sweep;
    this.#adopt = adopt;
    this.#flushSoon = flushSoon;
  }

  /** Arms the multishot accept on `listenerFd` (submitted with the caller's next submit). */
  start(io: Submissions, listenerFd: number, deferred: boolean): void {
    this.#io = io;
    this.#listenerFd = listenerFd;
    this.#deferred = deferred;
    this.#guard.openSpare();
    this.#arm();
  }

  /** Stops accepting: the multishot accept is cancelled now, before the listener is closed. */
  stop(): void {
    this.#closing = true;
    this.close();
    const io = this.#io;
    if (io !== undefined && !io.ring.closed && this.#armed) io.cancelNow(this.#listenerFd);
  }

  /** Lets go of the spare fd and the retry timer. */
  close(): void {
    this.#guard.close();
    clearTimeout(this.#retryTimer);
  }

  /** An accept completion: `res` is the new fd or -errno. */
  completed(res: number, flags: number): void {
    const c = this.#counters;
    if ((flags & IORING_CQE_F_MORE) === 0) this.#armed = false;
    if (res >= 0) {
      c.accept++;
      this.#reactorCounters.ringAccept++;
      if (this.#closing) {
        sys.close(res);
        c.close++;
      } else {
        const conn = this.#adopt(res);
        if (this.#deferred) this.#fresh.push(conn);
      }
    } else if (res === -EMFILE || res === -ENFILE) {
      c.fdExhausted++;
      // Out of fds: the queued connections are accepted with the spare fd and closed at once,
      // so their clients see a clean close instead of hanging in the listen queue.
      for (let i = 0; i < ACCEPT_SHED_MAX && this.#guard.shedOne(this.#listenerFd, c) > 0; i++);
    } else if (res !== -ECANCELED) {
      c.acceptAgain++;
    }
    if (!this.#armed && !this.#closing) {
      if (res === -EMFILE || res === -ENFILE) {
        // Out of fds: accepting again at once would fail at once; wait for connections to close.
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => {
          this.#arm();
          this.#flushSoon();
        }, ACCEPT_RETRY_MS);
        this.#retryTimer.unref();
      } else this.#arm();
    }
  }

  /**
   * At a turn's end, deferred accept: a connection whose request came with it was answered
   * within the turn (its recv completed inline). One with nothing read by the turn's end was
   * handed over after a silence (the kernel's SYN-ACK retransmits), which counts towards its
   * idle time.
   */
  turnEnded(): void {
    if (this.#fresh.length === 0) return;
    for (const conn of this.#fresh) {
      if (conn.bytesIn > 0 || conn.state !== ConnState.Reading) continue;
      const k = this.#silence.synAckRetransmits(conn.fd);
      if (k > 0) this.#sweep.credit(conn, k);
    }
    this.#fresh.length = 0;
  }

  #arm(): void {
    if (this.#closing || this.#armed) return;
    this.#io!.accept(this.#listenerFd);
    this.#armed = true;
  }
}
