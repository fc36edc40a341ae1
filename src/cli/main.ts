#!/usr/bin/env node
/**
 * The `etlt` command. The only code that reads process.argv, writes to the terminal and
 * sets the exit code.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Printer } from './printer.js';
import { LAB_STRATEGIES } from '../http/trigger/index.js';
import { lab } from './lab.js';
import { serve } from './serve.js';

const HELP = `etlt: Linux epoll, edge- and level-triggered, from TypeScript

Usage:
  etlt serve [options]     serve the seed's HTTP/1.0 "Hello, world!" (default 0.0.0.0:8080, ET)
  etlt lab [options]       measure what ET and LT cost, and show their pitfalls, on this machine
  etlt --help | --version

serve options:
  --mode et|lt             trigger mode: edge (default) or level; the lab's strategies
                           (seed-lt, seed-et, et-no-drain, lt-always-out) are accepted too
  --host ADDR              address to bind (default 0.0.0.0; numeric IPv4/IPv6 or localhost)
  --port N                 port (default 8080; 0 picks a free one)
  --backlog N              listen backlog (default 4096)
  --quiet                  do not print each request
  --body FILE              serve FILE's bytes instead of "Hello, world!"
  --max-head BYTES         longest request head (default 8192; longer gets 431)
  --idle-timeout SECONDS   close connections idle this long (default 5); a request head
                           must arrive in full within this time of connecting
  --close-timeout SECONDS  on SIGINT/SIGTERM, time for responses in flight (default 5)
  --hold MS                after a wake-up, keep waiting on the server's own epoll set up to
                           MS ms while events keep coming (default 0: back to Node each batch)
  --eager-read on|off      recv right after accept, before registering (default on)
  --defer-accept on|off    accept a connection only once its request has begun to arrive
                           (TCP_DEFER_ACCEPT; default on, used when --idle-timeout >= 1)
  --stats-json FILE        on exit, write the counters (and the trace) to FILE as JSON
  --trace N                record the first N epoll_wait returns that had events, and
                           what each of the first N connections cost (into --stats-json)

lab options:
  --quick                  a short run (about a minute) instead of the full one
  --strategies a,b         seed-lt, seed-et, lt, et, et-no-drain, lt-always-out (default: all)
  --workloads a,b          sequential, concurrent, split, big-head, slow-reader (default: all)
  --json FILE|-            write the report as JSON
  --out FILE.html          write a self-contained HTML report with charts and timelines

Signals: SIGINT/SIGTERM stop gracefully and print the counters; SIGUSR1 prints them.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

class UsageError extends Error {}

/** How long, at exit, output may take to reach a slow reader before it is given up. */
const EXIT_DRAIN_MS = 2000;

/** A number option; `integer`: decimal digits only (not '1.5', '0x10', '1e3' or ' 80'). */
function num(value: string | undefined, name: string, fallback: number, min: number, max: number, integer = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const bad = integer ? !/^[0-9]+$/.test(value) : value.trim() === '';
  if (bad || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got '${value}')`);
  }
  return n;
}

function onOff(value: string | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new UsageError(`--${name} must be 'on' or 'off' (got '${value}')`);
}

async function main(argv: string[]): Promise<number> {
  const out = new Printer(1);
  const err = new Printer(2);
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        mode: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        backlog: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        body: { type: 'string' },
        'max-head': { type: 'string' },
        'idle-timeout': { type: 'string' },
        'close-timeout': { type: 'string' },
        hold: { type: 'string' },
        'eager-read': { type: 'string' },
        'defer-accept': { type: 'string' },
        'stats-json': { type: 'string' },
        trace: { type: 'string' },
        quick: { type: 'boolean' },
        json: { type: 'string' },
        out: { type: 'string' },
        strategies: { type: 'string' },
        workloads: { type: 'string' },
      },
    });
    const command = positionals[0];
    if (values.version) {
      out.line(version());
      return 0;
    }
    if (values.help || command === undefined || command === 'help') {
      out.line(HELP);
      return values.help || command === 'help' ? 0 : 2;
    }
    if (command !== 'serve' && command !== 'lab') throw new UsageError(`unknown command '${command}'`);
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    if (command === 'lab') {
      const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean));
      return await lab(
        { quick: values.quick ?? false, json: values.json, out: values.out, strategies: list(values.strategies), workloads: list(values.workloads) },
        out,
        err,
        process.stderr.isTTY === true,
      );
    }
    const mode = values.mode ?? 'et';
    if (!Object.hasOwn(LAB_STRATEGIES, mode)) {
      throw new UsageError(`--mode must be 'et' or 'lt' (or a lab strategy: ${Object.keys(LAB_STRATEGIES).join(', ')}); got '${mode}'`);
    }
    return await serve(
      {
        mode,
        host: values.host ?? '0.0.0.0',
        port: num(values.port, 'port', 8080, 0, 65535, true),
        backlog: num(values.backlog, 'backlog', 4096, 1, 1 << 30, true),
        quiet: values.quiet ?? false,
        body: values.body,
        maxHead: num(values['max-head'], 'max-head', 8192, 16, 1 << 20, true),
        idleTimeout: Math.round(num(values['idle-timeout'], 'idle-timeout', 5, 0.001, 86400) * 1000),
        closeTimeout: Math.round(num(values['close-timeout'], 'close-timeout', 5, 0, 86400) * 1000),
        holdMs: num(values.hold, 'hold', 0, 0, 1000, true),
        eagerRead: onOff(values['eager-read'], 'eager-read', true),
        deferAccept: onOff(values['defer-accept'], 'defer-accept', true),
        statsJson: values['stats-json'],
        trace: num(values.trace, 'trace', 0, 0, 100000, true),
      },
      out,
      err,
    );
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    if (e instanceof UsageError || error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      err.line(`etlt: ${error.message}\nRun 'etlt --help' for usage.`);
      return 2;
    }
    err.line(`etlt: ${error.message}`);
    return 1;
  } finally {
    // Bounded: with a reader that never reads, waiting for the output would never end.
    await Promise.all([out.drain(EXIT_DRAIN_MS), err.drain(EXIT_DRAIN_MS)]);
    out.release();
    err.release();
  }
}

process.exitCode = await main(process.argv.slice(2));
