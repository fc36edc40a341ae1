/**
 * Entry point of the lab's load-generator process: `node loadgen.js '<json config>'`.
 * Prints `{"progress":n}` lines and a final `{"result":...}` line on stdout. It lives as
 * long as the lab does: the end of its stdin (the lab's pipe) or of its stdout stops it.
 */
import { runLoad } from '../lab/loadgen.js';
import type { LoadConfig } from '../lab/loadgen.js';

// No signal may open Node's inspector (see main.ts); this process has nothing to print for it.
process.on('SIGUSR1', () => {});
// The lab is gone (killed, even with SIGKILL): its pipes close, and so does this process.
process.stdin.once('end', () => process.exit(1));
process.stdin.once('error', () => process.exit(1));
process.stdin.resume();
process.stdout.on('error', () => process.exit(1));

const cfg = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
if (cfg.host !== '127.0.0.1' && cfg.host !== '::1') {
  process.stderr.write('loadgen: loopback targets only (127.0.0.1 or ::1)\n');
  process.exit(2);
}
const result = await runLoad(cfg, (n) => process.stdout.write(JSON.stringify({ progress: n }) + '\n'));
process.stdout.write(JSON.stringify({ result }) + '\n', () => process.exit(0));
