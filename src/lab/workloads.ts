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
}

const TIMEOUT_MS = 1000;

/** The workloads, in the order they run. */
export const WORKLOADS: readonly Workload[] = [
  {
    name: 'sequential',
    description: 'one connection per request, one at a time (the seed\'s own use)',
    load: { concurrency: 1, requests: 1500, quickRequests: 300, pieces: 1, pieceDelayMs: 0, padHeader: 0, slowReadMs: 0, timeoutMs: TIMEOUT_MS },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'concurrent',
    description: '100 connections at once, one request each, over and over',
    load: { concurrency: 100, requests: 6000, quickRequests: 1500, pieces: 1, pieceDelayMs: 0, padHeader: 0, slowReadMs: 0, timeoutMs: TIMEOUT_MS },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'split',
    description: 'each request written in 4 pieces 2 ms apart, 20 at once',
    load: { concurrency: 20, requests: 1500, quickRequests: 300, pieces: 4, pieceDelayMs: 2, padHeader: 0, slowReadMs: 0, timeoutMs: TIMEOUT_MS },
    bodyBytes: 0,
    timeline: false,
  },
  {
    name: 'big-head',
    description: 'a 3 KiB request head in one write (three recv(1024) worth), one at a time: the timeline workload',
    load: { concurrency: 1, requests: 1500, quickRequests: 300, pieces: 1, pieceDelayMs: 0, padHeader: 3000, slowReadMs: 0, timeoutMs: TIMEOUT_MS },
    bodyBytes: 0,
    timeline: true,
  },
  {
    name: 'slow-reader',
    description: 'an 8 MiB response (more than the socket buffers hold) to clients that pause 1 ms after each chunk, 4 at once',
    load: { concurrency: 4, requests: 24, quickRequests: 8, pieces: 1, pieceDelayMs: 0, padHeader: 0, slowReadMs: 1, timeoutMs: 8000 },
    bodyBytes: 8 << 20,
    timeline: false,
  },
];

/** The workloads' names, in the order they run. */
export const WORKLOAD_NAMES: readonly string[] = WORKLOADS.map((w) => w.name);
