/**
 * The lab's report: what one `etlt lab` run measured, as JSON (`--json`) and as the input
 * of the HTML report (`--out`).
 */
import type { ConnectionRecord } from '../trace/counters.js';

/** Syscalls per request, by kind (from the server's own counters). */
export interface SyscallsPerRequest {
  total: number;
  epoll_wait: number;
  epoll_ctl: number;
  accept4: number;
  recvfrom: number;
  sendto: number;
  shutdown: number;
  close: number;
}

/** One strategy under one workload. */
export interface LabResult {
  strategy: string;
  workload: string;
  /** Requests the load generator attempted. */
  attempted: number;
  /** Requests answered in full. */
  completed: number;
  /** Requests with no complete answer within the per-request timeout: lost wake-ups. */
  stalled: number;
  /** Connections refused, reset or otherwise failed. */
  errors: number;
  /** Wall-clock seconds of the load. */
  seconds: number;
  /** Completed requests per second. */
  rps: number;
  /** Server CPU time (user + system) per completed request, in microseconds. */
  cpuUsPerRequest: number;
  /** Latency percentiles of completed requests, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  syscallsPerRequest: SyscallsPerRequest;
  /** epoll_wait calls that returned nothing, per request. */
  idleWaitsPerRequest: number;
  /** Events returned per epoll_wait. */
  eventsPerWait: number;
  /** Events that found nothing to do (a wake-up for nothing), per request. */
  uselessEventsPerRequest: number;
  /** Share of the machine's CPU time taken by the hypervisor (steal) during the load, in %: above ~10, CPU figures are inflated. */
  stealPercent?: number;
  /** Connections the server accepted during the measured load (the idle ones, opened before it, not counted). */
  connections?: number;
  /** Requests the server read per connection: 1 when every connection closes after its response. */
  requestsPerConnection?: number;
  /** Connections the load generator reopened because the server had closed a persistent one. */
  reconnects?: number;
  /** The idle connections of a workload that holds some: opened, held to the end, closed by the server, failed. */
  idle?: { opened: number; held: number; closedByServer: number; failed: number };
  /** The server's raw counters at the end of the measured load. */
  counters: Record<string, number>;
  /**
   * For a workload with idle connections: the same server's counters when the measured load
   * began (the idle connections all open and answered), subtracted from `counters` for every
   * per-request figure above.
   */
  countersAtStart?: Record<string, number>;
  /**
   * Why the figures above cannot be trusted (a figure below zero, a share above 100%), when
   * they cannot; the reports show the row greyed, with this reason, and never as a best value.
   */
  unreliable?: string;
}

/** One connection's costs, from accept to close: the server's own record. */
export type ConnectionCost = ConnectionRecord;

/** One epoll_wait return in a timeline: when, and the [fd, events] it returned. */
export interface TimelineWait {
  /** Milliseconds since the server started. */
  t: number;
  events: [fd: number, events: number][];
}

/** A whole lab run. */
export interface LabReport {
  version: string;
  startedAt: string;
  machine: { cpus: number; node: string; kernel: string; pinned: boolean };
  strategies: string[];
  workloads: { name: string; description: string }[];
  results: LabResult[];
  /** Per strategy: the first epoll_wait returns of the timeline workload. */
  timelines: Record<string, TimelineWait[]>;
  /** Per strategy: what each of the first connections of the timeline workload cost. */
  connections?: Record<string, ConnectionCost[]>;
  /** Per persistent workload, per strategy: the first connections closed (requests each, syscalls each). */
  connectionsByWorkload?: Record<string, Record<string, ConnectionCost[]>>;
  /** What each strategy is, in a sentence. */
  descriptions: Record<string, string>;
}
