/**
 * A server's CPU time as the scheduler counts it, shared by the lab and the benchmarks so
 * that both charge a server the same way. The source is each thread's run time in
 * /proc/PID/task/TID/schedstat (nanoseconds, exact), not utime+stime from /proc/PID/stat:
 * those are whole clock ticks (10 ms here), sampled at timer interrupts, a few percent off
 * over a run of a second or two.
 *
 * Only node: modules are imported: the benchmarks load the built file on its own.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Options of {@link cpuTimeNs}. */
export interface CpuTimeOptions {
  /**
   * Also count every descendant process (nginx's workers, a shell's child). Off by
   * default: the lab's server is one process.
   */
  tree?: boolean;
}

/** The parent of `pid` from /proc/PID/stat, or null when it is gone. */
function parentOf(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 (comm) may hold spaces and parentheses: the fields after it start after the
  // last ')'; the first of them is the state, the second the parent.
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * `rootPid` and every process descended from it, as they are at the moment of the call
 * (one pass over /proc). The root comes first; it is included even when it has just exited,
 * and an empty tree never occurs.
 */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid === null) continue;
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
  }
  const out: number[] = [];
  const seen = new Set<number>();
  const todo = [rootPid];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Run time of every live thread of one process, in nanoseconds; throws when it is gone. */
function processNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between readdir and read
    }
  }
  return total;
}

/**
 * CPU time used so far by process `rootPid` (every live thread's run time, user and
 * kernel, from /proc/PID/task/TID/schedstat), in nanoseconds; with `tree: true`, summed
 * over its descendants as well. Take the difference of two calls around a run.
 *
 * A thread or process that exits between the two calls takes its time with it, so the
 * difference is only right for servers whose threads and processes live as long as the
 * run (Node's and nginx's do). Throws when `rootPid` does not exist (ENOENT); a descendant
 * that exits during the call is skipped.
 */
export function cpuTimeNs(rootPid: number, options: CpuTimeOptions = {}): number {
  let total = processNs(rootPid);
  if (options.tree) {
    for (const pid of processTree(rootPid).slice(1)) {
      try {
        total += processNs(pid);
      } catch {
        // exited during the walk
      }
    }
  }
  return total;
}
