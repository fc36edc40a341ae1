// Environment: tools, pinning, limits, ports, machine-wide TCP counters.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

import { NOFILE } from './config.mjs';

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function ensureTools() {
  const wanted = { wrk: 'wrk', ab: 'apache2-utils', nginx: 'nginx', strace: 'strace' };
  const missing = Object.keys(wanted).filter((t) => !have(t));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(`bench: missing ${missing.join(', ')} and not root: those parts are skipped`);
    return;
  }
  const pkgs = ['wrk', 'apache2-utils', 'nginx', 'strace'];
  console.error(`bench: missing ${missing.join(', ')}: apt-get install -y ${pkgs.join(' ')}`);
  const opts = { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  let r = spawnSync('apt-get', ['install', '-y', ...pkgs], opts);
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], opts);
    r = spawnSync('apt-get', ['install', '-y', ...pkgs], opts);
  }
  if (r.status !== 0) console.error('bench: apt-get install failed; the parts that need those tools are skipped');
}

export const CPUS = os.availableParallelism();
export const PIN = have('taskset') && CPUS >= 2;
export const SERVER_CPU = '0';
export const CLIENT_CPU = '1';

/** argv run under `ulimit -n` and, where possible, pinned to one CPU. */
export function pinned(cpu, argv) {
  const pin = PIN ? ['taskset', '-c', cpu] : [];
  return [
    'bash',
    '-c',
    `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n $(ulimit -Hn); exec "$@"`,
    'bash',
    ...pin,
    ...argv,
  ];
}

// Machine-wide TCP counters that explain stalls: a SYN retransmitted after a
// drop waits 1 s; a listen queue overflow drops a SYN. They count every
// process's traffic, not only the bench's.
const TCP_COUNTERS = ['TCPSynRetrans', 'ListenOverflows', 'ListenDrops', 'TCPTimeWaitOverflow'];

export function tcpCounters() {
  const values = {};
  try {
    const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i].split(/\s+/);
      const nums = lines[i + 1].split(/\s+/);
      if (names[0] !== 'TcpExt:') continue;
      names.forEach((name, j) => {
        if (TCP_COUNTERS.includes(name)) values[name] = Number(nums[j]);
      });
    }
  } catch {
    // not Linux, or no procfs: no counters
  }
  return values;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
