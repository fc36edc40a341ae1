// One `etlt serve` under the soak: started in its own process group (so nothing it starts
// outlives the soak), its port read from the start line, its counters and memory asked
// for with SIGUSR1, stopped with SIGTERM and a deadline.
import path from 'node:path';

import { ROOT } from '../../bench/lib/config.mjs';
import { killGroup, start } from '../../bench/lib/processes.mjs';

export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
export const HOST = '127.0.0.1';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Fields of a counters line as numbers (`open=3` -> { open: 3 }). */
function fields(line) {
  const out = {};
  for (const m of line.matchAll(/([a-z-]+)=(\d+)\b/g)) out[m[1]] = Number(m[2]);
  return out;
}

/**
 * What one SIGUSR1 printed: the counters (`open`, `responses`, ...) summed over every block
 * (a server with workers may print one per worker; a block that says "total" is taken
 * alone) and the memory lines summed over the processes that printed one.
 */
export function parseUsr1(text) {
  const counters = text.split('\n').filter((l) => /^etlt: .*\bmode=/.test(l));
  const totals = counters.filter((l) => /(^|[\s(:])total\b/.test(l));
  const picked = totals.length > 0 ? totals.slice(-1) : counters;
  const sum = (lines) => {
    const out = {};
    for (const l of lines) for (const [k, v] of Object.entries(fields(l))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const memory = sum(text.split('\n').filter((l) => /^etlt: .*memory rss=/.test(l) && !/(^|[\s(:])total\b/.test(l)));
  return { blocks: counters.length, counters: sum(picked), memory };
}

/**
 * Starts `etlt serve --host 127.0.0.1 --port 0 --quiet ...args`, under `prlimit
 * --nofile=N:N` when `nofile` is given (soft and hard: Node raises its soft limit to the
 * hard one by itself). Resolves once the start line names the port.
 */
export async function startServer(args, { nofile } = {}) {
  const serve = [process.execPath, CLI, 'serve', '--host', HOST, '--port', '0', '--quiet', ...args];
  const argv = nofile === undefined ? serve : ['prlimit', `--nofile=${nofile}:${nofile}`, '--', ...serve];
  const child = start(argv);
  const server = new Server(child, argv);
  const deadline = performance.now() + 10_000;
  while (server.port === 0) {
    if (server.exit !== null)
      throw new Error(`etlt serve exited at start (${JSON.stringify(server.exit)}): ${server.stderr}`);
    if (performance.now() > deadline) {
      killGroup(child, 'SIGKILL');
      throw new Error(`etlt serve printed no start line within 10 s: ${server.stdout} ${server.stderr}`);
    }
    await sleep(10);
  }
  return server;
}

class Server {
  constructor(child, argv) {
    this.child = child;
    this.pid = child.pid;
    this.argv = argv;
    this.port = 0;
    this.stdout = '';
    this.stderr = '';
    /** Everything printed to stderr that was not counters: warnings, errors, worker restarts. */
    this.notes = [];
    this.exit = null;
    this.usr1Seen = 0;
    child.stdout.setEncoding('utf8').on('data', (d) => {
      this.stdout = (this.stdout + d).slice(-8192);
      const m = /^etlt: .*\bhttp:\/\/127\.0\.0\.1:(\d+)\//m.exec(this.stdout);
      if (m && this.port === 0) this.port = Number(m[1]);
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      this.stderr += d;
    });
    child.exited.then((r) => {
      this.exit = r;
    });
  }

  /**
   * Sends SIGUSR1 and resolves with what it printed (see parseUsr1) once the memory line
   * arrived, or null after `timeoutMs` (a server too busy to answer, or gone).
   */
  usr1(timeoutMs = 1500) {
    // One at a time: each reads the answer from where stderr stood when it signalled.
    const next = this.#pending.then(() => this.#usr1(timeoutMs));
    this.#pending = next;
    return next;
  }

  #pending = Promise.resolve();

  async #usr1(timeoutMs) {
    if (this.exit !== null) return null;
    this.#takeNotes();
    const from = this.stderr.length;
    try {
      process.kill(this.pid, 'SIGUSR1');
    } catch {
      return null;
    }
    const deadline = performance.now() + timeoutMs;
    // The answer is complete once a memory line (or, from a build without one, the last
    // counters line) is in and stderr has been quiet for a moment: a server with workers
    // may answer in several blocks, one per process.
    let seenAt = -1;
    let length = -1;
    while (performance.now() < deadline) {
      const text = this.stderr.slice(from);
      if (seenAt < 0 && /^etlt: .*(memory rss=|per request:).*\n/m.test(text)) seenAt = performance.now();
      if (seenAt >= 0) {
        if (text.length !== length) {
          length = text.length;
          seenAt = performance.now();
        } else if (performance.now() - seenAt >= 30) {
          this.usr1Seen++;
          return parseUsr1(text);
        }
      }
      if (this.exit !== null) return null;
      await sleep(5);
    }
    return null;
  }

  /** Keeps the lines that are not counters (bounded), and drops the rest of stderr read so far. */
  #takeNotes() {
    const lines = this.stderr.split('\n');
    this.stderr = lines.pop() ?? '';
    for (const l of lines) {
      if (l === '' || /^etlt: (mode=|epoll_wait=|poll=|select=|io_uring_enter=|accept=|per request:|memory )/.test(l))
        continue;
      if (/^etlt: .*(mode=|memory rss=)/.test(l)) continue;
      if (this.notes.length < 200) this.notes.push(l);
    }
  }

  /** SIGTERM, then SIGKILL to the group after `graceMs`; resolves with { code, signal, killed }. */
  async stop(graceMs = 8000) {
    if (this.exit === null) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
    }
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      killGroup(this.child, 'SIGKILL');
    }, graceMs);
    const r = await this.child.exited;
    clearTimeout(timer);
    // The group too: a worker the parent failed to stop must not outlive the soak.
    killGroup(this.child, 'SIGKILL');
    this.#takeNotes();
    return { code: r.code, signal: r.signal, killed };
  }
}
