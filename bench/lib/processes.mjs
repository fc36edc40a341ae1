// Child processes: every one is started in its own process group and killed
// as a group, so nothing survives the bench (also on Ctrl-C or an exception).
import { spawn } from 'node:child_process';

import { ROOT } from './config.mjs';

const live = new Set();

export function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export function cleanupSync() {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}

/** Kills every group still running when the bench exits, however it exits. */
export function installCleanup() {
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every process it started\n`);
      cleanupSync();
      process.exit(130);
    });
  }
}

export function start(argv, { stdout = 'pipe', stderr = 'pipe' } = {}) {
  const child = spawn(argv[0], argv.slice(1), {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', stdout, stderr],
  });
  live.add(child);
  child.exited = new Promise((resolve) => {
    // 'close', not 'exit': the output pipes are drained by then.
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (err) => {
      live.delete(child);
      resolve({ code: null, signal: null, error: err });
    });
  });
  return child;
}

export async function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  const result = await child.exited;
  clearTimeout(timer);
  return result;
}

/** Runs argv to completion (bounded by timeoutS), collecting its output. */
export async function run(argv, timeoutS) {
  const child = start(argv);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, timeoutS * 1000);
  const { code, signal, error } = await child.exited;
  clearTimeout(timer);
  return { code, signal, error, stdout, stderr, timedOut };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function tail(text, lines = 8) {
  return text.trim().split('\n').slice(-lines).join('\n');
}
