/**
 * Helpers for the CLI's process tests: the built `etlt` run as a child, its own child
 * processes found in /proc (by parent pid, and by an environment marker that survives
 * re-parenting), their listening TCP sockets, and polling for a condition that must
 * stay false for a while.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { ROOT, waitFor } from './util.mjs';

export { ROOT, waitFor };
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/**
 * Runs `etlt ...args`. Returns the child, its output so far (`out.stdout`, `out.stderr`),
 * and `exited`, resolving with { code, signal, ms } (ms: from spawn to exit).
 */
export function etlt(args, { env = {}, stdio = ['ignore', 'pipe', 'pipe'] } = {}) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio, env: { ...process.env, ...env } });
  const out = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (d) => (out.stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d) => (out.stderr += d));
  const exited = new Promise((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, ms: performance.now() - t0 })),
  );
  return { child, out, exited };
}

/** /proc/PID/stat: state, parent pid and start time (field 22), or null if gone. */
export function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), start: f[19] };
  } catch {
    return null;
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function environ(pid) {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Every live (not zombie) process: pid, ppid, start time and command line. */
export function processes() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(name);
    if (s === null || s.state === 'Z' || s.state === 'X') continue;
    out.push({ pid: Number(name), ppid: s.ppid, start: s.start, cmd: cmdline(name) });
  }
  return out;
}

/** The live children of `pid` (by /proc/PID/stat's parent field), with what they are. */
export function childrenOf(pid) {
  return processes()
    .filter((p) => p.ppid === pid)
    .map((p) => ({
      ...p,
      kind: p.cmd.includes('serve --stop-on-stdin-eof') ? 'serve' : p.cmd.includes('loadgen.js') ? 'loadgen' : 'other',
    }));
}

/**
 * Live processes whose environment holds `marker` (NAME=value): a test gives its `etlt` a
 * private marker, and every descendant inherits it, even after being re-parented.
 */
export function family(marker, except = process.pid) {
  return processes().filter((p) => p.pid !== except && environ(p.pid).includes(marker));
}

/** The TCP sockets `pid` holds: local port and state (its socket inodes matched in its /proc/PID/net/tcp{,6}). */
export function tcpSockets(pid) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // Closed meanwhile.
      }
    }
  } catch {
    return [];
  }
  const sockets = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address rem_address st ... inode (field 10).
      if (f.length > 9 && inodes.has(f[9]))
        sockets.push({
          port: parseInt(f[1].split(':')[1], 16),
          state: f[3] === '0A' ? 'listen' : f[3] === '01' ? 'established' : f[3],
        });
    }
  }
  return sockets;
}

/** The TCP ports `pid` is listening on. */
export function listeningPorts(pid) {
  return tcpSockets(pid)
    .filter((s) => s.state === 'listen')
    .map((s) => s.port);
}

/** Polls `condition` for `ms`; fails with `message` if it is ever truthy. */
export async function staysFalse(condition, ms, message) {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const v = await condition();
    assert.ok(!v, `${message} (${JSON.stringify(v)})`);
    await delay(10);
  }
}

/** Kills (SIGKILL) every live process of `marker`'s family: a test's last resort. */
export function killFamily(marker) {
  for (const p of family(marker)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}
