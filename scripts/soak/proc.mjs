// What the soak reads of the server from outside, in /proc: the process and its
// descendants (a server with workers is a tree), their resident memory, open fds and CPU
// time. Nothing here signals or waits; a process that vanished between two reads counts
// as absent.
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The direct children of `pid` (every thread's children file). */
function children(pid) {
  const out = [];
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    const text = read(`/proc/${pid}/task/${tid}/children`);
    if (text) for (const c of text.trim().split(/\s+/)) if (c) out.push(Number(c));
  }
  return out;
}

/** `pid` and all its descendants, parents first. */
export function processTree(pid) {
  const out = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift();
    if (read(`/proc/${p}/stat`) === null) continue;
    out.push(p);
    queue.push(...children(p));
  }
  return out;
}

function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

function rssBytes(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : 0;
}

/** User + system CPU seconds of one process (its own, not its reaped children's). */
function cpuSeconds(pid) {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return 0;
  // Fields after the command name, which may hold spaces and parentheses: utime is the 14th field.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** One look at the tree under `pid`: { pids, rssBytes, fds, cpuS } summed over it. */
export function sampleTree(pid) {
  const pids = processTree(pid);
  let rss = 0;
  let fds = 0;
  let cpuS = 0;
  for (const p of pids) {
    rss += rssBytes(p);
    fds += fdCount(p);
    cpuS += cpuSeconds(p);
  }
  return { pids, rssBytes: rss, fds, cpuS };
}
