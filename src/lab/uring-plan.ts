/**
 * What `etlt lab uring` compares: the servers (their `etlt serve` flags), the workloads
 * (what the load generator does and what the server serves), the published figures the
 * verdict stands beside, and how one (server, workload) is started and loaded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOLD_CONNECTIONS, labServeArgv } from './children.js';
import type { LoadConfig } from './loadgen.js';
import type { PublishedFigure } from './uring-types.js';

/** The servers compared: their names and `etlt serve` flags. */
export const URING_SERVERS: readonly { name: string; argv: readonly string[] }[] = [
  { name: 'epoll-et', argv: ['--mode', 'et'] },
  { name: 'epoll-lt', argv: ['--mode', 'lt'] },
  { name: 'io_uring', argv: ['--backend', 'io_uring'] },
  { name: 'io_uring-sqpoll', argv: ['--backend', 'io_uring', '--sqpoll', '100'] },
  { name: 'io_uring-defer', argv: ['--backend', 'io_uring', '--task-run', 'defer'] },
];

/** A workload: what the load generator does, and what the server serves. */
export interface UringWorkload {
  name: string;
  what: string;
  load: (quick: boolean) => Partial<LoadConfig>;
  /** 'body64k': a 64 KiB body; 'file16m': a 16 MiB file under --root. */
  serves?: 'body64k' | 'file16m';
}

export const URING_WORKLOADS: readonly UringWorkload[] = [
  { name: 'close', what: 'a connection per request, 50 clients', load: (q) => ({ concurrency: q ? 20 : 50 }) },
  {
    name: 'keepalive-50',
    what: 'keep-alive, 50 connections',
    load: () => ({ persistent: true, concurrency: 50 }),
  },
  {
    name: 'keepalive-500',
    what: 'keep-alive, 500 connections',
    load: () => ({ persistent: true, concurrency: 500 }),
  },
  {
    name: 'pipelined-16',
    what: '16 requests per write, 50 connections',
    load: () => ({ persistent: true, concurrency: 50, depth: 16 }),
  },
  {
    name: 'idle-10k',
    what: '10,000 idle kept-alive connections beside 50 busy ones',
    load: (q) => ({ persistent: true, concurrency: 50, idleConnections: q ? 2000 : 10_000 }),
  },
  {
    name: 'body-64k',
    what: '64 KiB responses, keep-alive, 50 connections',
    load: () => ({ persistent: true, concurrency: 50 }),
    serves: 'body64k',
  },
  {
    name: 'file-16m',
    what: 'a 16 MiB file (sendfile), keep-alive, 4 connections',
    load: () => ({ persistent: true, concurrency: 4 }),
    serves: 'file16m',
  },
];

/** The published figures the verdict stands beside (issue 22). */
export const PUBLISHED: readonly PublishedFigure[] = [
  {
    source: 'a public benchmark board, one large machine, 2026',
    claim:
      'keep-alive: best io_uring and epoll servers tie (4.09M, 4.06M, 4.05M req/s); pipelined: tokio-uring 11% behind tokio, a hand-written io_uring server 10% ahead of its epoll twin',
  },
  { source: 'an io_uring echo server benchmark', claim: 'up to 68% ahead at 500 connections, 0% at one' },
  { source: 'liburing issue 189', claim: 'epoll ahead: 250k against 220k' },
  { source: "netty's io_uring transport", claim: '8% behind on Cassandra, 100% ahead at 500 connections' },
  { source: 'a 2025 study', claim: 'a drop-in switch gives 1.06-1.10x, a redesign 2.05-2.31x' },
  {
    source: 'Node.js (libuv), node issue 51875',
    claim: 'io_uring for files turned off by default: CVE-2024-22017 and regressions of 20-31%',
  },
];

export function serverArgv(
  server: { argv: readonly string[] },
  statsFile: string,
  files: Files,
  w: UringWorkload,
): string[] {
  const argv = [...server.argv, ...labServeArgv(statsFile), ...HOLD_CONNECTIONS];
  if (w.serves === 'body64k') argv.push('--body', files.body64k);
  if (w.serves === 'file16m') argv.push('--root', files.root);
  return argv;
}

/** The files some workloads serve, made once per run in its temporary directory. */
export interface Files {
  body64k: string;
  root: string;
}

export function loadConfig(port: number, w: UringWorkload, quick: boolean): LoadConfig {
  const big = w.serves === 'file16m';
  return {
    host: '127.0.0.1',
    port,
    concurrency: 50,
    requests: big ? (quick ? 16 : 200) : quick ? 3000 : 30_000,
    seconds: quick ? 2 : 8,
    pieces: 1,
    pieceDelayMs: 0,
    padHeader: 0,
    slowReadMs: 0,
    timeoutMs: 10_000,
    persistent: false,
    depth: 1,
    ...w.load(quick),
  };
}

export function makeFiles(dir: string): Files {
  const body64k = join(dir, 'body-64k.bin');
  writeFileSync(body64k, Buffer.alloc(64 * 1024, 'x'));
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'index.html'), Buffer.alloc(16 * 1024 * 1024, 'y'));
  return { body64k, root };
}
