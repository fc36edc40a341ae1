/**
 * `etlt lab [EXPERIMENT]`: the lab's experiments, one row each. Adding one is a row here
 * (its options table and its run), nothing else in the command line.
 */
import { LAB_BALANCE, labBalance } from './lab-balance.js';
import { LAB_SCALING, labScaling } from './lab-scaling.js';
import { LAB_URING, labUring } from './lab-uring.js';
import { LAB, lab, labArgs } from './lab.js';
import type { CommandSpec, ParsedOptions } from './options.js';
import type { Printer } from './printer.js';

/** What an experiment gets: its options, where to print, a stop signal, and where SIGUSR1 reads its progress. */
export interface ExperimentContext {
  values: ParsedOptions;
  err: Printer;
  isTTY: boolean;
  signal: AbortSignal;
  state: { progress: string };
}

/** One experiment of `etlt lab`. */
export interface Experiment {
  name: string;
  spec: CommandSpec;
  run(context: ExperimentContext): Promise<number>;
}

/** The experiments; the first is the default (`etlt lab` alone). */
export const EXPERIMENTS: readonly Experiment[] = [
  {
    name: 'trigger',
    spec: LAB,
    run: (c) => lab(labArgs(c.values), c.err, c.isTTY, c.signal, c.state),
  },
  { name: 'balance', spec: LAB_BALANCE, run: (c) => labBalance(c.values, c.err, c.signal, c.state) },
  { name: 'scaling', spec: LAB_SCALING, run: (c) => labScaling(c.values, c.err, c.signal, c.state) },
  { name: 'uring', spec: LAB_URING, run: (c) => labUring(c.values, c.err, c.signal, c.state) },
];

/** The experiment `argv` (after `lab`) names, and the arguments left for its options. */
export function experimentOf(argv: readonly string[]): { experiment: Experiment; rest: readonly string[] } {
  const named = EXPERIMENTS.find((e) => e.name === argv[0]);
  return named ? { experiment: named, rest: argv.slice(1) } : { experiment: EXPERIMENTS[0]!, rest: argv };
}
