// CPU figures of a run: the server's own CPU time (src/lab/cpu.ts, the lab's
// measure, from the build in dist/), the CPU of everything outside the bench
// (noise), and the host's steal.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { ROOT } from './config.mjs';
import { sleep } from './processes.mjs';

const CPU_JS = path.join(ROOT, 'dist', 'src', 'lab', 'cpu.js');
let cpuLib = null;
let cpuLibError = null;
try {
  cpuLib = await import(pathToFileURL(CPU_JS).href);
} catch (err) {
  cpuLibError = `${path.relative(ROOT, CPU_JS)} could not be loaded (npm run build): ${err.message.split('\n')[0]}`;
}

/** Why the server's CPU cannot be measured (no build), or null. */
export function cpuUnavailable() {
  return cpuLibError;
}

/** The server's CPU time so far, in ns, over its whole process tree (nginx's
 * workers included); null once it has exited. */
export function serverCpuNs(pid) {
  try {
    return cpuLib.cpuTimeNs(pid, { tree: true });
  } catch {
    return null;
  }
}

/** Every process of `rootPid`'s tree, as src/lab/cpu.ts walks it. */
export function processTree(rootPid) {
  return cpuLib.processTree(rootPid);
}

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Every process's utime+stime+cutime+cstime (ticks) and parent, for the
 * noise figure only: schedstat would mean reading every thread on the
 * machine, and ticks are precise enough to tell a quiet machine from a busy
 * one. A process's /proc/PID/stat already includes all its threads. */
export function snapshot() {
  const stats = new Map(); // pid -> { ppid, ticks }
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text;
    try {
      text = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Field 2 (comm) may hold spaces and parentheses: split after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): field N is f[N - 3].
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    stats.set(Number(name), { ppid: Number(f[1]), ticks });
  }
  return stats;
}

/** rootPid and all its descendants in a snapshot. */
function tree(stats, rootPid) {
  const children = new Map();
  for (const [pid, s] of stats) {
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(pid);
  }
  const seen = new Set();
  const todo = [rootPid];
  while (todo.length > 0) {
    const pid = todo.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return seen;
}

/**
 * CPU ticks used between two snapshots by every process outside this bench
 * (another job on the machine makes a run noisy). Sums over whole trees,
 * before and after: a child that dies in between and is reaped moves its
 * ticks into its parent's cutime/cstime, which the sums then count once, not
 * twice. The servers are the bench's children, so they are not "other".
 */
export function otherTicks(before, after) {
  const sum = (stats, pids) => {
    let t = 0;
    for (const pid of pids) t += stats.get(pid)?.ticks ?? 0;
    return t;
  };
  const all = (stats) => sum(stats, stats.keys());
  const ours = (stats) => sum(stats, tree(stats, process.pid));
  return Math.max(0, all(after) - ours(after) - (all(before) - ours(before)));
}

// Less than this much CPU in a 250 ms window counts as idle: an idle Node
// server still runs a timer or a GC step now and then.
const SETTLED_NS = 2e6;

/**
 * Waits until the server has used (almost) no CPU for 250 ms (at most 5 s). A
 * time-limited run ends with up to c connections still queued at the server;
 * a slow server works through them after the tool has gone, and that work
 * belongs to no run, least of all to the strace run's count.
 */
export async function settle(serverPid) {
  const deadline = Date.now() + 5000;
  let last = serverCpuNs(serverPid);
  while (Date.now() < deadline && last !== null) {
    await sleep(250);
    const now = serverCpuNs(serverPid);
    if (now === null || now - last < SETTLED_NS) return;
    last = now;
  }
}

/** Ticks this virtual machine's CPUs waited for the host ("steal", the 8th
 * number of the "cpu" line of /proc/stat): time no process here can see. */
export function stealTicks() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    return Number(line.trim().split(/\s+/)[8]) || 0;
  } catch {
    return 0;
  }
}
