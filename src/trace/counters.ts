/**
 * Counters for comparing the trigger modes: every syscall the engine makes, by kind, and
 * how many of them were wasted (EAGAIN). Plain integer fields bumped inline: measured at
 * well under 1% of a request's CPU, so they are always on.
 */

/**
 * What the reactor counts: the polling side, named for no one backend (a wait is an
 * epoll_wait, a poll or a select; an interest change an epoll_ctl, or on poll and select a
 * change to the set the process keeps itself, no syscall). Reports written before these
 * names had `epollWait` and `ctlAdd`/`ctlMod`/`ctlDel`: see {@link LEGACY_COUNTER_NAMES}.
 */
export interface ReactorCounters {
  /** Wake-ups from Node's loop (libuv saw the epoll fd readable): one libuv epoll_wait each. */
  wakeups: number;
  /**
   * Ready-list turns (setImmediate): each makes libuv poll its own set once more with a
   * zero timeout, an epoll_wait that delivers nothing of ours.
   */
  readyTurns: number;
  /** Waits of the backend on the server's own set: epoll_wait on its epoll fd, or poll(2), or select(2). */
  waits: number;
  /** Waits that returned no event (a wake-up with nothing to do), re-polls aside. */
  idleWaits: number;
  /**
   * Extra zero-timeout polls made before returning to Node's loop while a busy set kept
   * producing events (counted in waits too), and those of them that found nothing.
   */
  repolls: number;
  emptyRepolls: number;
  /** Events returned, summed over all waits. */
  events: number;
  /** Interest changes by operation: epoll_ctl ADD, MOD, DEL on epoll; in the process's own set on poll and select. */
  interestAdds: number;
  interestMods: number;
  interestDels: number;
  /**
   * poll(2) or select(2) waits that ended with none of the server's fds ready (Node's own
   * I/O, a timer or a signal ended them; those backends block on each turn of Node's loop
   * in its place). Always 0 on epoll, whose idle waits are libuv's.
   */
  turnWaits: number;
  /** io_uring_enter calls (the completion engine's submits; 0 on the readiness backends). */
  ringEnters: number;
  /** Completions reaped from an io_uring's CQ (0 on the readiness backends). */
  completions: number;
  /**
   * Of the server's accept, recv, send and close counts: those done as io_uring operations,
   * which cost no syscall of their own (the submit's io_uring_enter is counted in ringEnters).
   */
  ringAccept: number;
  ringRecv: number;
  ringSend: number;
  ringClose: number;
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
  /** Connections closed by the idle or the send timeout (a head or body too slow, a response not taken). */
  timedOut: number;
  /** Kept-alive connections closed after waiting the keep-alive timeout for another request. */
  keepAliveTimeouts: number;
  /** Of `timedOut`: connections whose peer took none of their pending output for the send timeout. */
  sendTimeouts: number;
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

/** The names the reactor's counters had in reports written before they were backend-neutral. */
export const LEGACY_COUNTER_NAMES: Readonly<Record<string, keyof ReactorCounters>> = {
  epollWait: 'waits',
  ctlAdd: 'interestAdds',
  ctlMod: 'interestMods',
  ctlDel: 'interestDels',
};

/** `counters` with any name of {@link LEGACY_COUNTER_NAMES} read as today's (a report from an older etlt). */
export function withCurrentNames(counters: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) out[LEGACY_COUNTER_NAMES[k] ?? k] = v;
  return out;
}

/** The syscall a backend waits with, and the one it changes interest with (none: kept in the process). */
export const BACKEND_SYSCALLS: Readonly<Record<string, { wait: string; interest: string | undefined }>> = {
  epoll: { wait: 'epoll_wait', interest: 'epoll_ctl' },
  poll: { wait: 'poll', interest: undefined },
  select: { wait: 'select', interest: undefined },
  // io_uring's ring is watched by libuv's own epoll set: its waits are libuv's epoll_wait.
  io_uring: { wait: 'epoll_wait', interest: 'epoll_ctl' },
};

/** The syscalls of `backend`, a name this module does not know taken as its own wait. */
export function backendSyscalls(backend: string): { wait: string; interest: string | undefined } {
  return BACKEND_SYSCALLS[backend] ?? { wait: backend, interest: undefined };
}

/** Everything a server counts: its reactor's counters and its own. */
export type AllCounters = ReactorCounters & ServerCounters;

/** A fresh set of zeroed reactor counters. */
export function newReactorCounters(): ReactorCounters {
  return {
    wakeups: 0,
    readyTurns: 0,
    waits: 0,
    idleWaits: 0,
    repolls: 0,
    emptyRepolls: 0,
    events: 0,
    interestAdds: 0,
    interestMods: 0,
    interestDels: 0,
    turnWaits: 0,
    ringEnters: 0,
    completions: 0,
    ringAccept: 0,
    ringRecv: 0,
    ringSend: 0,
    ringClose: 0,
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
    sendTimeouts: 0,
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
 * a second whether or not anyone is served; `timerTurns` counts them apart). The kinds are
 * epoll's names (the trigger lab's columns); on poll and select, `epoll_wait` holds their
 * poll(2) or select(2) waits too, and `epoll_ctl` is 0: their interest changes are no syscall.
 */
export function syscallsByKind(c: AllCounters, backend = 'epoll'): Record<string, number> {
  return {
    // On poll and select, a wait on one of Node's turns (turnWaits) is a poll(2) or select(2).
    epoll_wait: c.wakeups + c.readyTurns + c.waits + c.turnWaits,
    epoll_ctl: backendSyscalls(backend).interest === undefined ? 0 : c.interestAdds + c.interestMods + c.interestDels,
    // io_uring's operations are no syscalls of their own: the submits' io_uring_enter are.
    accept4: c.accept - (c.ringAccept ?? 0),
    recvfrom: c.recv - (c.ringRecv ?? 0),
    sendto: c.send - (c.ringSend ?? 0),
    shutdown: c.shutdown,
    close: c.close - (c.ringClose ?? 0),
    io_uring_enter: c.ringEnters ?? 0,
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
  /**
   * Interest changes for its fd (add, modifications, removal): epoll_ctl calls on epoll, changes
   * to the process's own set on poll and select. Lab reports written before the name was
   * backend-neutral call it `epollCtl`; the report's page reads no record field, so both render.
   */
  interestChanges: number;
  bytesIn: number;
  bytesOut: number;
  /** Requests on this connection (more than one when it was kept alive). */
  requests: number;
}
