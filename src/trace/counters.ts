/**
 * Counters for comparing the trigger modes: every syscall the engine makes, by kind, and
 * how many of them were wasted (EAGAIN). Plain integer fields bumped inline: measured at
 * well under 1% of a request's CPU, so they are always on.
 */

/** What the reactor counts: the epoll side. */
export interface ReactorCounters {
  /** Wake-ups from Node's loop (libuv saw the epoll fd readable): one libuv epoll_wait each. */
  wakeups: number;
  /**
   * Ready-list turns (setImmediate): each makes libuv poll its own set once more with a
   * zero timeout, an epoll_wait that delivers nothing of ours.
   */
  readyTurns: number;
  /** epoll_wait calls made on the server's own epoll fd. */
  epollWait: number;
  /** epoll_wait calls that returned no event (a wake-up with nothing to do), re-polls aside. */
  idleWaits: number;
  /**
   * Extra zero-timeout polls made before returning to Node's loop while a busy set kept
   * producing events (counted in epollWait too), and those of them that found nothing.
   */
  repolls: number;
  emptyRepolls: number;
  /** Events returned, summed over all epoll_wait calls. */
  events: number;
  /** epoll_ctl calls by operation. */
  ctlAdd: number;
  ctlMod: number;
  ctlDel: number;
  /**
   * poll(2) or select(2) waits that ended with none of the server's fds ready (Node's own
   * I/O, a timer or a signal ended them; those backends block on each turn of Node's loop
   * in its place). Always 0 on epoll, whose idle waits are libuv's.
   */
  turnWaits: number;
}

/** What a server counts: the socket side, and the requests. */
export interface ServerCounters {
  /** Turns of the server's own timers (the idle sweep): each is one libuv epoll_wait timing out. */
  timerTurns: number;
  accept: number;
  acceptAgain: number;
  recv: number;
  recvAgain: number;
  send: number;
  sendAgain: number;
  shutdown: number;
  close: number;
  bytesIn: number;
  bytesOut: number;
  connections: number;
  requests: number;
  /** Responses fully sent. */
  responses: number;
  /** Connections closed before a complete request (peer gone, reset, garbage). */
  aborted: number;
  /** Requests answered with an error status (400, 431). */
  rejected: number;
  /** Connections closed by the idle timeout (a head, body or response too slow). */
  timedOut: number;
  /** Kept-alive connections closed after waiting the keep-alive timeout for another request. */
  keepAliveTimeouts: number;
  /** Connections with partial heads closed because all partial heads together held too much memory. */
  headsShed: number;
  /** Handlers that threw, rejected, or answered something that cannot be sent (each got a 500). */
  handlerErrors: number;
  /** Handlers whose answer did not come within the idle timeout: a 503 was sent instead, the connection closed. */
  handlerTimeouts: number;
  /** Connections cut off when close()'s deadline ran out. */
  cutOff: number;
  /** Connections accepted and closed at once because the process ran out of fds. */
  shed: number;
  /** Times the process or system ran out of fds in accept (EMFILE/ENFILE). */
  fdExhausted: number;
  /** Of `shed`: connections whose fd the backend cannot watch (select: 1024 and up). */
  overFdLimit: number;
  /** Reads right after accept that found data, and that found none (EAGAIN). */
  eagerHits: number;
  eagerMisses: number;
  /** Events after which nothing moved: no byte in or out, no state change, no accept. */
  useless: number;
  /** Times the listener's turn ended with accepts left for a later turn (bounded work). */
  deferred: number;
  /** Events for the listener, and those of them that found no connection to accept (EAGAIN at once). */
  listenerEvents: number;
  listenerEmpty: number;
}

/** Everything a server counts: its reactor's counters and its own. */
export type AllCounters = ReactorCounters & ServerCounters;

/** A fresh set of zeroed reactor counters. */
export function newReactorCounters(): ReactorCounters {
  return {
    wakeups: 0,
    readyTurns: 0,
    epollWait: 0,
    idleWaits: 0,
    repolls: 0,
    emptyRepolls: 0,
    events: 0,
    ctlAdd: 0,
    ctlMod: 0,
    ctlDel: 0,
    turnWaits: 0,
  };
}

/** A fresh set of zeroed server counters. */
export function newServerCounters(): ServerCounters {
  return {
    timerTurns: 0,
    accept: 0,
    acceptAgain: 0,
    recv: 0,
    recvAgain: 0,
    send: 0,
    sendAgain: 0,
    shutdown: 0,
    close: 0,
    bytesIn: 0,
    bytesOut: 0,
    connections: 0,
    requests: 0,
    responses: 0,
    aborted: 0,
    rejected: 0,
    timedOut: 0,
    keepAliveTimeouts: 0,
    headsShed: 0,
    handlerErrors: 0,
    handlerTimeouts: 0,
    cutOff: 0,
    shed: 0,
    fdExhausted: 0,
    overFdLimit: 0,
    deferred: 0,
    listenerEvents: 0,
    listenerEmpty: 0,
    useless: 0,
    eagerHits: 0,
    eagerMisses: 0,
  };
}

/**
 * Syscalls made in serving, by kind, from the counters: libuv's own epoll_wait for our
 * wake-ups and ready-list turns included, the idle sweep's timer turns not (they come once
 * a second whether or not anyone is served; `timerTurns` counts them apart).
 */
export function syscallsByKind(c: AllCounters): Record<string, number> {
  return {
    // On poll and select, a wait on one of Node's turns (turnWaits) is a poll(2) or select(2).
    epoll_wait: c.wakeups + c.readyTurns + c.epollWait + c.turnWaits,
    epoll_ctl: c.ctlAdd + c.ctlMod + c.ctlDel,
    accept4: c.accept,
    recvfrom: c.recv,
    sendto: c.send,
    shutdown: c.shutdown,
    close: c.close,
  };
}

/** What one connection cost, from accept to close (the first N, with HttpServer's traceConnections). */
export interface ConnectionRecord {
  fd: number;
  /** Milliseconds since the server started listening, at accept. */
  acceptedMs: number;
  /** Milliseconds from accept to close. */
  durationMs: number;
  /** How it ended: done, aborted, timed-out, cut-off. */
  outcome: string;
  /** Events delivered to it, and how many of them found nothing to do. */
  events: number;
  useless: number;
  recv: number;
  recvAgain: number;
  send: number;
  sendAgain: number;
  epollCtl: number;
  bytesIn: number;
  bytesOut: number;
  /** Requests on this connection (more than one when it was kept alive). */
  requests: number;
}
