/**
 * One HTTP/1.0 connection as an explicit state machine:
 *
 *   Reading --head complete--> Writing --all sent--> (close) or Lingering --EOF--> Closed
 *      \--EOF, reset, garbage--> Closed            \--peer gone--> Closed
 *
 * The primitives here (read, write, finish) do the syscalls and state changes; *when* they
 * run, and how the epoll interest follows, is the trigger strategy's business.
 */
import { native } from '../binding/index.js';
import { MSG_NOSIGNAL, SHUT_RDWR, SHUT_WR, SOL_SOCKET, SO_LINGER, EAGAIN, EINTR } from '../constants.js';
import { isHangup } from '../reactor/readiness.js';
import type { ServerCounters } from '../trace/counters.js';
import type { ActivityLinks } from './activity.js';
import { CloseReason, ConnState, ReadResult, WriteResult } from './contract.js';
import type { Engine, StrategyConnection, TriggerStrategy } from './contract.js';
import { HeadState, methodPlausible, requestLineValid, scanHead } from './parser.js';

/** What a connection needs of its server beyond what strategies see. */
export interface ConnectionHost extends Engine {
  readonly strategy: TriggerStrategy;
  readonly counters: ServerCounters;
  /** One receive buffer shared by all connections: a read's bytes are consumed before the next. */
  readonly scratch: Buffer;
  /** The response every request gets, built once. */
  readonly response: Buffer;
  readonly badRequest: Buffer;
  readonly headTooLarge: Buffer;
  readonly maxHeadBytes: number;
  /** Called with each complete request's bytes (valid only during the call). */
  readonly onRequest: ((request: Buffer) => void) | undefined;
  /** A cheap monotonic clock in milliseconds. */
  now(): number;
  /** Tells the eager-read policy whether the read found data. */
  eagerResult(hit: boolean): void;
  /** Marks `conn` as active for the idle timeout. */
  touch(conn: Connection): void;
  /** Closes `conn`'s fd and forgets it (called by Connection.close). */
  release(conn: Connection, reason: CloseReason): void;
}

/** "GET " or "HEAD ": requests that carry no body (RFC 9110 section 9.3). */
function isGetOrHead(buf: Uint8Array): boolean {
  if (buf[0] === 0x47) return buf[1] === 0x45 && buf[2] === 0x54 && buf[3] === 0x20;
  return buf[0] === 0x48 && buf[1] === 0x45 && buf[2] === 0x41 && buf[3] === 0x44 && buf[4] === 0x20;
}
/** Longest a finished connection keeps reading a peer's leftover bytes before closing. */
const LINGER_MAX_MS = 5000;
/** struct linger { l_onoff = 1, l_linger = 0 }: close(2) then resets instead of flushing. */
const RESET_ON_CLOSE = new Uint8Array(new Int32Array([1, 0]).buffer);

/** A client connection: its fd, state and the bytes in flight. */
export class Connection implements StrategyConnection, ActivityLinks<Connection> {
  readonly fd: number;
  readonly engine: ConnectionHost;
  state: ConnState = ConnState.Reading;
  /** Bytes of an incomplete head, kept only when a head spans several reads. */
  partial: Buffer | null = null;
  /** How many bytes of `partial` hold the head so far (the rest is room to grow into). */
  partialLength = 0;
  /** The response being sent (shared by all connections) and how much of it went out. */
  out: Buffer | null = null;
  outOffset = 0;
  /** The peer sent bytes past the head (a body, pipelining) or was refused: linger before close. */
  linger = false;
  /** Lingering ends at this time (performance.now()) even if the peer keeps sending. */
  lingerUntil = 0;
  /**
   * When the connection last made progress (performance.now()), for the idle timeout. While
   * reading the head it stays at the accept time: the head must be complete within the timeout.
   */
  lastActive: number;
  /** Neighbours in the server's activity list (see ActivityList). */
  olderActive: Connection | null = null;
  newerActive: Connection | null = null;
  activeList: { remove(item: Connection): void } | null = null;
  /** Per-connection counts (see ConnectionRecord). */
  readonly acceptedAt: number;
  events = 0;
  useless = 0;
  recvCalls = 0;
  recvAgain = 0;
  sendCalls = 0;
  sendAgain = 0;
  ctlCalls = 0;
  bytesIn = 0;
  bytesOut = 0;

  constructor(engine: ConnectionHost, fd: number, now: number) {
    this.engine = engine;
    this.fd = fd;
    this.lastActive = now;
    this.acceptedAt = now;
  }

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
    for (let i = 0; i < maxReads; i++) {
      c.recv++;
      this.recvCalls++;
      const n = native.recv(this.fd, scratch, 0, size, 0);
      if (n > 0) {
        c.bytesIn += n;
        this.bytesIn += n;
        if (this.state === ConnState.Lingering) {
          // A peer still sending its body is not idle: timing it out would close with unread
          // bytes, and the RST that follows can destroy the response the linger protects.
          this.lastActive = engine.now();
          engine.touch(this);
          // But not for ever: a peer trickling bytes would hold the fd (nginx's lingering_time).
          if (this.lastActive > this.lingerUntil) {
            this.close(CloseReason.Done);
            return ReadResult.Closed;
          }
          if (n < size && !isHangup(events)) return ReadResult.Drained;
          continue;
        }
        const r = this.#take(scratch, n);
        if (r !== ReadResult.Drained) return r;
        // Bytes of a head do not postpone the idle timeout: the whole head must arrive within
        // it, counted from accept, or a client trickling a byte now and then would hold its fd
        // for hours (slowloris; nginx's client_header_timeout works the same way).
        if (n < size && !isHangup(events)) return ReadResult.Drained;
      } else if (n === 0) {
        // EOF. A complete request was already answered; anything else is an abort.
        this.close(this.state === ConnState.Lingering ? CloseReason.Done : CloseReason.Aborted);
        return ReadResult.Closed;
      } else if (n === -EAGAIN) {
        c.recvAgain++;
        this.recvAgain++;
        return ReadResult.Drained;
      } else if (n !== -EINTR) {
        this.close(CloseReason.Aborted);
        return ReadResult.Closed;
      }
    }
    return ReadResult.Budget;
  }

  /** Feeds received bytes to the head scanner; `data` is only valid until the next recv. */
  #take(data: Buffer, n: number): ReadResult {
    const engine = this.engine;
    let buf: Buffer;
    let from: number;
    if (this.partial === null) {
      buf = data;
      from = 0;
    } else {
      // Grown by doubling, so a head trickled in tiny pieces costs linear copying, not quadratic.
      from = this.partialLength;
      if (from + n > this.partial.length) {
        const grown = Buffer.allocUnsafe(Math.max(from + n, this.partial.length * 2));
        this.partial.copy(grown, 0, 0, from);
        this.partial = grown;
      }
      data.copy(this.partial, from, 0, n);
      this.partialLength = from + n;
      buf = this.partial;
    }
    const total = from + n;
    const end = scanHead(buf, from, total);
    if (end > 0 && methodPlausible(buf, end)) {
      // Unread bytes past the head, or a method that usually carries a body still on its
      // way: half-close and drain before closing, or the RST could destroy the response.
      if (end < total || !isGetOrHead(buf)) this.linger = true;
      engine.counters.requests++;
      if (end > engine.maxHeadBytes) {
        this.#respondError(431);
        return ReadResult.Complete;
      }
      if (!requestLineValid(buf, 0, end)) {
        this.#respondError(400);
        return ReadResult.Complete;
      }
      engine.onRequest?.(buf.subarray(0, total));
      this.partial = null;
      this.out = engine.response;
      this.outOffset = 0;
      this.state = ConnState.Writing;
      return ReadResult.Complete;
    }
    if (end === HeadState.Garbage || !methodPlausible(buf, total)) {
      this.close(CloseReason.Aborted);
      return ReadResult.Closed;
    }
    if (total > engine.maxHeadBytes) {
      engine.counters.requests++;
      this.#respondError(431);
      return ReadResult.Complete;
    }
    if (this.partial === null) {
      this.partial = Buffer.allocUnsafe(Math.max(256, 2 * n));
      data.copy(this.partial, 0, 0, n);
      this.partialLength = n;
    }
    return ReadResult.Drained;
  }

  #respondError(status: 400 | 431): void {
    this.engine.counters.rejected++;
    this.partial = null;
    this.linger = true;
    this.out = status === 400 ? this.engine.badRequest : this.engine.headTooLarge;
    this.outOffset = 0;
    this.state = ConnState.Writing;
  }

  /** Sends what is left of the response, at most `maxWrites` send calls. */
  write(maxWrites: number): WriteResult {
    const out = this.out!;
    const c = this.engine.counters;
    for (let i = 0; i < maxWrites; i++) {
      c.send++;
      this.sendCalls++;
      const n = native.send(this.fd, out, this.outOffset, out.length - this.outOffset, MSG_NOSIGNAL);
      if (n >= 0) {
        c.bytesOut += n;
        this.bytesOut += n;
        this.outOffset += n;
        if (this.outOffset === out.length) {
          c.responses++;
          return WriteResult.Done;
        }
        this.lastActive = this.engine.now();
        this.engine.touch(this);
      } else if (n === -EAGAIN) {
        c.sendAgain++;
        this.sendAgain++;
        return WriteResult.Blocked;
      } else if (n !== -EINTR) {
        this.close(CloseReason.Aborted);
        return WriteResult.Closed;
      }
    }
    return WriteResult.Budget;
  }

  /**
   * Right after accept, before any registration: read, and if the request is complete,
   * respond. Returns false when the connection is done with (answered and closed, or
   * gone), true when it must be registered; its state then says what it waits for.
   */
  serveEagerly(maxReads: number, maxWrites: number): boolean {
    const r = this.read(maxReads, 0);
    this.engine.eagerResult(r !== ReadResult.Drained || this.partial !== null);
    if (r === ReadResult.Closed) return false;
    if (r !== ReadResult.Complete) return true;
    const w = this.write(maxWrites);
    if (w === WriteResult.Closed) return false;
    return w !== WriteResult.Done || this.finish();
  }

  /**
   * After the response: close at once, or, when the peer sent more than we read, half-close
   * and read until its EOF first. Closing with unread bytes makes the kernel send RST,
   * which can destroy the response before the client reads it (RFC 9112 section 9.6).
   * Returns true when the connection is now lingering (still open, wants EPOLLIN).
   */
  finish(): boolean {
    if (!this.linger) {
      this.close(CloseReason.Done);
      return false;
    }
    this.engine.counters.shutdown++;
    native.shutdown(this.fd, SHUT_WR);
    this.state = ConnState.Lingering;
    this.out = null;
    this.lastActive = this.engine.now();
    this.lingerUntil = this.lastActive + LINGER_MAX_MS;
    this.engine.touch(this);
    return true;
  }

  /**
   * The seed's ending: shut both directions down and wait for the EPOLLHUP that follows,
   * closing only then. Costs an extra wake-up and epoll_ctl compared with `finish`.
   */
  shutdownBoth(): void {
    this.engine.counters.shutdown++;
    native.shutdown(this.fd, SHUT_RDWR);
    this.state = ConnState.Lingering;
    this.out = null;
  }

  /** Closes the fd (which also removes it from the epoll set) and forgets the connection. */
  close(reason: CloseReason): void {
    if (this.state === ConnState.Closed) return;
    // A response abandoned by a peer that stopped reading: reset, so the kernel does not
    // keep retrying the unsent bytes for minutes after we let go of them.
    if (this.state === ConnState.Writing && reason !== CloseReason.Done) {
      native.setsockopt(this.fd, SOL_SOCKET, SO_LINGER, RESET_ON_CLOSE);
    }
    this.state = ConnState.Closed;
    this.partial = null;
    this.out = null;
    this.engine.release(this, reason);
  }
}
