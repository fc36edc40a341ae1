/**
 * One HTTP/1.x connection as an explicit state machine:
 *
 *   Reading --request complete--> Writing --output drained--> finish(): Reading (kept alive)
 *      |   \--handler pending--> Waiting --answer--> Writing      or Lingering --EOF--> Closed
 *      \--EOF, reset, garbage--> Closed                           or Closed
 *
 * The primitives (read and write here, finish in connection-core.ts, which the completion
 * engine's connection shares) do the syscalls and the state changes; what the bytes mean
 * is the exchange's business (exchange.ts), and *when* the primitives run, and how the
 * epoll interest follows, is the trigger strategy's.
 */
import { sys } from '../sys.js';
import { EAGAIN, EINTR, MSG_DONTWAIT, MSG_PEEK, SHUT_RDWR } from '../constants.js';
import { isHangup } from '../reactor/readiness.js';
import type { ServerCounters } from '../trace/counters.js';
import type { ActivityLinks } from './idle-sweep.js';
import { CloseReason, ConnState, Next, ReadResult, WriteResult } from './contract.js';
import type { Engine, StrategyConnection, TriggerStrategy } from './contract.js';
import { Phase } from './exchange.js';
import { OUTPUT_HIGH_WATER } from './buffers.js';
import { ConnectionCore } from './connection-core.js';
import type { ConnectionCoreHost } from './connection-core.js';
import { SENDFILE_MAX_CHUNK } from './file-output.js';

/** What a connection needs of its server beyond what strategies see. */
export interface ConnectionHost extends Engine, ConnectionCoreHost {
  readonly strategy: TriggerStrategy;
  readonly counters: ServerCounters;
  /** One receive buffer shared by all connections: a read's bytes are used before the next. */
  readonly scratch: Buffer;
  /** Tells the eager-read policy whether the read found data. */
  eagerResult(hit: boolean): void;
}

/**
 * A client connection on a readiness backend: its reads and sends; the state, the bytes in
 * flight, the exchange and the lifecycle after a response are the core's (connection-core.ts).
 */
export class Connection
  extends ConnectionCore<ConnectionHost>
  implements StrategyConnection, ActivityLinks<Connection>
{
  unreadInput = false;

  onEvents(events: number): void {
    // An event after which nothing moved (no byte in or out, same state) was a wake-up for nothing.
    const c = this.engine.counters;
    const before = c.bytesIn + c.bytesOut;
    const state = this.state;
    this.events++;
    this.engine.strategy.onConnection(this, events);
    if (this.state === state && c.bytesIn + c.bytesOut === before) {
      c.useless++;
      this.useless++;
    }
  }

  onReady(): void {
    this.engine.strategy.onConnectionReady(this);
  }

  noteInput(): void {
    this.unreadInput = true;
  }

  /**
   * Reads up to `maxReads` times. A short read means the socket was drained at that moment
   * (man 7 epoll: for stream sockets a short read is as good as EAGAIN), which saves the
   * EAGAIN syscall; unless the peer hung up, where one more recv must see the EOF.
   */
  read(maxReads: number, events: number, chunk = this.engine.scratch.length): ReadResult {
    const engine = this.engine;
    const c = engine.counters;
    const scratch = engine.scratch;
    const size = Math.min(chunk, scratch.length);
    this.unreadInput = false;
    for (let i = 0; i < maxReads; i++) {
      c.recv++;
      this.recvCalls++;
      const n = sys.recv(this.fd, scratch, 0, size, 0);
      if (n > 0) {
        c.bytesIn += n;
        this.bytesIn += n;
        const more = n === size || isHangup(events);
        if (this.state === ConnState.Lingering) {
          // A peer still sending its body is not idle, but not for ever either (nginx's lingering_time).
          engine.sweep.progress(this);
          if (this.lastActive > this.lingerUntil) {
            this.close(CloseReason.Done);
            return ReadResult.Closed;
          }
          if (!more) return ReadResult.Drained;
          continue;
        }
        this.#input(scratch, n);
        const state = this.state as ConnState;
        if (state === ConnState.Closed) return ReadResult.Closed;
        if (state === ConnState.Writing) {
          this.unreadInput = more;
          return ReadResult.Complete;
        }
        if (state === ConnState.Waiting) {
          this.unreadInput = more;
          return ReadResult.Paused;
        }
        if (!more) return ReadResult.Drained;
      } else if (n === 0) {
        return this.#eof();
      } else if (n === -EAGAIN) {
        c.recvAgain++;
        this.recvAgain++;
        return ReadResult.Drained;
      } else if (n !== -EINTR) {
        this.close(CloseReason.Aborted);
        return ReadResult.Closed;
      }
    }
    this.unreadInput = true;
    return ReadResult.Budget;
  }

  /** The peer sent its FIN: answer what is complete, then close (RFC 9112 section 9.6, half-close). */
  #eof(): ReadResult {
    this.peerClosed = true;
    // A streamed body cut short: its handler's iterator throws, and nothing can follow.
    if (this.exchange.bodyOpen && this.state !== ConnState.Lingering) {
      this.close(CloseReason.Aborted);
      return ReadResult.Closed;
    }
    if (this.state === ConnState.Lingering) {
      this.close(CloseReason.Done);
      return ReadResult.Closed;
    }
    if (this.state === ConnState.Writing) return ReadResult.Complete;
    if (this.state === ConnState.Waiting) return ReadResult.Paused;
    // Idle between requests is a normal end; a request cut off midway is an abort.
    const x = this.exchange;
    const midway = this.inbuf !== null || x.phase === Phase.Body || x.requests === 0;
    this.close(midway ? CloseReason.Aborted : CloseReason.Done);
    return ReadResult.Closed;
  }

  /** Received bytes: used where they lie when nothing is buffered, else appended first. */
  #input(data: Buffer, n: number): void {
    if (this.inbuf === null) {
      const used = this.exchange.processInput(data, 0, n);
      if (used >= 0 && used < n && this.state !== ConnState.Closed) this.keepInput(data, used, n);
    } else {
      this.appendInput(data, n);
      this.drainInput();
    }
    this.settle();
    if (this.engine.inputOverBudget) this.engine.enforceBudget();
  }

  resume(): void {
    if (this.state === ConnState.Closed) return;
    this.drainInput();
    this.settle();
    this.engine.strategy.onConnectionReady(this);
  }

  /** Sends the pending output: at most `maxWrites` send calls, and SENDFILE_MAX_CHUNK of files. */
  write(maxWrites: number): WriteResult {
    const c = this.engine.counters;
    let fileBytes = 0;
    for (let i = 0; i < maxWrites; i++) {
      if (this.out0 === null) return WriteResult.Done;
      if (fileBytes >= SENDFILE_MAX_CHUNK) return WriteResult.Budget;
      c.send++;
      this.sendCalls++;
      const files = this.outFiles > 0;
      const n = this.sendSome(this.engine.gather);
      if (n >= 0) {
        if (files) fileBytes += n;
        c.bytesOut += n;
        this.bytesOut += n;
        // Progress on a response not yet out restarts its idle clock; once all is out,
        // finish() places the connection (kept alive, lingering or closed) itself.
        if (this.out0 !== null) this.engine.sweep.progress(this);
        // A streamed body waits for room: there is some now.
        if (this.outBytes <= OUTPUT_HIGH_WATER) this.exchange.stream?.drained();
        continue;
      } else if (n !== -EAGAIN) {
        if (n === -EINTR) continue;
        this.close(CloseReason.Aborted);
        return WriteResult.Closed;
      }
      c.sendAgain++;
      this.sendAgain++;
      return WriteResult.Blocked;
    }
    return this.out0 === null ? WriteResult.Done : WriteResult.Budget;
  }

  /**
   * Right after accept, before any registration: read, and if requests are complete, answer
   * them. False when the connection is done with (answered and closed, or gone); true when
   * it must be registered, its state then saying what it waits for.
   */
  serveEagerly(maxReads: number, maxWrites: number): boolean {
    const r = this.read(maxReads, 0);
    this.engine.eagerResult(r !== ReadResult.Drained || this.inbuf !== null);
    if (r === ReadResult.Closed) return false;
    if (r !== ReadResult.Complete) return true;
    const w = this.write(maxWrites);
    if (w === WriteResult.Closed) return false;
    return w !== WriteResult.Done || this.finish() !== Next.Closed;
  }

  /**
   * The seed's ending: shut both directions down and wait for the EPOLLHUP that follows,
   * closing only then. Costs an extra wake-up and epoll_ctl compared with `finish`.
   */
  shutdownBoth(): void {
    this.engine.counters.responses += this.unsent;
    this.unsent = 0;
    this.engine.counters.shutdown++;
    sys.shutdown(this.fd, SHUT_RDWR);
    this.state = ConnState.Lingering;
    this.dropInput();
  }

  /**
   * A held stream's peer may have sent its FIN while nothing read (the strategies do not
   * read a waiting connection): a peek that finds the end and nothing before it closes.
   */
  closeIfPeerGone(): boolean {
    if (!this.peerClosed && sys.recv(this.fd, this.engine.scratch, 0, 1, MSG_PEEK | MSG_DONTWAIT) !== 0) return false;
    this.peerClosed = true;
    this.close(CloseReason.Aborted);
    return true;
  }
}
