/**
 * What every experiment of the lab does around its measurements: one step after another
 * with the child processes of one run (and, for those that write files, a temporary
 * directory), an abort that stops every child and rejects with ABORT_ERR saying why the run
 * ended, and the children stopped and the directory removed whatever happens.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtltAbortedError } from '../errors.js';
import { ChildSet } from './children.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The version of etlt that runs the lab, for the report. */
export function labVersion(): string {
  return (JSON.parse(readFileSync(join(here, '..', '..', '..', 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** What a step gets: the run's children, its directory ('' without one), and its place in the run. */
export interface StepContext {
  children: ChildSet;
  dir: string;
  index: number;
  total: number;
}

/**
 * Runs `step` for each of `items` in turn. `tmpPrefix`: a temporary directory for the run
 * (removed at the end), or none. An abort of `signal` stops every child at once; the step
 * then fails, and the run rejects with an EtltAbortedError instead of the step's error.
 */
export async function runSteps<T>(
  items: readonly T[],
  signal: AbortSignal | undefined,
  tmpPrefix: string | undefined,
  step: (item: T, ctx: StepContext) => Promise<void>,
): Promise<void> {
  if (signal?.aborted) throw new EtltAbortedError('the lab was stopped before it started');
  const children = new ChildSet();
  const onAbort = () => void children.stopAll();
  signal?.addEventListener('abort', onAbort);
  const dir = tmpPrefix === undefined ? '' : mkdtempSync(join(tmpdir(), tmpPrefix));
  try {
    for (const [i, item] of items.entries()) {
      await step(item, { children, dir, index: i + 1, total: items.length });
      if (signal?.aborted) throw new EtltAbortedError();
    }
  } catch (e) {
    // A child killed by the abort fails its step; say why the run really ended.
    if (signal?.aborted) throw new EtltAbortedError(`the lab was stopped (${String(signal.reason ?? 'aborted')})`);
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await children.stopAll();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }
}
