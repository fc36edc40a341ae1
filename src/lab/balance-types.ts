/**
 * The balance lab's report: what `etlt lab balance` measured, as JSON (`--json`) and as the
 * input of its HTML report. Types only, so the report renders without the addon.
 */

/** One worker of one run. */
export interface BalanceWorker {
  index: number;
  /** Connections it accepted. */
  accepted: number;
  /** Wake-ups of its event loop for its epoll set (libuv's epoll_wait returning for it). */
  wakeups: number;
  /** Events for the listener that found nothing to accept (accept4 EAGAIN at once): another worker was first. */
  acceptEagain: number;
  /** Latency of the requests it answered, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU time it used during the load, in milliseconds. */
  cpuMs: number;
}

/** One balance kind in one scenario. */
export interface BalanceRow {
  scenario: string;
  /** The kind as the lab names it: shared-lt, shared-et, exclusive, reuseport. */
  balance: string;
  /** `etlt serve --balance` and `--mode` of the run. */
  serveBalance: string;
  mode: string;
  workers: number;
  /** Connections accepted by each worker, by index. */
  perWorker: number[];
  /**
   * Event-loop wake-ups over all workers per accepted connection: one wake-up may serve several
   * ready connections, so it can be below 1.
   */
  wakeupsPerAccept: number;
  /** Listener events that found nothing to accept, over all workers. */
  acceptEagain: number;
  /** Latency over all requests, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Standard deviation of the latency, in milliseconds (Cloudflare's figure). */
  stdevMs: number;
  completed: number;
  errors: number;
  stalled: number;
  rps: number;
  /** CPU of all workers per completed request, in microseconds. */
  cpuUsPerRequest: number;
  detail: BalanceWorker[];
  /** Why the row's figures cannot be trusted (one below zero), when they cannot. */
  unreliable?: string;
}

/** A scenario: the same load, and what differs. */
export interface BalanceScenario {
  name: string;
  description: string;
  /** The slow worker's busy time per request, in ms (0: none is slow). */
  busyMs: number;
}

/** A whole `etlt lab balance` run. */
export interface BalanceReport {
  experiment: 'balance';
  version: string;
  startedAt: string;
  machine: { cpus: number; node: string; kernel: string };
  workers: number;
  concurrency: number;
  requests: number;
  scenarios: BalanceScenario[];
  /** The kinds, with a sentence each. */
  balances: { name: string; description: string }[];
  rows: BalanceRow[];
  /** Each claim of the report, checked against the rows (the report recomputes them for an older file). */
  findings?: BalanceFinding[];
}

/** One claim of the report, beside the row that shows it (or fails to). */
export interface BalanceFinding {
  id: string;
  scenario: string;
  /** The row the finding is printed beside. */
  balance: string;
  /** What is claimed, as theory or the published figures have it. */
  claim: string;
  shown: boolean;
  /** This run's numbers for and against the claim. */
  evidence: string;
  /** Why it is so, or why it may not show: printed whatever the verdict. */
  why?: string;
}
