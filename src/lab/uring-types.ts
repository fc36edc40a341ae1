/**
 * The report of `etlt lab uring` (pure data: the HTML report renders it without the addon).
 */

/** One (server, workload) of the experiment. Figures are null in a row that could not run. */
export interface UringRow {
  /** 'epoll-et', 'epoll-lt', 'io_uring', 'io_uring-sqpoll', 'io_uring-defer'. */
  server: string;
  workload: string;
  requests: number;
  errors: number;
  rps: number | null;
  /** Server CPU per request in µs, every thread's (the SQPOLL thread is one), from schedstat (ns). */
  cpuUsPerRequest: number | null;
  /** The same, user and system apart, from /proc/PID/stat's clock ticks (10 ms each: coarse on short runs). */
  userUsPerRequest: number | null;
  sysUsPerRequest: number | null;
  /** Syscalls per request, from the server's own counters (epoll_wait, epoll_ctl, accept4, recvfrom, sendto, close, io_uring_enter...). */
  syscallsPerRequest: number | null;
  /** io_uring_enter calls per request (0 on epoll). */
  entersPerRequest: number | null;
  /** Context switches per request, voluntary and involuntary, summed over the server's threads. */
  contextSwitchesPerRequest: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  error?: string;
}

/** strace -c -f against the server's own counters, on one run. */
export interface StraceCheck {
  server: string;
  workload: string;
  requests: number;
  /** Calls strace counted, by syscall, for the kinds the server counts. */
  strace: Record<string, number>;
  /** The server's own counts of the same kinds. */
  counted: Record<string, number>;
  /** What strace saw in all (Node's own syscalls included: futex, write, mmap...). */
  straceTotal: number;
}

/** A published figure the verdict is set against. */
export interface PublishedFigure {
  source: string;
  claim: string;
}

export interface UringReport {
  experiment: 'uring';
  version: string;
  startedAt: string;
  machine: { cpus: number; node: string; kernel: string };
  quick: boolean;
  servers: string[];
  workloads: string[];
  rows: UringRow[];
  strace: StraceCheck | null;
  /** Why the strace check did not run (strace missing, or it failed). */
  straceError?: string;
  /** One line per workload: the server with the least CPU per request, and by how much. */
  verdict: string[];
  published: readonly PublishedFigure[];
}
