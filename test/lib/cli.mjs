/**
 * `etlt serve` as a child process: started through a test's Scope, its start line and
 * counters parsed, stopped by a signal with a deadline.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

import { CLI, HOST } from './bytes.mjs';
import { ROOT, waitFor } from './util.mjs';

/** A port that was free a moment ago (for a child whose stdout is never read). */
export async function freePort() {
  const s = net.createServer();
  s.listen(0, HOST);
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

/**
 * Parses the counters `etlt serve` prints (on exit and SIGUSR1) from the last block in
 * `text`: { mode, connections, open, requests, responses, aborted, rejected, 'timed-out',
 * shed, ... }.
 */
export function parseCounters(text) {
  const starts = [...text.matchAll(/^etlt: mode=/gm)];
  if (starts.length === 0) return null;
  const block = text.slice(starts[starts.length - 1].index);
  const out = {};
  const lines = block.split('\n').slice(0, 4).join(' ');
  for (const m of lines.matchAll(/([a-z_-]+)=([^\s)]+)/g)) {
    const v = Number(m[2]);
    out[m[1]] = Number.isNaN(v) ? m[2] : v;
  }
  const eagain = (name) => {
    const r = new RegExp(`${name}=\\d+ \\(EAGAIN (\\d+)\\)`).exec(lines);
    return r ? Number(r[1]) : NaN;
  };
  out.sendAgain = eagain('send');
  out.recvAgain = eagain('recv');
  out.acceptAgain = eagain('accept');
  return out;
}

/**
 * `etlt serve` in a child process. `args` are appended to `serve --mode MODE --host
 * 127.0.0.1`. Unless `port` is given, `--port 0` is used and the bound port is parsed from
 * the start line on stdout. `readStdout: false` never reads the child's stdout pipe (needs
 * `port`). `ulimit` runs it under bash with that fd limit. SIGKILLed after the test.
 */
export async function startCli(scope, mode, args = [], { port, readStdout = true, ulimit } = {}) {
  const argv = [CLI, 'serve', '--mode', mode, '--host', HOST, '--port', String(port ?? 0), ...args];
  const child =
    ulimit === undefined
      ? spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `ulimit -n ${ulimit} && exec "$0" "$@"`, process.execPath, ...argv], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  scope.child(child);
  const cli = new Cli(child, mode);
  if (readStdout) {
    child.stdout.setEncoding('utf8').on('data', (d) => {
      cli.stdout += d;
    });
  }
  child.stderr.setEncoding('utf8').on('data', (d) => {
    cli.stderr += d;
  });
  if (port === undefined) {
    assert.ok(readStdout, 'port 0 needs the start line from stdout');
    const m = await waitFor(
      () => {
        if (cli.exited) throw new Error(`etlt serve exited early (${cli.exitCode ?? cli.signal}): ${cli.stderr}`);
        return /^etlt: serving (?:the files of .+ )?on http:\/\/127\.0\.0\.1:(\d+)\/ \((edge-triggered|level-triggered|completion-based), mode (et|lt|completion)(, backend (poll|select|io_uring))?\)$/m.exec(
          cli.stdout,
        );
      },
      { timeout: 5000, interval: 5, message: 'the start line on stdout' },
    );
    assert.equal(m[3], mode);
    const backendAt = args.indexOf('--backend');
    assert.equal(m[5] ?? 'epoll', backendAt < 0 ? 'epoll' : args[backendAt + 1], 'the backend in the start line');
    cli.port = Number(m[1]);
  } else {
    // Nothing to parse: ready once it accepts a connection (closed at once; counted as aborted).
    cli.port = port;
    await waitFor(
      () => {
        if (cli.exited) throw new Error(`etlt serve exited early (${cli.exitCode ?? cli.signal}): ${cli.stderr}`);
        return new Promise((resolve) => {
          const s = net.connect({ host: HOST, port }, () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        });
      },
      { timeout: 5000, interval: 20, message: 'etlt serve to accept connections' },
    );
  }
  return cli;
}

/** A running `etlt serve`. */
export class Cli {
  constructor(child, mode) {
    this.child = child;
    this.mode = mode;
    this.stdout = '';
    this.stderr = '';
    this.port = 0;
    this.exitCode = null;
    this.signal = null;
    this.exited = false;
    this.stopSent = false;
    this.exitP = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        this.exited = true;
        resolve({ code, signal });
      });
    });
    // 'close' comes after 'exit' once stdio is flushed: the whole stderr is in.
    this.closeP = new Promise((resolve) => child.on('close', resolve));
  }

  /** Sends SIGUSR1 and resolves with the counters it printed to stderr. */
  async counters() {
    const n = (this.stderr.match(/^etlt: mode=/gm) ?? []).length;
    this.child.kill('SIGUSR1');
    await waitFor(() => (this.stderr.match(/^etlt: per request:/gm) ?? []).length > n, {
      timeout: 3000,
      message: 'the counters after SIGUSR1',
    }).catch((err) => {
      err.message += `; exited: ${this.exited}; stderr so far: ${JSON.stringify(this.stderr)}`;
      throw err;
    });
    return parseCounters(this.stderr);
  }

  /** Sends `signal`, remembering a stop signal so that `stop` does not send a second one. */
  kill(signal) {
    if (signal === 'SIGINT' || signal === 'SIGTERM') this.stopSent = true;
    this.child.kill(signal);
  }

  /**
   * Sends `signal` (unless a stop signal was sent already: a second one means "exit now")
   * and resolves with { code, signal, ms } once the process has exited and closed stdio.
   */
  async stop(signal = 'SIGTERM', timeout = 5000) {
    const t0 = performance.now();
    if (!this.exited && !this.stopSent) this.kill(signal);
    let timer;
    const result = await Promise.race([
      this.exitP,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), timeout);
      }),
    ]);
    clearTimeout(timer);
    if (result === null) {
      this.child.kill('SIGKILL');
      await this.exitP;
      assert.fail(`etlt serve did not exit within ${timeout} ms of ${signal}; stderr: ${this.stderr}`);
    }
    if (this.child.stdout.readableFlowing) await this.closeP;
    else await waitFor(() => this.child.stderr.closed, { timeout: 2000, message: 'stderr to close' });
    return { ...result, ms: performance.now() - t0 };
  }
}
