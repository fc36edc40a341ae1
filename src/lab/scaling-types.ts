/**
 * The scaling experiment's report, as JSON holds it: types only, so the HTML report
 * renders from a file without the addon.
 */
import type { Backend } from '../http/trigger/catalog.js';

/** One (backend, idle count) of the experiment. Figures are null in a row that could not run. */
export interface ScalingRow {
  backend: Backend;
  /** The trigger strategy: level-triggered on every backend, for a like-for-like comparison. */
  mode: 'lt';
  /** Idle kept-alive connections held open (each made one request first). */
  idle: number;
  /** Busy keep-alive clients beside them, one request at a time each. */
  busy: number;
  /** Idle connections still open when the busy load ended. */
  idleHeld: number;
  /** Busy requests completed, and those that failed or stalled. */
  requests: number;
  errors: number;
  rps: number | null;
  /** Server CPU (user + system) per busy request, in µs. */
  usPerRequest: number | null;
  /** Server CPU per wait of the backend (epoll_wait, poll or select), in µs: the scan shows here. */
  usPerWait: number | null;
  /** Backend waits per busy request. */
  waitsPerRequest: number | null;
  /** Ready fds per wait. */
  eventsPerWait: number | null;
  /** Every syscall the server counted, per busy request. */
  syscallsPerRequest: number | null;
  /** Server memory (RSS) gained per idle connection held, in bytes. */
  rssBytesPerConnection: number | null;
  /** Connections the server shed because the backend could not watch their fd. */
  shed: number;
  /** Why the row could not run. */
  error?: string;
  /** Why the row's figures cannot be trusted (one below zero, say), when they cannot: shown greyed, with this. */
  unreliable?: string;
}

/** The published figures beside which the report sets this machine's. */
export interface PublishedTable {
  operations: number;
  rows: readonly { fds: number; poll: number; select: number; epoll: number }[];
}

/** What `etlt lab scaling --json` writes. */
export interface ScalingReport {
  experiment: 'scaling';
  version: string;
  startedAt: string;
  machine: { cpus: number; node: string; kernel: string; pinned: boolean };
  quick: boolean;
  busy: number;
  requestsPerRow: number;
  fdSetSize: number;
  /** The hard limit on open files (ulimit -Hn): the most idle connections a process may hold. */
  fileLimit: number;
  backends: string[];
  idleCounts: number[];
  rows: ScalingRow[];
  /** Kerrisk, TLPI table 63-9 (seconds of CPU for 100,000 operations). */
  published: PublishedTable;
}
