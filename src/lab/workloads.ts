/**
 * The lab's workloads: how its load generator behaves in each, and how big the response is.
 */
import type { LoadConfig } from './loadgen.js';

/** A workload: how the load generator behaves. */
export interface Workload {
  name: string;
  description: string;
  load: Omit<LoadConfig, 'host' | 'port' | 'requests' | 'seconds'> & { requests: number; quickRequests: number };
  /** Response body size in bytes (0: the seed's 13 bytes). */
  bodyBytes: number;
  /** Record the first epoll_wait returns for the timeline. */
  timeline: boolean;
  /** Open files the server and the load generator each need (their limit is raised to it). */
  fds?: number;
}

/** Per-request timeout of the persistent workloads. */
const KEEPALIVE_TIMEOUT_MS = 1000;
/** The shape of a persistent workload's load, before its own fields. */
const PERSISTENT = {
  pieces: 1,
  pieceDelayMs: 0,
  padHeader: 0,
  slowReadMs: 0,
  timeoutMs: KEEPALIVE_TIMEOUT_MS,
  persistent: true,
} as const;

const TIMEOUT_MS = 1000;

/** The workloads, in the order they run. */
export const WORKLOADS: readonly Workload[] = [
  {
    name: 'sequential',
    description: "one connection per request, one at a time (the seed's own use)",
    load: {
      concurrency: 1,
      requests: 1500,
      quickRequests: 300,
      pieces: 1,
      pieceDelayMs: 0,
      padHeader: 0,
      slowReadMs: 0,
      timeoutMs: TIMEOUT_MS,
    },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'concurrent',
    description: '100 connections at once, one request each, over and over',
    load: {
      concurrency: 100,
      requests: 6000,
      quickRequests: 1500,
      pieces: 1,
      pieceDelayMs: 0,
      padHeader: 0,
      slowReadMs: 0,
      timeoutMs: TIMEOUT_MS,
    },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'split',
    description: 'each request written in 4 pieces 2 ms apart, 20 at once',
    load: {
      concurrency: 20,
      requests: 1500,
      quickRequests: 300,
      pieces: 4,
      pieceDelayMs: 2,
      padHeader: 0,
      slowReadMs: 0,
      timeoutMs: TIMEOUT_MS,
    },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'big-head',
    description: 'a 3 KiB request head in one write (three recv(1024) worth), one at a time: the timeline workload',
    load: {
      concurrency: 1,
      requests: 1500,
      quickRequests: 300,
      pieces: 1,
      pieceDelayMs: 0,
      padHeader: 3000,
      slowReadMs: 0,
      timeoutMs: TIMEOUT_MS,
    },
    bodyBytes: 0,
    timeline: true,
  },
  {
    name: 'slow-reader',
    description:
      'an 8 MiB response (more than the socket buffers hold) to clients that pause 1 ms after each chunk, 4 at once',
    load: {
      concurrency: 4,
      requests: 24,
      quickRequests: 8,
      pieces: 1,
      pieceDelayMs: 0,
      padHeader: 0,
      slowReadMs: 1,
      timeoutMs: 8000,
    },
    bodyBytes: 8 << 20,
    timeline: false,
  },
  {
    name: 'keep-alive',
    description: 'HTTP/1.1, 50 clients each on one persistent connection, one request at a time',
    load: { ...PERSISTENT, concurrency: 50, requests: 30000, quickRequests: 6000, depth: 1 },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'pipelined',
    description:
      'HTTP/1.1, 4 persistent connections, 16 requests of 177 bytes per write (2.8 KB: more than one recv(1024)), all 16 answered before the next write',
    load: { ...PERSISTENT, concurrency: 4, requests: 64000, quickRequests: 12800, depth: 16 },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'idle-keepalive',
    description:
      '1,000 kept-alive connections held idle (one request each, not counted) beside 10 busy keep-alive clients: figures per busy request',
    load: { ...PERSISTENT, concurrency: 10, requests: 20000, quickRequests: 4000, depth: 1, idleConnections: 1000 },
    bodyBytes: 0,
    timeline: false,
    fds: 2048,
  },
  {
    name: 'think-time',
    description:
      'HTTP/1.1, 20 persistent clients pausing 5–20 ms (seeded) between requests: every request needs its own wake-up',
    load: { ...PERSISTENT, concurrency: 20, requests: 6000, quickRequests: 1500, depth: 1, thinkMs: [5, 20], seed: 42 },
    bodyBytes: 0,
    timeline: false,
  },
];

/** The workloads' names, in the order they run. */
export const WORKLOAD_NAMES: readonly string[] = WORKLOADS.map((w) => w.name);
