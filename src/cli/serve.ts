/**
 * `etlt serve`: runs the HTTP server (or a pool of worker processes) from the command line,
 * with the seed's printing. Its flags come from two option tables, HttpServer's and
 * WorkerPool's, plus the few that are the command's own; it passes on only what the user
 * gave, so the classes' defaults are the only defaults.
 */
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { encodeAddress } from '../address.js';
import { WORKER_POOL_OPTIONS, MAX_WORKERS } from '../cluster/options.js';
import type { WorkerPoolOptions } from '../cluster/options.js';
import { EtltAddressError, EtltAppError, EtltUsageError } from '../errors.js';
import { loadApp } from '../http/app.js';
import { familyOf } from '../http/bind.js';
import { HTTP_SERVER_OPTIONS, resolveServerOptions } from '../http/options.js';
import type { HttpServerOptions } from '../http/options.js';
import { STRATEGY_CATALOG, unsupportedBackend } from '../http/trigger/catalog.js';
import type { CommandSpec, ParsedOptions } from './options.js';
import { flagOption, integerOption, stringOption, tableFlags, tableValues } from './options.js';
import type { Printer } from './printer.js';
import { serveOne, servePool } from './served.js';
import { LISTENER_OPTIONS, listenerArgs } from './serve-listener.js';
import { asUsage } from './usage.js';
import { openAccessLog } from './access-log.js';

const others = (family: string) =>
  STRATEGY_CATALOG.filter((s) => s.family === family)
    .map((s) => s.name)
    .join(', ');

/** The exit-code rule, in `--help` and the README. */
export const EXIT_CODES = [
  'Exit codes: 0 stopped by SIGINT/SIGTERM (or the end of stdin) after finishing; 130 cut off by',
  'a second signal; 2 the command line is wrong (an unknown option, a malformed or out-of-range',
  'value, options that cannot go together); 1 it could not run (a file or directory missing or',
  'unreadable, an address in use or not on this machine, an app or a worker that could not start).',
];

/** `etlt serve`'s options: its parser and its help both come from this table. */
export const SERVE: CommandSpec = {
  name: 'serve',
  summary: 'serve the seed\'s "Hello, world!" over HTTP/1.1 and 1.0 (default 0.0.0.0:8080, edge-triggered)',
  options: [
    ...tableFlags(HTTP_SERVER_OPTIONS).map((o) =>
      o.name === 'mode'
        ? {
            ...o,
            help:
              `${o.help}\n${others('seed')} (the seed's own loops, flaws included: not for traffic)\n` +
              `and ${others('pitfall')} (deliberate pitfalls)`,
          }
        : o.name === 'host'
          ? {
              ...o,
              help:
                `${o.help};\nunix:PATH for a Unix domain socket (a stale file from a crashed run is\n` +
                "replaced, a live server's is not; removed on exit)",
            }
          : o,
    ),
    ...LISTENER_OPTIONS,
    { name: 'quiet', short: 'q', help: 'do not print each request' },
    { name: 'body', value: 'FILE', help: 'serve FILE\'s bytes instead of "Hello, world!"' },
    {
      name: 'stats-json',
      value: 'FILE',
      help: 'on exit, write the counters (and the trace) to FILE as JSON;\nwithout --workers, SIGUSR1 writes the counters so far to it too',
    },
    {
      name: 'access-log',
      value: 'FILE|-',
      help: 'append a line per response to FILE (- for standard output),\nin the common log format; with --workers, each worker sends its lines\nto this process, the one writer of the log',
    },
    {
      name: 'stop-on-stdin-eof',
      help: 'stop as on SIGTERM when standard input ends: a supervisor that holds\nthe other end of a pipe (the lab does) never leaves this server behind',
    },
    {
      name: 'trace',
      value: 'N',
      help: 'record the first N waits of the backend that returned events (epoll_wait,\npoll or select), and what each of the first N connections cost\n(into --stats-json; --workers 1 only)',
    },
    ...tableFlags(WORKER_POOL_OPTIONS),
  ],
  notes: [
    'Times on the command line are in seconds; the library takes milliseconds.',
    'Signals: SIGINT/SIGTERM stop gracefully (a second one cuts off at once) and print the',
    'counters; SIGUSR1 prints them and the memory (RSS, V8 heap); with --workers, per worker and in total.',
    ...EXIT_CODES,
  ],
};

/** `serve`'s command line, checked: what the user gave each class, and the command's own options. */
export interface ServeArgs {
  /** The HttpServer options given (no defaults filled in). */
  server: HttpServerOptions;
  /** The WorkerPool options given, `workers` always (1: this process serves). */
  pool: WorkerPoolOptions;
  quiet: boolean;
  body: string | undefined;
  statsJson: string | undefined;
  accessLog: string | undefined;
  trace: number;
  stopOnStdinEof: boolean;
  /** Said on stderr at start: systemd sockets meant for another process. */
  listenerNote: string | undefined;
}

/** Checks `serve`'s parsed options; an EtltUsageError names the first bad one. */
export function serveArgs(v: ParsedOptions): ServeArgs {
  const workersAuto = v['workers'] === 'auto';
  const listener = listenerArgs(v);
  // --host unix:PATH and --fd (or systemd's socket) replace the TCP address.
  const tcp = listener.fd === undefined && listener.path === undefined;
  const server = tableValues(HTTP_SERVER_OPTIONS, tcp ? v : { ...v, host: undefined, port: undefined });
  const pool = tableValues(WORKER_POOL_OPTIONS, workersAuto ? { ...v, workers: undefined } : v);
  const workers = workersAuto ? Math.min(MAX_WORKERS, availableParallelism()) : (pool.workers ?? 1);
  if (listener.path !== undefined) {
    server.path = listener.path;
    if (listener.socketMode !== undefined) server.socketMode = listener.socketMode;
  }
  // Workers share one listener: the pool adopts an inherited one and lends it to each.
  if (listener.fd !== undefined) {
    if (workers > 1) pool.fd = listener.fd;
    else server.fd = listener.fd;
  }
  const resolved = asUsage(() => resolveServerOptions(server));
  const unsupported = unsupportedBackend(resolved.mode, resolved.backend);
  if (unsupported !== undefined)
    throw new EtltUsageError(`--mode ${resolved.mode} --backend ${resolved.backend}: ${unsupported}`);
  if (tcp) checkHost(resolved.host);
  if (workers > 1 && !tcp) {
    const what =
      listener.fd === undefined ? `--host unix:${listener.path}` : `an inherited listener (fd ${listener.fd})`;
    if (pool.balance === undefined) pool.balance = resolved.backend === 'epoll' ? 'exclusive' : 'shared';
    else if (pool.balance === 'reuseport')
      throw new EtltUsageError(
        `--balance reuseport: with ${what} the workers share one listener; use exclusive or shared`,
      );
  }
  const trace = integerOption(v, 'trace', 0, 0, HTTP_SERVER_OPTIONS.traceConnections.max!);
  if (workers > 1 && v['trace'] !== undefined)
    throw new EtltUsageError('--trace records one event loop: it needs --workers 1');
  if (workers > 1 && pool.balance === 'exclusive' && resolved.backend !== 'epoll')
    throw new EtltUsageError(
      `--balance exclusive --backend ${resolved.backend}: EPOLLEXCLUSIVE exists only in epoll(7); use --balance shared or reuseport`,
    );
  const body = stringOption(v, 'body');
  if (server.root !== undefined && body !== undefined)
    throw new EtltUsageError('--root and --body cannot be used together');
  if (body !== undefined && pool.app !== undefined)
    throw new EtltUsageError('--body and --app cannot be used together');
  // Checked here, before any worker starts: a pool of workers failing one by one says less.
  if (server.root !== undefined) checkDirectory(server.root);
  if (trace > 0) server.traceConnections = trace;
  return {
    server,
    pool: { ...pool, workers },
    quiet: flagOption(v, 'quiet'),
    body,
    statsJson: stringOption(v, 'stats-json'),
    accessLog: stringOption(v, 'access-log'),
    trace,
    stopOnStdinEof: flagOption(v, 'stop-on-stdin-eof'),
    listenerNote: listener.listenerNote,
  };
}

/** A host that is no numeric address is a usage error (exit 2) that names `--host`. */
function checkHost(host: string): void {
  try {
    encodeAddress(familyOf(host), [host, 0]);
  } catch (e) {
    if (!(e instanceof EtltAddressError)) throw e;
    // A zone naming no interface of this machine is the machine's fact, not a malformed address.
    if (/network interface/.test(e.message)) throw new Error(`--host ${host}: ${e.message}`);
    throw new EtltUsageError(`--host ${host}: ${e.message}`);
  }
}

/** A root that is missing, not a directory or unreadable: the command cannot run (exit 1). */
function checkDirectory(path: string): void {
  let problem: string | undefined;
  try {
    if (!statSync(path).isDirectory()) problem = 'not a directory';
    else accessSync(path, fsConstants.R_OK | fsConstants.X_OK);
  } catch (e) {
    problem = (e as Error).message;
  }
  if (problem !== undefined) throw new Error(`--root ${path}: ${problem}`);
}

/** Opens an output file now, so a bad path fails before serving, not at exit (exit 1). */
export function openOutput(path: string, option: string): number {
  try {
    return openSync(path, 'w');
  } catch (e) {
    throw new Error(`--${option} ${path}: ${(e as Error).message}`);
  }
}

/** Reads `--body FILE` (exit 1 when it cannot be read). */
function readBody(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`--body ${path}: ${(e as Error).message}`);
  }
}

/** Starts the server or the pool; resolves with the exit code once it has stopped on SIGINT/SIGTERM. */
export async function serve(
  args: ServeArgs,
  out: Printer,
  err: Printer,
  usr1: { handler: () => void },
): Promise<number> {
  const server: HttpServerOptions = { ...args.server };
  if (args.body !== undefined) server.body = readBody(args.body);
  const statsFd = args.statsJson === undefined ? -1 : openOutput(args.statsJson, 'stats-json');
  if (args.listenerNote !== undefined) err.line(`etlt: ${args.listenerNote}`);
  try {
    const closeTimeoutMs = args.pool.closeTimeoutMs ?? WORKER_POOL_OPTIONS.closeTimeoutMs.default;
    const io = {
      out,
      err,
      statsFd,
      statsPath: args.statsJson,
      usr1,
      closeTimeoutMs: closeTimeoutMs as number,
      stopOnStdinEof: args.stopOnStdinEof,
      accessLogOnStdout: args.accessLog === '-',
    };
    const accessLog =
      args.accessLog === undefined ? undefined : openAccessLog(args.accessLog, out, (line) => err.line(line));
    if (args.pool.workers > 1) return await servePool({ ...args.pool, server }, { quiet: args.quiet, accessLog }, io);
    if (args.pool.app !== undefined) Object.assign(server, await loadApp(args.pool.app));
    return await serveOne(server, { quiet: args.quiet, trace: args.trace, accessLog }, io);
  } catch (e) {
    // The library says `app PATH: ...`; the command line's option is --app.
    if (e instanceof EtltAppError) e.message = `--${e.message}`;
    throw e;
  } finally {
    if (statsFd >= 0) closeSync(statsFd);
  }
}
