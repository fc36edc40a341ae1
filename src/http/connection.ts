/**
 * One HTTP/1.x connection as an explicit state machine:
 *
 *   Reading --request complete--> Writing --output drained--> finish(): Reading (kept alive)
 *      |   \--handler pending--> Waiting --answer--> Writing      or Lingering --EOF--> Closed
 *      \--EOF, reset, garbage--> Closed                           or Closed
 *
 * The primitives here (read, write, finish) do the syscalls and the state changes; what the
 * bytes mean is the exchange's business (exchange.ts), and *when* the primitives run, and
 * how the epoll interest follows, is the trigger strategy's.
 */
import { sys } from '../sys.js';
import { EAGAIN, EINTR, MSG_DONTWAIT, MSG_PEEK, SHUT_RDWR, SHUT_WR, SOL_SOCKET, SO_LINGER } from '../constants.js';
import { isHangup } from '../reactor/readiness.js';
import type { ServerCounters } from '../trace/counters.js';
import type { ActivityLinks } from './activity.js';
import { CloseReason, ConnState, Next, ReadResult, WriteResult } from './contract.js';
import type { Engine, StrategyConnection, TriggerStrategy } from './contract.js';
import { Exchange, Phase, requestLineIsHttp11 } from './exchange.js';
import { ABORT_CAUSES } from './exchange-contract.js';
import { Buffers, OUTPUT_HIGH_WATER } from './buffers.js';
import { SENDFILE_MAX_CHUNK } from './file-output.js';
import type { ExchangeConn, ExchangeHost } from './exchange.js';

/** What a connection needs of its server beyond what strategies see. */
export interface ConnectionHost extends Engine, ExchangeHost {
  readonly strategy: TriggerStrategy;
  readonly counters: ServerCounters;
  /** One receive buffer shared by all connections: a read's bytes are used before the next. */
  readonly scratch: Buffer;
  /** One buffer to gather several responses into a single send. */
  readonly gather: Buffer;
  /** A cheap monotonic clock in milliseconds. */
  now(): number;
  /** Tells the eager-read policy whether the read found data. */
  eagerResult(hit: boolean): void;
  /** The connection made progress (head started, body, output, linger): idle timeout from now. */
  touch(conn: Connection): void;
  /** The connection waits for its next request: the keep-alive timeout from now. */
  idle(conn: Connection): void;
  /** The connection waits for a handler: no timeout. */
  hold(conn: Connection): void;
  /** `delta` bytes more (or fewer) of partial input are held (see enforceBudget). */
  held(delta: number): void;
  /**
   * Over the budget, closes the connections with the oldest partial requests. Called where a
   * connection's input was just taken in, never in the middle of processing it.
   */
  enforceBudget(): void;
  /** Closes `conn`'s fd and forgets it (called by Connection.close). */
  release(conn: Connection, reason: CloseReason): void;
}

/** Longest a finished connection keeps reading a peer's leftover bytes before closing. */
const LINGER_MAX_MS = 5000;
/** struct linger { l_onoff = 1, l_linger = 0 }: close(2) then resets instead of flushing. */
const RESET_ON_CLOSE = new Uint8Array(new Int32Array([1, 0]).buffer);

/** A client connection: its fd, state, the bytes in flight and the request in progress. */
export class Connection extends Buffers implements StrategyConnection, ExchangeConn, ActivityLinks<Connection> {
  readonly fd: number;
  readonly engine: ConnectionHost;
  state: ConnState = ConnState.Reading;
  unreadInput = false;
  peerClosed = false;
  /** The request in progress and how the exchange ends: made once, reset per request. */
  readonly exchange: Exchange;
  /** Lingering ends at this time (performance.now()) even if the peer keeps sending. */
  lingerUntil = 0;
  /** When the connection last made progress (performance.now()), for the idle timeouts. */
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
    super();
    this.engine = engine;
    this.fd = fd;
    this.lastActive = now;
    this.acceptedAt = now;
    this.exchange = new Exchange(this, engine);
  }

  /** Requests on this connection so far. */
  get requests(): number {
    return this.exchange.requests;
  }

  get gone(): boolean {
    return this.state === ConnState.Closed;
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
          engine.touch(this);
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
      this.#drainInput();
    }
    this.#settle();
    this.engine.enforceBudget();
  }

  /** Processes the buffered input as far as it goes now; frees the buffer once used up. */
  #drainInput(): void {
    const buf = this.inbuf;
    if (buf === null) return;
    const used = this.exchange.processInput(buf, this.inStart, this.inEnd);
    if (this.inbuf !== buf) return;
    if (used < 0 || used >= this.inEnd) this.dropInput();
    else this.inStart = used;
  }

  protected holdBytes(delta: number): void {
    this.engine.held(delta);
  }

  /**
   * The one place the connection's state is derived, from the exchange's phase and the
   * output queue: output pending, a handler pending, or input awaited.
   */
  #settle(): void {
    if (this.state === ConnState.Closed || this.state === ConnState.Lingering) return;
    const x = this.exchange;
    // A connection to close with nothing left to send (a stream that failed after its last
    // bytes went out) goes through the write path too: finish() closes it.
    // A handler waiting for its streamed body may have a 100 Continue queued, which the
    // client waits for before it sends that body: it goes out now, not with the answer.
    if ((this.outBytes > 0 && (x.phase !== Phase.Waiting || x.bodyOpen)) || x.phase === Phase.Closing)
      this.state = ConnState.Writing;
    // A streamed request body is read while its handler runs, until the handler falls behind.
    else if (x.bodyOpen && !x.inputPaused) this.state = ConnState.Reading;
    else if (x.phase === Phase.Waiting || x.phase === Phase.Streaming || x.inputPaused) this.state = ConnState.Waiting;
    else {
      this.state = ConnState.Reading;
      // Between requests without passing through finish(): a body that ended after its
      // answer had gone out. The keep-alive timeout applies from now (and during close(),
      // nothing is in flight any more).
      if (x.betweenRequests && this.inbuf === null && x.requests > 0) this.engine.idle(this);
    }
  }

  headStarted(): void {
    // The first head's clock started at accept (or earlier, for a deferred silence).
    if (this.requests > 0) this.engine.touch(this);
  }

  bodyProgress(): void {
    this.engine.touch(this);
  }

  setWaiting(_waiting: boolean): void {
    // A handler has the idle timeout to answer, from its call and again from its answer.
    this.engine.touch(this);
  }

  resume(): void {
    if (this.state === ConnState.Closed) return;
    this.#drainInput();
    this.#settle();
    this.engine.strategy.onConnectionReady(this);
  }

  abort(): void {
    this.close(CloseReason.Aborted);
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
        if (this.out0 !== null) this.engine.touch(this);
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
   * After the output drained: close at once; or, when the peer may still be sending
   * (pipelined requests behind a closing response, a body not read), half-close and read
   * until its EOF first, since closing with unread bytes makes the kernel send RST, which
   * can destroy the response before the client reads it (RFC 9112 section 9.6); or keep
   * the connection alive and answer the requests already buffered.
   */
  finish(): Next {
    if (this.state === ConnState.Closed) return Next.Closed;
    this.engine.counters.responses += this.unsent;
    this.unsent = 0;
    const x = this.exchange;
    if (x.phase === Phase.Streaming) {
      x.stream?.drained();
      if (x.bodyOpen && !x.inputPaused) {
        // The request body is still coming (an echo, say): read it meanwhile.
        this.state = ConnState.Reading;
        this.engine.touch(this);
        return Next.Read;
      }
      // Everything produced so far is out: wait for the stream's next chunk.
      this.state = ConnState.Waiting;
      this.engine.hold(this);
      return Next.Wait;
    }
    if (x.phase === Phase.Waiting) {
      // What went out was queued ahead of the handler's answer (a 100 Continue for the body
      // it waits for): the answer is still to come, and the body is read meanwhile.
      this.#settle();
      this.engine.touch(this);
      return this.state === ConnState.Reading ? Next.Read : Next.Wait;
    }
    const draining = this.engine.draining && x.phase === Phase.Head && this.outBytes === 0;
    if (x.closeAfter || draining) {
      const unread = x.lingerNeeded || this.inbuf !== null || x.phase === Phase.Body || x.bodyOpen || draining;
      if (unread && !this.peerClosed) return this.#linger();
      this.close(CloseReason.Done);
      return Next.Closed;
    }
    if (this.inbuf !== null) {
      this.#drainInput();
      this.#settle();
      if (this.state === ConnState.Writing) return Next.Write;
      if (this.state === ConnState.Waiting) return Next.Wait;
      if ((this.state as ConnState) === ConnState.Closed) return Next.Closed;
    }
    if (this.peerClosed) {
      this.close(this.inbuf === null && x.phase === Phase.Head ? CloseReason.Done : CloseReason.Aborted);
      return Next.Closed;
    }
    this.state = ConnState.Reading;
    if (this.inbuf === null && x.betweenRequests) this.engine.idle(this);
    return Next.Read;
  }

  #linger(): Next {
    this.engine.counters.shutdown++;
    sys.shutdown(this.fd, SHUT_WR);
    this.state = ConnState.Lingering;
    this.dropInput();
    this.lingerUntil = this.engine.now() + LINGER_MAX_MS;
    this.engine.touch(this);
    return Next.Read;
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

  /** The idle timeout ran out: a head that was arriving too slowly gets 408 first (as nginx logs it). */
  timeOut(): void {
    const x = this.exchange;
    if (this.state === ConnState.Waiting && x.phase === Phase.Waiting) {
      // A handler that never answered: 503 in its place, then close (its signal aborts).
      x.cutOff();
      this.#sendOnce();
    }
    if (this.state === ConnState.Reading && (this.inbuf !== null || x.headScanned > 0) && this.outBytes === 0) {
      const http11 = this.inbuf !== null ? requestLineIsHttp11(this.inbuf, this.inStart, this.inEnd) : x.http11;
      // Through the output queue, so the bytes are counted; one try, as the connection closes now.
      this.queue(this.engine.errors.get(408, http11), null);
      this.#sendOnce();
    }
    const keptAlive = this.state === ConnState.Reading && this.inbuf === null && x.betweenRequests && x.requests > 0;
    if (keptAlive) this.engine.counters.keepAliveTimeouts++;
    this.close(keptAlive ? CloseReason.Done : CloseReason.TimedOut);
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

  /** Closes the fd (which also removes it from the epoll set) and forgets the connection. */
  close(reason: CloseReason): void {
    if (this.state === ConnState.Closed) return;
    // A response abandoned by a peer that stopped reading: reset, so the kernel does not
    // keep retrying the unsent bytes for minutes after we let go of them.
    if (this.state === ConnState.Writing && reason !== CloseReason.Done) {
      sys.setsockopt(this.fd, SOL_SOCKET, SO_LINGER, RESET_ON_CLOSE);
    }
    this.state = ConnState.Closed;
    this.dropInput();
    this.dropOutput();
    this.exchange.release(ABORT_CAUSES[reason] ?? 'reset', this.peerClosed);
    this.engine.release(this, reason);
  }

  /** One send of the pending output, counted, whatever it comes to (the connection is closing). */
  #sendOnce(): void {
    const c = this.engine.counters;
    c.send++;
    this.sendCalls++;
    const n = this.sendSome(this.engine.gather);
    if (n > 0) {
      c.bytesOut += n;
      this.bytesOut += n;
    }
  }
}
