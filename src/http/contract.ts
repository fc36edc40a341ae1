/**
 * The leaf every part of the HTTP core shares: what a trigger strategy is, what it may use
 * of the server (the engine) and of a connection, and the enums their calls return.
 * It imports no other module of `http/`, so a strategy can be tested against a fake
 * connection and engine, and only the engine builds real connections.
 */
import type { Pollable, Reactor } from '../reactor/reactor.js';
import type { ServerCounters } from '../trace/counters.js';
import type { StrategyFacts } from './trigger/catalog.js';

/** Where a connection is in its life. */
export const enum ConnState {
  /** Waiting for input: a head, a body, or (kept alive) the next request. */
  Reading = 0,
  /** Output is pending. */
  Writing = 1,
  /** Done, half-closed, reading the peer's leftover bytes until its EOF. */
  Lingering = 2,
  Closed = 3,
  /** A handler's answer is pending: nothing to read or write until it comes. */
  Waiting = 4,
}

/** What a read turn ended with. */
export const enum ReadResult {
  /** Nothing more to read now (EAGAIN or a short read): wait for readiness. */
  Drained = 0,
  /** The read budget ran out with data possibly left: needs another turn. */
  Budget = 1,
  /** A response (or an interim 100 Continue) is ready to write. */
  Complete = 2,
  /** The connection was closed. */
  Closed = 3,
  /** A handler's answer is pending: stop reading until the connection resumes itself. */
  Paused = 4,
}

/** What a write turn ended with. */
export const enum WriteResult {
  /** Everything was sent. */
  Done = 0,
  /** The socket buffer is full (EAGAIN): wait for writability. */
  Blocked = 1,
  /** The write budget ran out: needs another turn. */
  Budget = 2,
  /** The peer is gone; the connection was closed. */
  Closed = 3,
}

/** What a connection wants after its output drained (see `finish`). */
export const enum Next {
  /** It was closed. */
  Closed = 0,
  /** Input: the next request, the rest of a body, or (lingering) the peer's EOF. */
  Read = 1,
  /** More output: buffered pipelined requests were answered. */
  Write = 2,
  /** A handler's answer is pending; the connection resumes itself (onConnectionReady). */
  Wait = 3,
}

/** Why a connection ended, for the counters and the connection records. */
export const enum CloseReason {
  Done = 0,
  Aborted = 1,
  TimedOut = 2,
  Shutdown = 3,
}

/** What an accept turn ended with. */
export const enum AcceptResult {
  /** The listen queue is empty (EAGAIN). */
  Drained = 0,
  /** The budget ran out with connections possibly still queued. */
  Budget = 1,
  /** Accepting is paused (out of fds with no spare, or the server is closing). */
  Paused = 2,
}

/** The server, as a strategy sees it. */
export interface Engine {
  readonly reactor: Reactor;
  readonly counters: ServerCounters;
  /** The listening socket's pollable. */
  readonly listener: Pollable;
  /**
   * The listener is shared with other processes and registered with EPOLLEXCLUSIVE: its
   * interest can be withdrawn and added again, never modified (see trigger/listener.ts).
   */
  readonly exclusiveListener?: boolean;
  /** Accepts up to `max` connections, handing each to the strategy's `onAccepted`. */
  accept(max: number): AcceptResult;
  /**
   * Whether to try recv right after this accept, before any epoll registration: HTTP
   * clients send at once, so the request is often there already, and then the connection
   * costs no epoll_ctl and no wake-up at all. A miss costs one recv (EAGAIN).
   */
  readEagerly(): boolean;
}

/** A connection, as a strategy drives it: the syscalls and state changes, never the policy. */
export interface StrategyConnection extends Pollable {
  readonly state: ConnState;
  readonly engine: Engine;
  /**
   * Reads up to `maxReads` times (at most `chunk` bytes each). `events` is what woke it
   * (0 when nothing did): after a hang-up a short read is not taken as "drained".
   */
  read(maxReads: number, events: number, chunk?: number): ReadResult;
  /** Sends the pending output, at most `maxWrites` send calls. */
  write(maxWrites: number): WriteResult;
  /**
   * The socket may hold bytes not read yet although no edge will announce them (a read
   * stopped before EAGAIN, or input arrived while writing): an edge-triggered strategy
   * must read before it waits.
   */
  readonly unreadInput: boolean;
  /** Notes that input arrived while the connection was not reading (writing, waiting). */
  noteInput(): void;
  /**
   * Right after accept, before any registration: read, and if the request is complete,
   * respond. False when the connection is done with (answered and closed, or gone); true
   * when it must be registered, its state then saying what it waits for.
   */
  serveEagerly(maxReads: number, maxWrites: number): boolean;
  /**
   * After the output drained: close (at once, or after lingering for the peer's EOF when it
   * may still be sending), or keep alive, answering pipelined requests already read.
   */
  finish(): Next;
  /** The seed's ending: shutdown(SHUT_RDWR), then wait for the EPOLLHUP that follows. */
  shutdownBoth(): void;
  /** Closes the fd (which also leaves the epoll set) and forgets the connection. */
  close(reason: CloseReason): void;
}

/**
 * How a server drives its fds through epoll: the interest masks and when the connection
 * primitives run. The connection state machine is shared; only this differs by mode.
 */
export interface TriggerStrategy extends StrategyFacts {
  /** The listener's interest mask. */
  readonly listenerMask: number;
  /** A new connection's interest mask. */
  readonly connectionMask: number;
  /**
   * A connection was just accepted: register it (or serve it at once, when the engine
   * reads eagerly and the request is already there, never registering it at all).
   */
  onAccepted(conn: StrategyConnection): void;
  /** The listening socket is ready, or gets another turn from the ready list. */
  onListener(engine: Engine): void;
  /** A connection is ready. */
  onConnection(conn: StrategyConnection, events: number): void;
  /**
   * A connection gets another turn: from the ready list, or resuming itself when a
   * handler's answer came.
   */
  onConnectionReady(conn: StrategyConnection): void;
  /** Accepting must stop for a moment (out of fds or memory): keep the listener from waking us. */
  pauseListener(engine: Engine): void;
  /** Accepting may go on. */
  resumeListener(engine: Engine): void;
}

/** Accepts per listener turn: bounded so one flood cannot starve connections already in. */
export const ACCEPT_BUDGET = 64;
/** recv calls per connection turn in edge-triggered mode before yielding to others. */
export const READ_BUDGET = 16;
/** send calls per connection turn before yielding to others. */
export const WRITE_BUDGET = 16;
