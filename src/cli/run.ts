/**
 * The `etlt` command: the only code that reads process.argv's words, writes to the terminal
 * and sets the exit code (with main.ts, its entry point).
 */
import { readFileSync } from 'node:fs';
import { EtltAbortedError, EtltUsageError } from '../errors.js';
import { experimentOf } from './experiments.js';
import { LAB } from './lab.js';
import type { CommandSpec } from './options.js';
import { helpFor, parse } from './options.js';
import { Printer } from './printer.js';
import { EXIT_CODES, SERVE, serve, serveArgs } from './serve.js';

const COMMANDS: readonly CommandSpec[] = [SERVE, LAB];

function overview(): string {
  return [
    'etlt: Linux epoll, edge- and level-triggered, from TypeScript',
    '',
    'Usage:',
    ...COMMANDS.map((c) => `  etlt ${c.name} [options]`.padEnd(27) + c.summary),
    "  etlt help [COMMAND]      this help, or one command's",
    '  etlt --version',
    '',
    ...EXIT_CODES,
    '',
    ...COMMANDS.map((c) => helpFor(c))
      .join('\n\n')
      .split('\n'),
    '',
  ].join('\n');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** How long, at exit, request lines may take to reach a slow reader before they are given up. */
const EXIT_DRAIN_MS = 2000;

/** Runs `etlt` with `argv`; resolves with the exit code. `usr1.handler` is what SIGUSR1 does now. */
export async function run(argv: readonly string[], usr1: { handler: () => void }): Promise<number> {
  const out = new Printer(1);
  const err = new Printer(2);
  try {
    return await dispatch(argv, out, err, usr1);
  } catch (e) {
    if (e instanceof EtltUsageError) {
      const command = COMMANDS.find((c) => c.name === argv[0]);
      err.line(
        `etlt: ${e.message.replace(/^etlt /, '')}\nRun 'etlt ${command ? `${command.name} ` : ''}--help' for usage.`,
      );
      return 2;
    }
    if (e instanceof EtltAbortedError) {
      err.line(`etlt: ${e.message}`);
      return 130;
    }
    err.line(`etlt: ${(e as Error).message}`);
    return 1;
  } finally {
    // Bounded: with a reader that never reads, waiting for the output would never end.
    await Promise.all([out.drain(EXIT_DRAIN_MS), err.drain(EXIT_DRAIN_MS)]);
    out.release();
    err.release();
  }
}

async function dispatch(
  argv: readonly string[],
  out: Printer,
  err: Printer,
  usr1: { handler: () => void },
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') {
    out.line(version());
    return 0;
  }
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const named = first === 'help' ? rest[0] : undefined;
    const command = COMMANDS.find((c) => c.name === named);
    if (named !== undefined && !command) throw new EtltUsageError(`unknown command '${named}'`);
    out.line(command ? helpFor(command) : overview());
    return first === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command)
    throw new EtltUsageError(first.startsWith('-') ? `'${first}' before a command` : `unknown command '${first}'`);
  // `etlt lab [EXPERIMENT] [options]`: the experiment's own options table.
  const { experiment, rest: options } = command === LAB ? experimentOf(rest) : { experiment: undefined, rest };
  const spec = experiment?.spec ?? command;
  const values = parse(spec, options);
  if (values['help'] === true) {
    out.line(helpFor(spec));
    return 0;
  }
  if (command === SERVE) return serve(serveArgs(values), out, err, usr1);
  const stop = new AbortController();
  const state = { progress: 'starting' };
  usr1.handler = () => err.line(`etlt lab: ${state.progress}`);
  const onSignal = (signal: NodeJS.Signals) => {
    err.line(`etlt lab: ${signal}: stopping the run and its processes`);
    stop.abort(signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await experiment!.run({ values, err, isTTY: process.stderr.isTTY === true, signal: stop.signal, state });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
