/**
 * `etlt serve`: runs the HTTP server from the command line, with the seed's printing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { WaitTrace } from '../trace/timeline.js';
import { EPOLLET } from '../constants.js';
import { HttpServer } from '../http/server.js';
import type { HttpServerOptions, HttpServerStats } from '../http/server.js';
import { syscallsByKind } from '../trace/counters.js';
import { Printer } from './printer.js';

/** Options `etlt serve` takes. */
export interface ServeArgs {
  mode: string;
  host: string;
  port: number;
  backlog: number;
  quiet: boolean;
  body: string | undefined;
  maxHead: number;
  idleTimeout: number;
  closeTimeout: number;
  holdMs: number;
  eagerRead: boolean;
  deferAccept: boolean;
  statsJson: string | undefined;
  trace: number;
}

const DASHES = '-'.repeat(40);

/**
 * Control characters other than tab, CR and LF (C0, DEL and C1): a client's bytes must not
 * drive the terminal (ESC sequences can retitle it, move the cursor, rewrite earlier lines).
 * The head scanner refuses C0 in the head, but bytes past the head are printed too, and
 * UTF-8 in the head can decode to C1 (U+009B is CSI).
 */
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

/** Shows a control character as \xNN. */
function escapeControl(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** A few lines summarising a server's counters, for exit and SIGUSR1. */
export function formatStats(s: HttpServerStats): string {
  const per = (n: number) => (s.requests > 0 ? (n / s.requests).toFixed(2) : '-');
  const sys = syscallsByKind(s);
  const total = Object.values(sys).reduce((a, b) => a + b, 0);
  return [
    `etlt: mode=${s.mode} connections=${s.connections} open=${s.open} requests=${s.requests} responses=${s.responses} ` +
      `aborted=${s.aborted} rejected=${s.rejected} timed-out=${s.timedOut} cut-off=${s.cutOff} shed=${s.shed}`,
    `etlt: epoll_wait=${sys.epoll_wait} (wake-ups ${s.wakeups}, idle ${s.idleWaits}, re-polls ${s.repolls} of which empty ${s.emptyRepolls}, ` +
      `events/wait ${s.epollWait ? (s.events / s.epollWait).toFixed(2) : '-'}) ` +
      `epoll_ctl add=${s.ctlAdd} mod=${s.ctlMod} del=${s.ctlDel}`,
    `etlt: accept=${s.accept} (EAGAIN ${s.acceptAgain}) recv=${s.recv} (EAGAIN ${s.recvAgain}) send=${s.send} (EAGAIN ${s.sendAgain}) ` +
      `bytes in=${s.bytesIn} out=${s.bytesOut}`,
    `etlt: per request: syscalls=${per(total)} epoll_wait=${per(sys.epoll_wait!)} epoll_ctl=${per(sys.epoll_ctl!)}`,
  ].join('\n');
}

/** Starts the server; resolves with the exit code once it has stopped on SIGINT/SIGTERM. */
export async function serve(args: ServeArgs, out: Printer, err: Printer): Promise<number> {
  const options: HttpServerOptions = {
    mode: args.mode,
    host: args.host,
    port: args.port,
    backlog: args.backlog,
    maxHeadBytes: args.maxHead,
    idleTimeout: args.idleTimeout,
    holdMs: args.holdMs,
    eagerRead: args.eagerRead,
    deferAccept: args.deferAccept,
    traceConnections: args.trace,
  };
  if (args.body !== undefined) options.body = readFileSync(args.body);
  if (!args.quiet) {
    // The seed prints 40 dashes, then the request decoded, minus its last two characters.
    options.onRequest = (request) => out.line(DASHES + '\n' + request.toString('utf8').slice(0, -2).replace(CONTROLS, escapeControl));
  }
  const server = new HttpServer(options);
  server.on('error', (e: Error) => err.line(`etlt: ${e.message}`));
  const trace = args.trace > 0 ? new WaitTrace(args.trace) : undefined;
  if (trace) server.setRecorder(trace.record);
  const onUsr1 = () => err.line(formatStats(server.stats()));
  // Signal handlers go in before the start line: whoever reads that line may signal at once.
  const signals = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.on('SIGUSR1', onUsr1);
  const { host, port } = server.listen();
  out.line(`etlt: serving on http://${host.includes(':') ? `[${host}]` : host}:${port}/ (${(server.strategy.connectionMask & EPOLLET) !== 0 ? 'edge' : 'level'}-triggered, mode ${args.mode})`);
  const first = await signals;
  let forced = false;
  const again = (signal: NodeJS.Signals) => {
    // Cut off the responses still in flight: until they are gone the loop stays alive.
    err.line(`etlt: ${signal} again: exiting now`);
    forced = true;
    void server.close(0);
  };
  process.on('SIGINT', again);
  process.on('SIGTERM', again);
  err.line(`etlt: ${first}: no longer accepting; finishing responses in flight (up to ${args.closeTimeout} ms)`);
  const code = await server.close(args.closeTimeout).then(() => (forced ? 130 : 0), () => 1);
  process.removeListener('SIGUSR1', onUsr1);
  const stats = server.stats();
  err.line(formatStats(stats));
  if (args.statsJson !== undefined) {
    writeFileSync(args.statsJson, JSON.stringify({ stats, cpu: process.cpuUsage(), timeline: trace?.waits ?? [], connections: server.connectionRecords() }));
  }
  if (out.dropped > 0) err.line(`etlt: ${out.dropped} request lines were dropped: stdout was too slow`);
  return code;
}
