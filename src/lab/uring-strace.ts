/**
 * The lab's check of its own syscall figures: one io_uring run under `strace -c -f`, its
 * counts beside the server's counters, so a counter that lies shows in the report.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EtltLabError } from '../errors.js';
import { syscallsByKind } from '../trace/counters.js';
import type { AllCounters } from '../trace/counters.js';
import { waitExit } from './children.js';
import type { ChildSet } from './children.js';
import { URING_SERVERS, URING_WORKLOADS, loadConfig, serverArgv } from './uring-plan.js';
import type { Files } from './uring-plan.js';
import type { StraceCheck } from './uring-types.js';

const CLI = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'cli', 'main.js');

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
export async function straceCheck(children: ChildSet, quick: boolean, dir: string, files: Files): Promise<StraceCheck> {
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
