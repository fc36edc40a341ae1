/**
 * Entry point of the lab's load-generator process: `node loadgen.js '<json config>'`.
 * Prints `{"progress":n}` lines, `{"busy":true}` when the measured load begins (after the
 * idle connections of a workload that has them; with `gated`, the load then waits for a `go`
 * line on stdin), `{"warm":true}` after a warm-up, and a final `{"result":...}` line on
 * stdout. It lives as long as the lab does: the end of its stdin (the lab's pipe) or of its
 * stdout stops it. Idle connections stay open after the result until the lab closes the
 * pipe (it stops the server first, so that closing them is not counted).
 */
import type { LoadConfig } from '../lab/loadgen.js';

// No signal may open Node's inspector (see main.ts); this process has nothing to print for
// it. Installed before the load generator's modules load (a dynamic import below): static
// imports would be evaluated first, and a SIGUSR1 meanwhile would open the inspector.
process.on('SIGUSR1', () => {});
// The lab is gone (killed, even with SIGKILL): its pipes close, and so does this process.
process.stdin.once('end', () => process.exit(1));
process.stdin.once('error', () => process.exit(1));
process.stdin.resume();
process.stdout.on('error', () => process.exit(1));

/** Longest time idle connections are held after the result, should the lab never say. */
const HOLD_MAX_MS = 120_000;

const cfg = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
if (cfg.host !== '127.0.0.1' && cfg.host !== '::1') {
  process.stderr.write('loadgen: loopback targets only (127.0.0.1 or ::1)\n');
  process.exit(2);
}
const { runLoadHolding } = await import('../lab/loadgen.js');
const say = (msg: object, then?: () => void) => process.stdout.write(JSON.stringify(msg) + '\n', then);
/** With `cfg.gated`: resolves when the lab writes its `go` line (after its snapshot of the server's counters). */
const go = new Promise<void>((resolve) => {
  let text = '';
  process.stdin.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    if (text.includes('go\n')) resolve();
  });
});
const { result, held } = await runLoadHolding(
  cfg,
  (n) => say({ progress: n }),
  () => {
    say({ busy: true });
    return cfg.gated === true ? go : undefined;
  },
  () => say({ warm: true }),
);
say({ result }, () => {
  if (held.length === 0) process.exit(0);
  // Held: the sockets keep this process alive until the lab ends the pipe (or this cap).
  setTimeout(() => process.exit(0), HOLD_MAX_MS).unref();
});
