#!/usr/bin/env node
/**
 * The `etlt` command's entry point: guards what must be in place before anything else loads
 * (a SIGUSR1 handler, so no signal can open Node's inspector; a one-line error when the
 * native addon is missing), then runs the command.
 */
import { EtltNotBuiltError, EtltUnsupportedPlatformError } from '../errors.js';

/*
 * Node opens its inspector on 127.0.0.1:9229 when it gets SIGUSR1 and nothing handles it:
 * any local user who can signal the process could then attach and run code as its user.
 * Every etlt command handles SIGUSR1 itself (serve prints its counters, lab its progress).
 */
const usr1 = { handler: (): void => {} };
process.on('SIGUSR1', () => usr1.handler());

try {
  const { run } = await import('./run.js');
  process.exitCode = await run(process.argv.slice(2), usr1);
} catch (e) {
  if (!(e instanceof EtltNotBuiltError || e instanceof EtltUnsupportedPlatformError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exitCode = 1;
}
