#!/usr/bin/env node
// The benchmark suite (`npm run bench`). It starts each server in SERVERS
// pinned to CPU 0, loads it from CPU 1 with wrk and ab (one connection per
// request, HTTP/1.0 semantics), measures req/s, latency, the server's CPU time
// per request and, in a separate run under strace, its syscalls per request,
// and prints every figure as a ratio against the C baseline measured in the
// same run. Results also go to bench/out/results.json.
//
// It never fails because the machine was slow: it exits non-zero only when it
// could not run at all (no load generator, or no server started).
//
//   npm run bench                  full run, 3 interleaved rounds, about 5 minutes
//   BENCH_ROUNDS=5 npm run bench   more rounds, steadier medians
//   BENCH_QUICK=1 npm run bench    smoke run, one round, about 40 seconds
//   BENCH_ONLY=c,nginx npm run bench   only the named servers
//
// docs/benchmarks.md explains every column.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench', 'out');
const QUICK = process.env.BENCH_QUICK === '1';
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim()) : null;

// Run lengths. Every run is bounded twice: by its own count or duration, and by
// a hard kill after HARD_TIMEOUT_S in case a server stops answering.
const CONFIG = QUICK
  ? {
      rounds: 1,
      warmup: { n: 500, c: 50 },
      wrk: { durationS: 1, concurrency: [50] },
      ab: { n: 50000, timeLimitS: 1, concurrency: [1, 50, 500] },
      strace: { n: 1000, c: 50 },
    }
  : {
      rounds: Number(process.env.BENCH_ROUNDS) || 3,
      warmup: { n: 20000, c: 50 },
      wrk: { durationS: 2, concurrency: [50, 500] },
      ab: { n: 200000, timeLimitS: 2, concurrency: [1, 50, 500] },
      strace: { n: 5000, c: 50 },
    };
const HARD_TIMEOUT_S = 30;
const STRACE_TIMEOUT_S = 60;
const START_TIMEOUT_MS = 10_000;
const NOFILE = 65536;
// A run during which processes outside the bench used more than this much of
// one CPU is marked noisy ('*') in the table.
const NOISY_PERCENT = 10;
const BODY = 'Hello, world!';

// ---------------------------------------------------------------------------
// Child processes: every one is started in its own process group and killed
// as a group, so nothing survives the bench (also on Ctrl-C or an exception).

const live = new Set();

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function cleanupSync() {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping every process it started\n`);
    cleanupSync();
    process.exit(130);
  });
}

function start(argv, { stdout = 'pipe', stderr = 'pipe' } = {}) {
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

async function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  const result = await child.exited;
  clearTimeout(timer);
  return result;
}

/** Runs argv to completion (bounded by timeoutS), collecting its output. */
async function run(argv, timeoutS) {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Environment: tools, pinning, limits.

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureTools() {
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

const CPUS = os.availableParallelism();
const PIN = have('taskset') && CPUS >= 2;
const SERVER_CPU = '0';
const CLIENT_CPU = '1';

/** argv run under `ulimit -n` and, where possible, pinned to one CPU. */
function pinned(cpu, argv) {
  const pin = PIN ? ['taskset', '-c', cpu] : [];
  return ['bash', '-c', `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n $(ulimit -Hn); exec "$@"`, 'bash', ...pin, ...argv];
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Every process's utime+stime+cutime+cstime (ticks) and parent. A
 * process's /proc/PID/stat already includes all its threads, live or dead. */
function snapshot() {
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
 * CPU ticks between two snapshots: of the server's tree, and of every process
 * outside this bench (another job on the machine makes a run noisy). Sums over
 * whole trees, before and after: a child that dies in between and is reaped
 * moves its ticks into its parent's cutime/cstime, which the sums then count
 * once, not twice.
 */
function cpuDelta(before, after, serverPid) {
  const sum = (stats, pids) => {
    let t = 0;
    for (const pid of pids) t += stats.get(pid)?.ticks ?? 0;
    return t;
  };
  const all = (stats) => sum(stats, stats.keys());
  // A server that died during the run took its ticks with it (into the
  // bench's cutime): its share is unknown, not zero.
  const server = after.has(serverPid)
    ? sum(after, tree(after, serverPid)) - sum(before, tree(before, serverPid))
    : null;
  const ours = (stats) => sum(stats, tree(stats, process.pid));
  const other = all(after) - ours(after) - (all(before) - ours(before));
  return { server, other: Math.max(0, other) };
}

/**
 * Waits until the server has used no CPU for 250 ms (at most 5 s). A
 * time-limited run ends with up to c connections still queued at the server;
 * a slow server works through them after the tool has gone, and that work
 * belongs to no run, least of all to the strace run's count.
 */
async function settle(serverPid) {
  const ticks = () => {
    const stats = snapshot();
    let t = 0;
    for (const pid of tree(stats, serverPid)) t += stats.get(pid).ticks;
    return t;
  };
  const deadline = Date.now() + 5000;
  let last = ticks();
  while (Date.now() < deadline) {
    await sleep(250);
    const now = ticks();
    if (now === last) return;
    last = now;
  }
}

/** Ticks this virtual machine's CPUs waited for the host ("steal", the 8th
 * number of the "cpu" line of /proc/stat): time no process here can see. */
function stealTicks() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    return Number(line.trim().split(/\s+/)[8]) || 0;
  } catch {
    return 0;
  }
}

// Machine-wide TCP counters that explain stalls: a SYN retransmitted after a
// drop waits 1 s; a listen queue overflow drops a SYN. They count every
// process's traffic, not only the bench's.
const TCP_COUNTERS = ['TCPSynRetrans', 'ListenOverflows', 'ListenDrops', 'TCPTimeWaitOverflow'];

function tcpCounters() {
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

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One HTTP/1.0 request; resolves with the raw response, or an error code. */
function probe(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ error: 'ETIMEDOUT', data });
    }, 2000);
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write('GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'));
    sock.on('data', (d) => (data += d));
    sock.on('end', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ data });
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      resolve({ error: err.code ?? String(err), data });
    });
  });
}

function tail(text, lines = 8) {
  return text.trim().split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------
// The servers. `prepare` may build files and returns a reason to skip, or null.

function nginxConf(port) {
  const dir = path.join(OUT, 'nginx');
  return `# generated by bench/run.mjs; one process, no master, no access log
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile ${NOFILE};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
    use epoll;
    worker_connections 8192;
}
http {
    access_log off;
    server_tokens off;
    keepalive_timeout 0;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    server {
        listen 127.0.0.1:${port} backlog=4096;
        default_type text/plain;
        location / {
            return 200 "${BODY}";
        }
    }
}
`;
}

const ETLT_MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

function buildC() {
  if (!have('cc')) return 'no C compiler (cc)';
  const r = spawnSync('cc', ['-O2', '-o', 'bench/out/cserver', 'bench/cserver.c'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? null : `cc failed: ${tail(r.stderr)}`;
}

const SERVERS = [
  {
    name: 'c',
    label: 'C epoll ET (baseline)',
    prepare: buildC,
    command: (port) => [path.join(OUT, 'cserver'), String(port)],
  },
  {
    name: 'c-defer',
    label: 'C epoll ET + TCP_DEFER_ACCEPT (like-for-like with etlt\'s default)',
    prepare: buildC,
    command: (port) => [path.join(OUT, 'cserver'), String(port), 'defer'],
  },
  {
    name: 'nginx',
    label: 'nginx, 1 process',
    prepare(port) {
      if (!have('nginx')) return 'nginx not installed';
      const dir = path.join(OUT, 'nginx');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(port));
      return null;
    },
    command: () => {
      const dir = path.join(OUT, 'nginx');
      return ['nginx', '-p', `${dir}/`, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`];
    },
  },
  {
    name: 'node-http',
    label: "Node's http",
    command: (port) => [process.execPath, 'bench/servers/node-http.mjs', String(port)],
  },
  {
    name: 'node-net',
    label: "Node's net",
    command: (port) => [process.execPath, 'bench/servers/node-net.mjs', String(port)],
  },
  ...[
    ['etlt-et', 'et', 'on'],
    ['etlt-lt', 'lt', 'on'],
    ['etlt-et-nodefer', 'et', 'off'],
    ['etlt-lt-nodefer', 'lt', 'off'],
  ].map(([name, mode, defer]) => ({
    name,
    label: `etlt --mode ${mode}${defer === 'off' ? ' --defer-accept off' : ''}`,
    prepare() {
      return fs.existsSync(ETLT_MAIN) ? null : `${path.relative(ROOT, ETLT_MAIN)} not found (npm run build)`;
    },
    command: (port) => [
      process.execPath,
      path.relative(ROOT, ETLT_MAIN),
      'serve',
      '--mode',
      mode,
      '--defer-accept',
      defer,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--quiet',
    ],
  })),
];

/** Starts a server pinned to CPU 0 and waits until it answers a request. */
async function startServer(server, port) {
  const argv = server.command(port);
  const logPath = path.join(OUT, `${server.name}.log`);
  const log = fs.openSync(logPath, 'w');
  const child = start(pinned(SERVER_CPU, argv), { stdout: log, stderr: log });
  fs.closeSync(log);
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = null;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    last = await probe(port);
    if (!last.error || (last.error !== 'ECONNREFUSED' && last.data)) break;
    await sleep(50);
  }
  const why = (reason) => `${reason}\n    command: ${argv.join(' ')}\n    log: ${tail(fs.readFileSync(logPath, 'utf8')) || '(empty)'}`;
  if (child.exitCode !== null || child.signalCode !== null) {
    return { error: why(`exited at start (code ${child.exitCode}, signal ${child.signalCode})`) };
  }
  if (!last || last.error) {
    await stop(child);
    return { error: why(`did not answer within ${START_TIMEOUT_MS} ms (${last?.error ?? 'no probe'})`) };
  }
  const ok = last.data.startsWith('HTTP/1.') && / 200 /.test(last.data.split('\r\n')[0]) && last.data.endsWith(BODY);
  return { child, argv, responseOk: ok, response: last.data };
}

// ---------------------------------------------------------------------------
// Load generators and their output.

/** "123.45us" | "1.23ms" | "2.00s" -> milliseconds */
function wrkTime(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) return null;
  const scale = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 }[m[2]];
  return Number(m[1]) * scale;
}

function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0;
  };
  const requests = num(/(\d+) requests in/);
  const seconds = wrkTime((/requests in ([\d.]+\w+),/.exec(out) ?? [])[1] ?? '') / 1000;
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? wrkTime(m[1]) : null;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = {
    connect: sock ? Number(sock[1]) : 0,
    read: sock ? Number(sock[2]) : 0,
    write: sock ? Number(sock[3]) : 0,
    timeout: sock ? Number(sock[4]) : 0,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
  };
  return {
    requests,
    seconds,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: pct(50),
    p99Ms: pct(99),
    errors,
    errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
  };
}

/** ab's text output, and its -e CSV (the percentile table in the text has
 * whole milliseconds; the CSV has microseconds). */
function parseAb(out, csv = '') {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0;
  };
  const pct = (p) => {
    const c = new RegExp(`^${p},([\\d.]+)$`, 'm').exec(csv);
    if (c) return Number(c[1]);
    const m = new RegExp(`^\\s*${p}%\\s+(\\d+)`, 'm').exec(out);
    return m ? Number(m[1]) : null;
  };
  const failed = /Failed requests:\s+(\d+)(?:\s*\n\s*\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\))?/.exec(out);
  const errors = {
    failed: failed ? Number(failed[1]) : 0,
    non2xx: num(/Non-2xx responses:\s+(\d+)/),
  };
  if (failed?.[2] !== undefined) {
    Object.assign(errors, { connect: +failed[2], receive: +failed[3], length: +failed[4], exceptions: +failed[5] });
  }
  return {
    requests: num(/Complete requests:\s+(\d+)/),
    seconds: num(/Time taken for tests:\s+([\d.]+)/),
    rps: num(/Requests per second:\s+([\d.]+)/),
    p50Ms: pct(50),
    p99Ms: pct(99),
    errors,
    errorCount: errors.failed + errors.non2xx,
  };
}

const url = (port) => `http://127.0.0.1:${port}/`;

function wrkArgv(port, c, durationS) {
  // wrk speaks HTTP/1.1 with keep-alive; the header makes every server close
  // after each response, so wrk reconnects: one connection per request.
  return ['wrk', '-t1', `-c${c}`, `-d${durationS}s`, '--latency', '--timeout', '5s', '-H', 'Connection: close', url(port)];
}

function abArgv(port, c, n, timeLimitS, csvPath = null) {
  // ab is HTTP/1.0 without keep-alive (no -k): one connection per request.
  // -t must come before -n: -t alone implies -n 50000. -r: a reset is
  // counted as a failure instead of aborting the whole run.
  const limit = timeLimitS ? ['-t', String(timeLimitS)] : [];
  const csv = csvPath ? ['-e', csvPath] : [];
  return ['ab', '-q', '-r', '-s', '10', ...limit, '-n', String(n), '-c', String(c), ...csv, url(port)];
}

async function loadRun(server, tool, port, c, serverPid) {
  const csvPath = path.join(OUT, `ab-${server.name}-c${c}.csv`);
  fs.rmSync(csvPath, { force: true });
  const argv =
    tool === 'wrk'
      ? wrkArgv(port, c, CONFIG.wrk.durationS)
      : abArgv(port, c, CONFIG.ab.n, CONFIG.ab.timeLimitS, csvPath);
  const tcpBefore = tcpCounters();
  const stealBefore = stealTicks();
  const before = snapshot();
  const t0 = process.hrtime.bigint();
  const r = await run(pinned(CLIENT_CPU, argv), HARD_TIMEOUT_S);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const { server: ticks, other } = cpuDelta(before, snapshot(), serverPid);
  const steal = stealTicks() - stealBefore;
  const tcpAfter = tcpCounters();
  const tcp = Object.fromEntries(Object.keys(tcpAfter).map((k) => [k, tcpAfter[k] - (tcpBefore[k] ?? 0)]));
  let csv = '';
  try {
    if (tool === 'ab') csv = fs.readFileSync(csvPath, 'utf8');
  } catch {
    // ab stopped before writing it: fall back to the text table
  }
  const parsed = tool === 'wrk' ? parseWrk(r.stdout) : parseAb(r.stdout, csv);
  const cpuS = ticks === null ? null : ticks / CLK_TCK;
  const result = {
    tool,
    concurrency: c,
    command: argv.join(' '),
    ...parsed,
    wallS,
    serverCpuTicks: ticks,
    serverCpuS: cpuS,
    serverCpuPercent: cpuS === null ? null : (100 * cpuS) / wallS,
    otherCpuPercent: (100 * other) / CLK_TCK / wallS,
    stealPercent: (100 * steal) / CLK_TCK / wallS,
    tcp,
    cpuUsPerReq: cpuS !== null && parsed.requests > 0 ? (cpuS * 1e6) / parsed.requests : null,
  };
  const problems = [];
  if (r.timedOut) problems.push(`killed after ${HARD_TIMEOUT_S}s`);
  if (r.code !== 0 && !r.timedOut) problems.push(`exit ${r.code ?? r.signal}: ${tail(r.stderr || r.stdout, 3)}`);
  if (parsed.requests === 0) problems.push('no request completed');
  else if (parsed.errorCount > parsed.requests * 0.01) problems.push(`${parsed.errorCount} errors ${JSON.stringify(parsed.errors)}`);
  if (problems.length > 0) result.problems = problems;
  result.noisy = result.otherCpuPercent > NOISY_PERCENT || result.stealPercent > NOISY_PERCENT;
  return result;
}

// ---------------------------------------------------------------------------
// strace: syscall counts for a fixed number of requests.

/** Every thread of pid is traced once its TracerPid is set. */
function allTraced(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).every((tid) => {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      return !/^TracerPid:\s+0$/m.test(status);
    });
  } catch {
    return false;
  }
}

function parseStraceSummary(text) {
  // With -U name,calls the table has two columns: syscall name and calls.
  const byKind = {};
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_][a-z0-9_]*)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    if (m[1] === 'total') total = Number(m[2]);
    else byKind[m[1]] = Number(m[2]);
  }
  if (!total) total = Object.values(byKind).reduce((a, b) => a + b, 0);
  return { total, byKind };
}

async function straceRun(server, port, serverPid) {
  const outFile = path.join(OUT, `strace-${server.name}.txt`);
  fs.rmSync(outFile, { force: true });
  const tracer = start(['strace', '-c', '-f', '-U', 'name,calls', '-o', outFile, '-p', String(serverPid)]);
  let stderr = '';
  tracer.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && !allTraced(serverPid) && tracer.exitCode === null) await sleep(20);
  if (!allTraced(serverPid)) {
    await stop(tracer);
    return { error: `strace did not attach: ${tail(stderr, 3)}` };
  }
  const { n, c } = CONFIG.strace;
  const argv = abArgv(port, c, n, null);
  const r = await run(pinned(CLIENT_CPU, argv), STRACE_TIMEOUT_S);
  const ab = parseAb(r.stdout);
  // SIGINT makes strace detach and write its summary; it is sent to strace
  // alone, never to the traced server.
  try {
    process.kill(tracer.pid, 'SIGINT');
  } catch {
    // gone
  }
  const timer = setTimeout(() => killGroup(tracer, 'SIGKILL'), 5000);
  await tracer.exited;
  clearTimeout(timer);
  let summary = { total: 0, byKind: {} };
  try {
    summary = parseStraceSummary(fs.readFileSync(outFile, 'utf8'));
  } catch {
    return { error: `no strace summary: ${tail(stderr, 3)}` };
  }
  const requests = ab.requests;
  const per = (k) => (requests > 0 ? (k ?? 0) / requests : null);
  const top = Object.entries(summary.byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([name, calls]) => ({ name, calls, perReq: per(calls) }));
  return {
    command: `strace -c -f -p PID  +  ${argv.join(' ')}`,
    requests,
    errors: ab.errors,
    seconds: ab.seconds,
    totalCalls: summary.total,
    totalPerReq: per(summary.total),
    epollWaitPerReq: per((summary.byKind.epoll_wait ?? 0) + (summary.byKind.epoll_pwait ?? 0) + (summary.byKind.epoll_pwait2 ?? 0)),
    epollCtlPerReq: per(summary.byKind.epoll_ctl),
    byKind: top,
  };
}

// ---------------------------------------------------------------------------
// Report.

const fmt = {
  n: (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d)),
  ratio: (x) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`),
  ms: (x) => (x === null || x === undefined ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(0)),
};

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (align[i] === 'l' ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function report(results) {
  const base = results.find((s) => s.name === 'c' && !s.skipped);
  const loadRows = [];
  for (const s of results) {
    if (s.skipped) continue;
    for (const r of s.summary) {
      loadRows.push([
        s.name,
        r.tool,
        r.concurrency,
        fmt.n(r.rps),
        fmt.ratio(r.rpsVsC),
        fmt.ms(r.p50Ms),
        fmt.ms(r.p99Ms),
        fmt.n(r.cpuUsPerReq, 1),
        `${fmt.n(r.cpuMin, 1)}-${fmt.n(r.cpuMax, 1)}`,
        fmt.ratio(r.cpuVsC),
        fmt.n(r.serverCpuPercent),
        `${fmt.n(r.otherCpuPercent)}`,
        `${fmt.n(r.stealPercent)}`,
        r.noisyRounds > 0 ? `${r.noisyRounds}/${r.rounds} *` : `0/${r.rounds}`,
        `${r.requests}`,
        r.problems ? `${r.errorCount} !` : `${r.errorCount}`,
      ]);
    }
  }
  const out = [];
  out.push(
    table(
      ['server', 'tool', 'c', 'req/s', 'req/s xC', 'p50 ms', 'p99 ms', 'CPU us/req', 'range', 'CPU xC', 'srv CPU%', 'other CPU%', 'steal%', 'noisy', 'requests', 'errors'],
      loadRows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  for (const s of results) {
    if (s.skipped) out.push(`skipped ${s.name}: ${s.reason.split('\n')[0]}`);
    if (s.died) out.push(`${s.name}: ${s.died}`);
  }
  // One line per server: its CPU ratio over every tool and concurrency.
  const ratios = [];
  for (const s of results) {
    if (s.skipped || s === base) continue;
    const xs = s.summary.map((r) => r.cpuVsC).filter((x) => x !== null);
    if (xs.length > 0) ratios.push(`${s.name} ${fmt.ratio(median(xs))} (${fmt.ratio(Math.min(...xs))}-${fmt.ratio(Math.max(...xs))})`);
  }
  if (ratios.length > 0) out.push('', `CPU per request against C, median over the rows (range): ${ratios.join(', ')}`);
  const sysRows = [];
  const baseSys = base?.strace && !base.strace.error ? base.strace : null;
  for (const s of results) {
    if (s.skipped) continue;
    const t = s.strace;
    if (!t || t.error) {
      sysRows.push([s.name, '-', '-', '-', '-', '-', t?.error ? 'strace failed' : 'strace not run']);
      continue;
    }
    sysRows.push([
      s.name,
      t.requests,
      fmt.n(t.totalPerReq, 2),
      fmt.ratio(baseSys?.totalPerReq && t.totalPerReq ? t.totalPerReq / baseSys.totalPerReq : null),
      fmt.n(t.epollWaitPerReq, 2),
      fmt.n(t.epollCtlPerReq, 2),
      t.byKind
        .slice(0, 6)
        .map((k) => `${k.name} ${k.perReq.toFixed(2)}`)
        .join(', '),
    ]);
  }
  out.push('');
  out.push(
    table(
      ['server', 'requests', 'syscalls/req', 'xC', 'epoll_wait/req', 'epoll_ctl/req', 'top kinds (calls/req)'],
      sysRows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------

/** Starts one server (pinned to CPU 0) and warms it up; returns its entry and child. */
async function launch(server) {
  const entry = { name: server.name, label: server.label };
  const port = await freePort();
  const reason = server.prepare ? server.prepare(port) : null;
  if (reason) return { entry: { ...entry, skipped: true, reason } };
  const started = await startServer(server, port);
  if (started.error) return { entry: { ...entry, skipped: true, reason: started.error } };
  const { child } = started;
  entry.command = started.argv.join(' ');
  entry.responseOk = started.responseOk;
  entry.runs = [];
  if (!started.responseOk) {
    console.error(`  ${server.name}: unexpected response to GET /: ${JSON.stringify(started.response.slice(0, 200))}`);
  }
  // Warm-up (JIT, caches, socket tables); not measured.
  await run(pinned(CLIENT_CPU, abArgv(port, CONFIG.warmup.c, CONFIG.warmup.n, 10)), HARD_TIMEOUT_S);
  return { entry, server, child, port, pid: child.pid }; // bash execs taskset, which execs the server: same pid
}

const alive = (l) => l.child.exitCode === null && l.child.signalCode === null;

/**
 * The timed runs, interleaved: for each tool and concurrency, `rounds` rounds, each running
 * every server once, in an order rotated by one per round. A burst of noise from the host
 * (steal) or another job then hits one run of several, in no fixed position, and the
 * medians below see through it; servers measured minutes apart would not be comparable.
 */
async function timedRuns(launched) {
  const plan = [];
  if (have('wrk')) for (const c of CONFIG.wrk.concurrency) plan.push(['wrk', c]);
  if (have('ab')) for (const c of CONFIG.ab.concurrency) plan.push(['ab', c]);
  for (const [tool, c] of plan) {
    for (let round = 0; round < CONFIG.rounds; round++) {
      const order = launched.map((_, i) => launched[(i + round) % launched.length]);
      for (const l of order) {
        if (!alive(l)) {
          l.entry.died ??= `server exited (code ${l.child.exitCode}, signal ${l.child.signalCode}) before ${tool} c=${c}`;
          continue;
        }
        await settle(l.pid);
        const r = await loadRun(l.server, tool, l.port, c, l.pid);
        r.round = round;
        l.entry.runs.push(r);
        const note =
          (r.problems ? `  ! ${r.problems.join('; ')}` : '') +
          (r.noisy ? `  * other processes used ${fmt.n(r.otherCpuPercent)}% of a CPU, steal ${fmt.n(r.stealPercent)}%` : '') +
          (r.tcp.TCPSynRetrans || r.tcp.ListenOverflows || r.tcp.ListenDrops
            ? `  (machine-wide: ${r.tcp.TCPSynRetrans} SYN retransmits, ${r.tcp.ListenOverflows} listen overflows, ${r.tcp.ListenDrops} listen drops)`
            : '');
        console.error(
          `  ${tool.padEnd(3)} c=${String(c).padEnd(3)} round ${round + 1}/${CONFIG.rounds}  ${l.entry.name.padEnd(9)} ${fmt.n(r.rps).padStart(6)} req/s  ${fmt.n(r.cpuUsPerReq, 1).padStart(6)} us CPU/req${note}`,
        );
      }
    }
  }
}

function median(values) {
  const xs = values.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const m = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

/**
 * One row per (server, tool, concurrency) from its rounds: medians, the CPU range, and the
 * CPU ratio to C as the median of each round's ratio (each server against the C run of the
 * same round, minutes closer in time than the other rounds).
 */
function summarize(results) {
  const base = results.find((s) => s.name === 'c' && !s.skipped);
  for (const s of results) {
    if (s.skipped) continue;
    const keys = [...new Set(s.runs.map((r) => `${r.tool} ${r.concurrency}`))];
    s.summary = keys.map((key) => {
      const runs = s.runs.filter((r) => `${r.tool} ${r.concurrency}` === key);
      const baseRuns = base ? base.runs.filter((r) => `${r.tool} ${r.concurrency}` === key) : [];
      const ratios = runs.map((r) => {
        const b = baseRuns.find((x) => x.round === r.round);
        return b && b.cpuUsPerReq && r.cpuUsPerReq ? r.cpuUsPerReq / b.cpuUsPerReq : null;
      });
      const cpus = runs.map((r) => r.cpuUsPerReq).filter((x) => x !== null);
      return {
        tool: runs[0].tool,
        concurrency: runs[0].concurrency,
        rounds: runs.length,
        rps: median(runs.map((r) => r.rps)),
        rpsVsC: median(runs.map((r) => {
          const b = baseRuns.find((x) => x.round === r.round);
          return b && b.rps ? r.rps / b.rps : null;
        })),
        p50Ms: median(runs.map((r) => r.p50Ms)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        cpuUsPerReq: median(cpus),
        cpuMin: cpus.length ? Math.min(...cpus) : null,
        cpuMax: cpus.length ? Math.max(...cpus) : null,
        cpuVsC: median(ratios),
        serverCpuPercent: median(runs.map((r) => r.serverCpuPercent)),
        otherCpuPercent: median(runs.map((r) => r.otherCpuPercent)),
        stealPercent: median(runs.map((r) => r.stealPercent)),
        noisyRounds: runs.filter((r) => r.noisy).length,
        requests: runs.reduce((a, r) => a + r.requests, 0),
        errorCount: runs.reduce((a, r) => a + r.errorCount, 0),
        problems: runs.some((r) => r.problems),
      };
    });
  }
}

async function main() {
  const t0 = Date.now();
  fs.mkdirSync(OUT, { recursive: true });
  ensureTools();
  if (!have('wrk') && !have('ab')) {
    console.error('bench: neither wrk nor ab is available: cannot run');
    return 1;
  }
  if (!PIN) console.error(`bench: not pinning (taskset ${have('taskset') ? 'present' : 'missing'}, ${CPUS} CPUs)`);
  console.error(
    `bench: ${QUICK ? 'quick' : 'full'} run; server on CPU ${SERVER_CPU}, load on CPU ${CLIENT_CPU}; CLK_TCK=${CLK_TCK}`,
  );
  const launched = [];
  const results = [];
  try {
    for (const server of SERVERS) {
      if (ONLY && !ONLY.includes(server.name)) continue;
      console.error(`- ${server.label}: starting and warming up`);
      const l = await launch(server);
      if (l.entry.skipped) console.error(`  skipped: ${l.entry.reason}`);
      else launched.push(l);
      results.push(l.entry);
    }
    await timedRuns(launched);
    if (have('strace') && have('ab')) {
      for (const l of launched) {
        if (!alive(l)) continue;
        await settle(l.pid);
        l.entry.strace = await straceRun(l.server, l.port, l.pid);
        if (l.entry.strace.error) console.error(`  ${l.entry.name}: ${l.entry.strace.error}`);
        else console.error(`  ${l.entry.name.padEnd(9)} strace ${fmt.n(l.entry.strace.totalPerReq, 2)} syscalls/req`);
      }
    }
  } finally {
    for (const l of launched) {
      const { code, signal } = await stop(l.child);
      l.entry.exit = { code, signal };
    }
  }
  summarize(results);
  const elapsedS = (Date.now() - t0) / 1000;
  const doc = {
    date: new Date().toISOString(),
    quick: QUICK,
    elapsedS,
    machine: {
      cpus: CPUS,
      cpuModel: os.cpus()[0]?.model,
      kernel: os.release(),
      node: process.version,
      clkTck: CLK_TCK,
      pinned: PIN,
    },
    config: CONFIG,
    servers: results,
  };
  fs.writeFileSync(path.join(OUT, 'results.json'), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(report(results));
  console.log(
    `\n${QUICK ? 'quick' : 'full'} run, ${elapsedS.toFixed(0)} s, ${CONFIG.rounds} round(s) per row; figures are medians over the rounds; ` +
      'xC = median of each round\'s ratio to the C server; results in bench/out/results.json',
  );
  if (results.some((s) => s.summary?.some((r) => r.noisyRounds > 0))) {
    console.log(
      `* processes outside the bench, or the host (steal), took more than ${NOISY_PERCENT}% of a CPU during that run: its figures are noisy`,
    );
  }
  if (results.some((s) => s.runs?.some((r) => r.problems))) {
    console.log('! see the problems listed in results.json (errors, timeouts)');
  }
  return results.some((s) => !s.skipped && s.runs?.some((r) => r.requests > 0)) ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error('bench: could not run:', err);
} finally {
  cleanupSync();
}
process.exitCode = code;
