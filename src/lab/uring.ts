/**
 * `etlt lab uring`: epoll (ET and LT) against io_uring (plain, SQPOLL, DEFER_TASKRUN) on
 * this machine, per request: server CPU (user and system apart, every thread of the
 * process, the SQPOLL kernel thread included: it is one of them), syscalls (from the
 * server's own counters, io_uring_enter among them; one run checked against `strace -c -f`),
 * context switches (every thread's), and the load generator's p50/p99 latency. Each
 * (server, workload) is a fresh `etlt serve` in a child process and the lab's load
 * generator in another, as the other experiments do.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EtltAbortedError, EtltLabError } from '../errors.js';
import { syscallsByKind } from '../trace/counters.js';
import type { AllCounters } from '../trace/counters.js';
import { ChildSet, waitExit } from './children.js';
import type { LoadConfig, LoadResult } from './loadgen.js';
import type { PublishedFigure, StraceCheck, UringReport, UringRow } from './uring-types.js';

export type { UringReport, UringRow, StraceCheck } from './uring-types.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CLI = join(here, '..', 'cli', 'main.js');

/** The servers compared: their names and `etlt serve` flags. */
export const URING_SERVERS: readonly { name: string; argv: readonly string[] }[] = [
  { name: 'epoll-et', argv: ['--mode', 'et'] },
  { name: 'epoll-lt', argv: ['--mode', 'lt'] },
  { name: 'io_uring', argv: ['--backend', 'io_uring'] },
  { name: 'io_uring-sqpoll', argv: ['--backend', 'io_uring', '--sqpoll', '100'] },
  { name: 'io_uring-defer', argv: ['--backend', 'io_uring', '--task-run', 'defer'] },
];

/** A workload: what the load generator does, and what the server serves. */
interface UringWorkload {
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

export interface UringOptions {
  quick: boolean;
  servers?: readonly string[];
  workloads?: readonly string[];
  /** Check one run's syscall counts against strace -c -f (default: when strace is there). */
  strace?: boolean;
  onProgress?: (p: UringProgress) => void;
  signal?: AbortSignal;
}

export type UringProgress =
  | { kind: 'start'; index: number; total: number; server: string; workload: string }
  | { kind: 'done'; index: number; total: number; row: UringRow };

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : 0);
const TICK_US = 1e6 / 100;

/** utime and stime of a process (every thread, live or exited), in clock ticks. */
function cpuTicks(pid: number): { user: number; sys: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]), sys: Number(f[12]) };
  } catch {
    return { user: 0, sys: 0 };
  }
}

/**
 * CPU time of the process's live threads in ns (/proc/PID/task/TID/schedstat, exact where
 * the ticks of /proc/PID/stat are 10 ms apart): the total the verdict compares.
 */
function threadsCpuNs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // A thread that ended meanwhile.
      }
    }
  } catch {
    return 0;
  }
  return ns;
}

/** Context switches summed over the process's threads (each thread's status counts its own). */
function contextSwitches(pid: number): number {
  let n = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
        n += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
      } catch {
        // A thread that ended meanwhile.
      }
    }
  } catch {
    return 0;
  }
  return n;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function serverArgv(server: { argv: readonly string[] }, statsFile: string, files: Files, w: UringWorkload): string[] {
  const argv = [
    ...server.argv,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--quiet',
    '--stats-json',
    statsFile,
    '--idle-timeout',
    '600',
    '--keepalive-timeout',
    '600',
    '--max-requests',
    '1000000',
    '--close-timeout',
    '1',
  ];
  if (w.serves === 'body64k') argv.push('--body', files.body64k);
  if (w.serves === 'file16m') argv.push('--root', files.root);
  return argv;
}

interface Files {
  body64k: string;
  root: string;
}

function loadConfig(port: number, w: UringWorkload, quick: boolean): LoadConfig {
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

interface Measured {
  load: LoadResult;
  counters: Record<string, number>;
  user: number;
  sys: number;
  cpuNs: number;
  switches: number;
}

async function measure(
  children: ChildSet,
  server: { name: string; argv: readonly string[] },
  w: UringWorkload,
  quick: boolean,
  statsFile: string,
  files: Files,
): Promise<Measured> {
  const idle = w.load(quick).idleConnections ?? 0;
  const fds = idle + 600;
  const { child, port } = await children.startServer(serverArgv(server, statsFile, files, w), fds);
  const pid = child.pid!;
  let load: ReturnType<ChildSet['startLoad']> | undefined;
  try {
    let cpu0 = cpuTicks(pid);
    let ns0 = threadsCpuNs(pid);
    let sw0 = contextSwitches(pid);
    load = children.startLoad(
      loadConfig(port, w, quick),
      {
        progress: () => {},
        // The idle connections are open: the busy load starts now, and so do the figures.
        busy: () => {
          cpu0 = cpuTicks(pid);
          ns0 = threadsCpuNs(pid);
          sw0 = contextSwitches(pid);
        },
      },
      fds,
    );
    const result = await load.result;
    const cpu1 = cpuTicks(pid);
    const cpuNs = threadsCpuNs(pid) - ns0;
    const switches = contextSwitches(pid) - sw0;
    child.kill('SIGTERM');
    await waitExit(child, 10_000);
    const saved = JSON.parse(readFileSync(statsFile, 'utf8')) as { stats: Record<string, number> };
    return {
      load: result,
      counters: saved.stats,
      user: Math.max(0, cpu1.user - cpu0.user),
      sys: Math.max(0, cpu1.sys - cpu0.sys),
      cpuNs: Math.max(0, cpuNs),
      switches: Math.max(0, switches),
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await waitExit(child, 2000);
    await load?.stop();
  }
}

function row(server: string, w: UringWorkload, m: Measured): UringRow {
  const n = Math.max(1, m.load.completed);
  const kinds = syscallsByKind(m.counters as unknown as AllCounters);
  // Counted over the server's life: the idle connections' own requests are in it too.
  const served = Math.max(n, m.counters['requests'] ?? 0);
  const syscalls = Object.values(kinds).reduce((a, b) => a + b, 0);
  const sorted = [...m.load.latenciesMs].sort((a, b) => a - b);
  return {
    server,
    workload: w.name,
    requests: m.load.completed,
    errors: m.load.errors + m.load.stalled,
    rps: round(m.load.completed / Math.max(m.load.seconds, 1e-9), 0),
    cpuUsPerRequest: round(m.cpuNs / 1000 / n, 2),
    userUsPerRequest: round((m.user * TICK_US) / n, 1),
    sysUsPerRequest: round((m.sys * TICK_US) / n, 1),
    syscallsPerRequest: round(syscalls / served, 3),
    entersPerRequest: round((kinds['io_uring_enter'] ?? 0) / served, 3),
    contextSwitchesPerRequest: round(m.switches / n, 3),
    p50Ms: sorted.length > 0 ? round(percentile(sorted, 50), 3) : null,
    p99Ms: sorted.length > 0 ? round(percentile(sorted, 99), 3) : null,
  };
}

function errorRow(server: string, workload: string, error: string): UringRow {
  return {
    server,
    workload,
    requests: 0,
    errors: 0,
    rps: null,
    cpuUsPerRequest: null,
    userUsPerRequest: null,
    sysUsPerRequest: null,
    syscallsPerRequest: null,
    entersPerRequest: null,
    contextSwitchesPerRequest: null,
    p50Ms: null,
    p99Ms: null,
    error,
  };
}

/** The kinds the server counts, as strace names them. */
const STRACE_KINDS = ['epoll_wait', 'accept4', 'recvfrom', 'sendto', 'io_uring_enter'];

/** Parses `strace -c` output: calls by syscall, and the total. */
export function parseStraceSummary(text: string): { calls: Record<string, number>; total: number } {
  const calls: Record<string, number> = {};
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m === null) continue;
    if (m[2] === 'total') total = Number(m[1]);
    else calls[m[2]!] = Number(m[1]);
  }
  return { calls, total };
}

/** One io_uring run under `strace -c -f`: its counts beside the server's own. */
async function straceCheck(children: ChildSet, quick: boolean, dir: string, files: Files): Promise<StraceCheck> {
  const w = URING_WORKLOADS.find((x) => x.name === 'keepalive-50')!;
  const server = URING_SERVERS.find((s) => s.name === 'io_uring')!;
  const statsFile = join(dir, 'strace-stats.json');
  const out = join(dir, 'strace.txt');
  // Stopped by the end of its stdin: a signal to strace would kill the server before it wrote its counters.
  const serve = ['serve', '--stop-on-stdin-eof', ...serverArgv(server, statsFile, files, w)];
  const argv = ['-f', '-c', '-o', out, process.execPath, CLI, ...serve];
  const child = spawn('strace', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const t = setTimeout(() => reject(new EtltLabError(`strace'd server did not start: ${stderr}`)), 20_000);
      child.on('error', (e) => reject(new EtltLabError(`strace: ${e.message}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /serving on http:\/\/[^ ]*:(\d+)\//.exec(line);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
    });
    const cfg = { ...loadConfig(port, w, true), requests: quick ? 2000 : 5000, seconds: 10 };
    const load = children.startLoad(cfg, { progress: () => {} });
    const result = await load.result;
    await load.stop();
    child.stdin.end();
    await waitExit(child, 20_000);
    const { calls, total } = parseStraceSummary(readFileSync(out, 'utf8'));
    const saved = JSON.parse(readFileSync(statsFile, 'utf8')) as { stats: Record<string, number> };
    const kinds = syscallsByKind(saved.stats as unknown as AllCounters);
    const strace: Record<string, number> = {};
    const counted: Record<string, number> = {};
    for (const k of STRACE_KINDS) {
      strace[k] = calls[k] ?? 0;
      counted[k] = kinds[k] ?? 0;
    }
    // libuv waits with epoll_pwait (or epoll_pwait2), the addon's watcher with epoll_wait: one count.
    strace['epoll_wait'] = (calls['epoll_wait'] ?? 0) + (calls['epoll_pwait'] ?? 0) + (calls['epoll_pwait2'] ?? 0);
    return { server: server.name, workload: w.name, requests: result.completed, strace, counted, straceTotal: total };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await waitExit(child, 2000);
  }
}

/** For each workload: who used the least CPU per request, against epoll ET, and the syscalls. */
export function verdictLines(rows: readonly UringRow[]): string[] {
  const out: string[] = [];
  const cpu = (r: UringRow) => r.cpuUsPerRequest ?? NaN;
  for (const workload of [...new Set(rows.map((r) => r.workload))]) {
    // A row with failed requests, or too few to judge, says nothing about CPU per request.
    const ran = rows.filter(
      (r) =>
        r.workload === workload &&
        r.error === undefined &&
        r.errors === 0 &&
        r.requests >= 10 &&
        Number.isFinite(cpu(r)),
    );
    if (ran.length < rows.filter((r) => r.workload === workload).length)
      out.push(
        `${workload}: rows left out of the verdict (errors, or fewer than 10 requests): ${rows
          .filter((r) => r.workload === workload && !ran.includes(r))
          .map((r) => r.server)
          .join(', ')}`,
      );
    const et = ran.find((r) => r.server === 'epoll-et');
    if (ran.length === 0 || et === undefined || !(cpu(et) > 0)) continue;
    const best = ran.reduce((a, b) => (cpu(b) < cpu(a) ? b : a));
    const uring = ran.filter((r) => r.server.startsWith('io_uring'));
    const bestUring = uring.length > 0 ? uring.reduce((a, b) => (cpu(b) < cpu(a) ? b : a)) : undefined;
    const ratio = bestUring === undefined ? NaN : cpu(bestUring) / cpu(et);
    const who = best.server.startsWith('io_uring') ? 'io_uring wins' : 'epoll holds';
    out.push(
      `${workload}: ${who} (least CPU: ${best.server}, ${cpu(best).toFixed(1)} us/request); ` +
        (bestUring === undefined
          ? 'no io_uring row'
          : `best io_uring ${bestUring.server} at ${ratio.toFixed(2)}x epoll ET's CPU (${cpu(bestUring).toFixed(1)} vs ${cpu(et).toFixed(1)} us), ` +
            `syscalls ${bestUring.syscallsPerRequest} vs ${et.syscallsPerRequest} per request`),
    );
  }
  return out;
}

function makeFiles(dir: string): Files {
  const body64k = join(dir, 'body-64k.bin');
  writeFileSync(body64k, Buffer.alloc(64 * 1024, 'x'));
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'index.html'), Buffer.alloc(16 * 1024 * 1024, 'y'));
  return { body64k, root };
}

/** Runs the experiment and returns its report. */
export async function runUring(options: UringOptions): Promise<UringReport> {
  const servers = URING_SERVERS.filter((s) => options.servers?.includes(s.name) ?? true);
  const workloads = URING_WORKLOADS.filter((w) => options.workloads?.includes(w.name) ?? true);
  const pkg = JSON.parse(readFileSync(join(here, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  const report: UringReport = {
    experiment: 'uring',
    version: pkg.version,
    startedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), node: process.version, kernel: release() },
    quick: options.quick,
    servers: servers.map((s) => s.name),
    workloads: workloads.map((w) => w.name),
    rows: [],
    strace: null,
    verdict: [],
    published: PUBLISHED,
  };
  const signal = options.signal;
  if (signal?.aborted) throw new EtltAbortedError('the lab was stopped before it started');
  const children = new ChildSet();
  const onAbort = () => void children.stopAll();
  signal?.addEventListener('abort', onAbort);
  const dir = mkdtempSync(join(tmpdir(), 'etlt-uring-'));
  const total = servers.length * workloads.length;
  let index = 0;
  try {
    const files = makeFiles(dir);
    for (const w of workloads) {
      for (const server of servers) {
        index++;
        options.onProgress?.({ kind: 'start', index, total, server: server.name, workload: w.name });
        let r: UringRow;
        try {
          const m = await measure(
            children,
            server,
            w,
            options.quick,
            join(dir, `${server.name}-${w.name}.json`),
            files,
          );
          r = row(server.name, w, m);
        } catch (e) {
          if (signal?.aborted) throw e;
          r = errorRow(server.name, w.name, e instanceof Error ? e.message : String(e));
        }
        report.rows.push(r);
        options.onProgress?.({ kind: 'done', index, total, row: r });
      }
    }
    if (options.strace !== false && servers.some((s) => s.name === 'io_uring')) {
      try {
        report.strace = await straceCheck(children, options.quick, dir, files);
      } catch (e) {
        if (signal?.aborted) throw e;
        report.straceError = e instanceof Error ? e.message : String(e);
      }
    }
    report.verdict = verdictLines(report.rows);
  } catch (e) {
    if (signal?.aborted) throw new EtltAbortedError(`the lab was stopped (${String(signal.reason ?? 'aborted')})`);
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await children.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}
