#!/usr/bin/env node
/**
 * The `etlt` command. The only code that reads process.argv, writes to the terminal and
 * sets the exit code.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Printer } from './printer.js';
import { serve } from './serve.js';

const HELP = `etlt: Linux epoll, edge- and level-triggered, from TypeScript

Usage:
  etlt serve [options]     serve the seed's HTTP/1.0 "Hello, world!" (default 0.0.0.0:8080, ET)
  etlt --help | --version

serve options:
  --mode et|lt             trigger mode: edge (default) or level
  --host ADDR              address to bind (default 0.0.0.0; numeric IPv4/IPv6 or localhost)
  --port N                 port (default 8080; 0 picks a free one)
  --backlog N              listen backlog (default 4096)
  --quiet                  do not print each request
  --body FILE              serve FILE's bytes instead of "Hello, world!"
  --max-head BYTES         longest request head (default 8192; longer gets 431)
  --idle-timeout SECONDS   close connections idle this long (default 5)
  --close-timeout SECONDS  on SIGINT/SIGTERM, time for responses in flight (default 5)

Signals: SIGINT/SIGTERM stop gracefully and print the counters; SIGUSR1 prints them.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

class UsageError extends Error {}

function num(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max} (got '${value}')`);
  }
  return n;
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
    if (command !== 'serve') throw new UsageError(`unknown command '${command}'`);
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    const mode = values.mode ?? 'et';
    if (mode !== 'et' && mode !== 'lt') throw new UsageError(`--mode must be 'et' or 'lt' (got '${mode}')`);
    return await serve(
      {
        mode,
        host: values.host ?? '0.0.0.0',
        port: num(values.port, 'port', 8080, 0, 65535),
        backlog: num(values.backlog, 'backlog', 4096, 1, 1 << 30),
        quiet: values.quiet ?? false,
        body: values.body,
        maxHead: num(values['max-head'], 'max-head', 8192, 16, 1 << 20),
        idleTimeout: Math.round(num(values['idle-timeout'], 'idle-timeout', 5, 0.001, 86400) * 1000),
        closeTimeout: Math.round(num(values['close-timeout'], 'close-timeout', 5, 0, 86400) * 1000),
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
    await Promise.all([out.drain(), err.drain()]);
  }
}

process.exitCode = await main(process.argv.slice(2));
