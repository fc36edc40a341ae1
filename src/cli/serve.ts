/**
 * `etlt serve`: runs the HTTP server from the command line, with the seed's printing.
 */
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { EtltUsageError } from '../errors.js';
import { HttpServer } from '../http/server.js';
import type { HttpServerOptions, HttpServerStats } from '../http/server.js';
import { FACTS, MODES, STRATEGY_CATALOG } from '../http/trigger/catalog.js';
import type { Mode } from '../http/trigger/catalog.js';
import { BACKENDS, unsupportedBackend } from '../http/trigger/catalog.js';
import type { Backend } from '../http/trigger/catalog.js';
import { syscallsByKind } from '../trace/counters.js';
import { attachAccessLog } from './access-log.js';
import { memoryFigures, memoryLine } from './memory.js';
import { WaitTrace } from '../trace/timeline.js';
import type { CommandSpec, ParsedOptions } from './options.js';
import { choiceOption, flagOption, integerOption, onOffOption, secondsOption, stringOption } from './options.js';
import type { Printer } from './printer.js';
import type { Balance } from '../cluster/balance.js';
import { WORKER_OPTIONS, serveWorkers, workerArgs } from './serve-workers.js';
import { stopRequested } from './stop-signals.js';

const others = (family: string) =>
  STRATEGY_CATALOG.filter((s) => s.family === family)
    .map((s) => s.name)
    .join(', ');

/** `etlt serve`'s options: its parser and its help both come from this table. */
export const SERVE: CommandSpec = {
  name: 'serve',
  summary: 'serve the seed\'s "Hello, world!" over HTTP/1.1 and 1.0 (default 0.0.0.0:8080, edge-triggered)',
  options: [
    {
      name: 'mode',
      value: 'MODE',
      help:
        "et (edge-triggered, default) or lt (level-triggered); also the lab's\n" +
        `${others('seed')} (the seed's own loops, flaws included: not for traffic)\n` +
        `and ${others('pitfall')} (deliberate pitfalls)`,
    },
    {
      name: 'backend',
      value: 'NAME',
      help:
        'epoll (default), poll or select: poll(2) and select(2) are level-triggered\n' +
        '(--mode lt) and scan every fd on every wait; select serves fds below 1024 only',
    },
    {
      name: 'host',
      value: 'ADDR',
      help: 'address to bind (default 0.0.0.0; numeric IPv4/IPv6, [::1] or localhost;\na link-local IPv6 address with its interface: fe80::1%eth0)',
    },
    { name: 'port', short: 'p', value: 'N', help: 'port (default 8080; 0 picks a free one)' },
    { name: 'backlog', value: 'N', help: 'listen backlog (default 4096)' },
    { name: 'quiet', short: 'q', help: 'do not print each request' },
    { name: 'body', value: 'FILE', help: 'serve FILE\'s bytes instead of "Hello, world!"' },
    {
      name: 'root',
      value: 'DIR',
      help: 'serve the files under DIR instead (GET and HEAD, ranges, conditional\nrequests; sent with sendfile(2))',
    },
    {
      name: 'index',
      value: 'FILE',
      help: "with --root: what a directory request gets (default index.html; '' for none)",
    },
    { name: 'dotfiles', value: 'deny|allow', help: "with --root: serve names starting with '.' (default deny: 404)" },
    { name: 'follow-symlinks', help: 'with --root: let symlinks lead outside DIR (default: such files are 404)' },
    {
      name: 'max-head',
      value: 'BYTES',
      help: 'longest request head (default 8192; longer gets 431, a longer request line 414)',
    },
    { name: 'max-body', value: 'BYTES', help: 'largest request body (default 1048576; larger gets 413)' },
    {
      name: 'max-requests',
      value: 'N',
      help: 'requests per connection (default 1000); the last response says\nConnection: close',
    },
    {
      name: 'keepalive-timeout',
      value: 'SECONDS',
      help: 'close a kept-alive connection idle this long between requests (default 5)',
    },
    {
      name: 'input-budget',
      value: 'BYTES',
      help: 'most bytes all partial requests may hold together (default 67108864);\nover it, the connections with the oldest partial heads are closed',
    },
    {
      name: 'idle-timeout',
      value: 'SECONDS',
      help: 'close connections that make no progress this long (default 5); a request\nhead must arrive in full within this time of its first byte',
    },
    { name: 'close-timeout', value: 'SECONDS', help: 'on SIGINT/SIGTERM, time for responses in flight (default 5)' },
    {
      name: 'hold',
      value: 'MS',
      help: "after a wake-up, keep waiting on the server's own epoll set up to\nMS ms while events keep coming (default 0: back to Node each batch)",
    },
    { name: 'eager-read', value: 'on|off', help: 'recv right after accept, before registering (default on)' },
    {
      name: 'defer-accept',
      value: 'on|off',
      help: 'accept a connection only once its request has begun to arrive\n(TCP_DEFER_ACCEPT; default on, used when --idle-timeout >= 1)',
    },
    { name: 'stats-json', value: 'FILE', help: 'on exit, write the counters (and the trace) to FILE as JSON' },
    {
      name: 'access-log',
      value: 'FILE|-',
      help: 'append a line per response to FILE (- for standard output),\nin the common log format',
    },
    {
      name: 'stop-on-stdin-eof',
      help: 'stop as on SIGTERM when standard input ends: a supervisor that holds\nthe other end of a pipe (the lab does) never leaves this server behind',
    },
    {
      name: 'trace',
      value: 'N',
      help: 'record the first N epoll_wait returns that had events, and\nwhat each of the first N connections cost (into --stats-json)',
    },
    ...WORKER_OPTIONS,
  ],
  notes: [
    'Signals: SIGINT/SIGTERM stop gracefully (a second one cuts off at once) and print the',
    'counters; SIGUSR1 prints them and the memory (RSS, V8 heap); with --workers, per worker and in total.',
  ],
};

/** Options `etlt serve` takes, checked. */
export interface ServeArgs {
  mode: Mode;
  backend: Backend;
  host: string;
  port: number;
  backlog: number;
  quiet: boolean;
  body: string | undefined;
  root: string | undefined;
  index: string;
  dotfiles: 'deny' | 'allow';
  followSymlinks: boolean;
  maxHead: number;
  maxBody: number;
  maxRequests: number;
  keepAliveTimeoutMs: number;
  inputBudget: number;
  idleTimeoutMs: number;
  closeTimeoutMs: number;
  holdMs: number;
  eagerRead: boolean;
  deferAccept: boolean;
  statsJson: string | undefined;
  accessLog: string | undefined;
  trace: number;
  stopOnStdinEof: boolean;
  /** Worker processes (1: this process serves, as always). */
  workers: number;
  balance: Balance;
}

/** Checks `serve`'s parsed options; an EtltUsageError names the first bad one. */
export function serveArgs(v: ParsedOptions): ServeArgs {
  const mode = choiceOption(v, 'mode', 'et', MODES);
  const backend = choiceOption(v, 'backend', 'epoll', BACKENDS);
  const unsupported = unsupportedBackend(mode, backend);
  if (unsupported !== undefined) throw new EtltUsageError(`--mode ${mode} --backend ${backend}: ${unsupported}`);
  const workers = workerArgs(v);
  if (workers.workers > 1 && workers.balance === 'exclusive' && backend !== 'epoll')
    throw new EtltUsageError(
      `--balance exclusive --backend ${backend}: EPOLLEXCLUSIVE exists only in epoll(7); use --balance shared or reuseport`,
    );
  const root = stringOption(v, 'root');
  // Checked here, before any worker starts: a pool of workers failing one by one says less.
  const notDirectory = root === undefined ? undefined : whyNotDirectory(root);
  if (notDirectory !== undefined) throw new EtltUsageError(`--root ${root}: ${notDirectory}`);
  return {
    mode,
    backend,
    host: stringOption(v, 'host') ?? '0.0.0.0',
    port: integerOption(v, 'port', 8080, 0, 65535),
    backlog: integerOption(v, 'backlog', 4096, 1, 1 << 30),
    quiet: flagOption(v, 'quiet'),
    body: stringOption(v, 'body'),
    root,
    index: typeof v['index'] === 'string' ? v['index'] : 'index.html',
    dotfiles: choiceOption(v, 'dotfiles', 'deny', ['deny', 'allow'] as const),
    followSymlinks: flagOption(v, 'follow-symlinks'),
    maxHead: integerOption(v, 'max-head', 8192, 16, 1 << 20),
    maxBody: integerOption(v, 'max-body', 1 << 20, 0, 2 ** 40),
    maxRequests: integerOption(v, 'max-requests', 1000, 1, 0x7fffffff),
    keepAliveTimeoutMs: secondsOption(v, 'keepalive-timeout', 5, 0.001, 86400),
    inputBudget: integerOption(v, 'input-budget', 64 << 20, 1 << 16, 2 ** 40),
    idleTimeoutMs: secondsOption(v, 'idle-timeout', 5, 0.001, 86400),
    closeTimeoutMs: secondsOption(v, 'close-timeout', 5, 0, 86400),
    holdMs: integerOption(v, 'hold', 0, 0, 1000),
    eagerRead: onOffOption(v, 'eager-read', true),
    deferAccept: onOffOption(v, 'defer-accept', true),
    statsJson: stringOption(v, 'stats-json'),
    accessLog: stringOption(v, 'access-log'),
    trace: integerOption(v, 'trace', 0, 0, 100000),
    stopOnStdinEof: flagOption(v, 'stop-on-stdin-eof'),
    ...workers,
  };
}

function whyNotDirectory(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? undefined : 'not a directory';
  } catch (e) {
    return (e as Error).message;
  }
}

const DASHES = '-'.repeat(40);

/**
 * Control characters other than tab, CR and LF (C0, DEL and C1): a client's bytes must not
 * drive the terminal (ESC sequences can retitle it, move the cursor, rewrite earlier lines).
 * The head scanner refuses C0 in the head, but bytes past the head are printed too, and
 * UTF-8 in the head can decode to C1 (U+009B is CSI).
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

/** Shows a control character as \xNN. */
function escapeControl(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** The seed's print of a request: 40 dashes, then the request decoded, minus its last two characters. */
export function requestLines(request: Buffer): string {
  return DASHES + '\n' + request.toString('utf8').slice(0, -2).replace(CONTROLS, escapeControl);
}

/** A few lines summarising a server's counters, for exit and SIGUSR1. */
export function formatStats(s: HttpServerStats): string {
  const per = (n: number) => (s.requests > 0 ? (n / s.requests).toFixed(2) : '-');
  const sys = syscallsByKind(s);
  const total = Object.values(sys).reduce((a, b) => a + b, 0);
  return [
    `etlt: mode=${s.mode} connections=${s.connections} open=${s.open} requests=${s.requests} responses=${s.responses} ` +
      `aborted=${s.aborted} rejected=${s.rejected} timed-out=${s.timedOut} cut-off=${s.cutOff} shed=${s.shed} ` +
      `keepalive-timeouts=${s.keepAliveTimeouts} heads-shed=${s.headsShed} handler-errors=${s.handlerErrors}` +
      (s.backend === 'epoll' ? '' : ` backend=${s.backend} over-fd-limit=${s.overFdLimit}`),
    `etlt: epoll_wait=${sys.epoll_wait} (wake-ups ${s.wakeups}, idle ${s.idleWaits}, re-polls ${s.repolls} of which empty ${s.emptyRepolls}, ` +
      `events/wait ${s.epollWait ? (s.events / s.epollWait).toFixed(2) : '-'}; idle-timer turns ${s.timerTurns} apart) ` +
      `epoll_ctl add=${s.ctlAdd} mod=${s.ctlMod} del=${s.ctlDel}`,
    `etlt: accept=${s.accept} (EAGAIN ${s.acceptAgain}) recv=${s.recv} (EAGAIN ${s.recvAgain}) send=${s.send} (EAGAIN ${s.sendAgain}) ` +
      `bytes in=${s.bytesIn} out=${s.bytesOut}`,
    `etlt: per request: syscalls=${per(total)} epoll_wait=${per(sys.epoll_wait!)} epoll_ctl=${per(sys.epoll_ctl!)}`,
  ].join('\n');
}

/** The start line: where, which trigger, and for the seed's and the pitfall strategies, a warning. */
export function startLine(
  host: string,
  port: number,
  mode: Mode,
  root: string | undefined,
  backend: Backend,
  workers = '',
): string {
  const facts = FACTS[mode];
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  const warning =
    facts.family === 'seed'
      ? ": the seed's own loop, flaws included; not for traffic"
      : facts.family === 'pitfall'
        ? ': a deliberate pitfall; not for traffic'
        : '';
  const what = root === undefined ? '' : ` the files of ${root}`;
  const on = backend === 'epoll' ? '' : `, backend ${backend}`;
  return `etlt: serving${what} on ${url} (${facts.trigger}-triggered, mode ${mode}${on}${workers}${warning})`;
}

/** Opens an output file now, so a bad path fails before serving, not at exit. */
export function openOutput(path: string, option: string): number {
  try {
    return openSync(path, 'w');
  } catch (e) {
    throw new EtltUsageError(`--${option} ${path}: ${(e as Error).message}`);
  }
}

/** Starts the server; resolves with the exit code once it has stopped on SIGINT/SIGTERM. */
export async function serve(
  args: ServeArgs,
  out: Printer,
  err: Printer,
  usr1: { handler: () => void },
): Promise<number> {
  const statsFd = args.statsJson === undefined ? -1 : openOutput(args.statsJson, 'stats-json');
  try {
    return await run(args, out, err, statsFd, usr1);
  } finally {
    if (statsFd >= 0) closeSync(statsFd);
  }
}

/** The server's options from the command line (the body read, request printing aside). */
export function serverOptions(args: ServeArgs): HttpServerOptions {
  const options: HttpServerOptions = {
    mode: args.mode,
    backend: args.backend,
    host: args.host,
    port: args.port,
    backlog: args.backlog,
    maxHeadBytes: args.maxHead,
    maxBodyBytes: args.maxBody,
    maxRequests: args.maxRequests,
    keepAliveTimeoutMs: args.keepAliveTimeoutMs,
    inputBudgetBytes: args.inputBudget,
    idleTimeoutMs: args.idleTimeoutMs,
    holdMs: args.holdMs,
    eagerRead: args.eagerRead,
    deferAccept: args.deferAccept,
    traceConnections: args.trace,
  };
  if (args.root !== undefined) {
    if (args.body !== undefined) throw new EtltUsageError('--root and --body cannot be used together');
    options.root = args.root;
    options.index = args.index;
    options.dotfiles = args.dotfiles;
    options.followSymlinks = args.followSymlinks;
  }
  if (args.body !== undefined) {
    try {
      options.body = readFileSync(args.body);
    } catch (e) {
      throw new EtltUsageError(`--body ${args.body}: ${(e as Error).message}`);
    }
  }
  return options;
}

async function run(
  args: ServeArgs,
  out: Printer,
  err: Printer,
  statsFd: number,
  usr1: { handler: () => void },
): Promise<number> {
  const options = serverOptions(args);
  if (args.workers > 1 && args.accessLog !== undefined)
    throw new EtltUsageError('--access-log with --workers: not yet (each worker would need its own log)');
  if (args.workers > 1) return serveWorkers(args, options, { out, err, statsFd, usr1, formatStats, startLine });
  if (!args.quiet) options.onRequest = (request) => out.line(requestLines(request));
  const server = new HttpServer(options);
  server.on('error', (e: Error) => err.line(`etlt: ${e.message}`));
  const endLog = args.accessLog === undefined ? undefined : attachAccessLog(server, args.accessLog);
  const trace = args.trace > 0 ? new WaitTrace(args.trace) : undefined;
  if (trace) server.setRecorder(trace.record);
  // Signal handlers go in before the start line: whoever reads that line may signal at once.
  const signals = stopRequested(args.stopOnStdinEof);
  usr1.handler = () => err.line(`${formatStats(server.stats())}\n${memoryLine()}`);
  const { host, port } = server.listen();
  out.line(startLine(host, port, args.mode, server.root, args.backend));
  const first = await signals;
  let forced = false;
  const again = (signal: string) => {
    // Cut off the responses still in flight: until they are gone the loop stays alive.
    err.line(`etlt: ${signal} again: exiting now`);
    forced = true;
    void server.close(0);
  };
  process.on('SIGINT', again);
  process.on('SIGTERM', again);
  err.line(`etlt: ${first}: no longer accepting; finishing responses in flight (up to ${args.closeTimeoutMs} ms)`);
  const code = await server.close(args.closeTimeoutMs).then(
    () => (forced ? 130 : 0),
    () => 1,
  );
  usr1.handler = () => {};
  await endLog?.();
  if (args.stopOnStdinEof) process.stdin.destroy();
  const stats = server.stats();
  err.line(formatStats(stats));
  if (statsFd >= 0) {
    const json = JSON.stringify({
      stats,
      cpu: process.cpuUsage(),
      timeline: trace?.waits ?? [],
      connections: server.connectionRecords(),
      memory: memoryFigures(),
    });
    writeSync(statsFd, json);
  }
  if (out.dropped > 0) err.line(`etlt: ${out.dropped} request lines were dropped: stdout was too slow`);
  return code;
}
