/**
 * Entry point of the lab's load-generator process: `node loadgen.js '<json config>'`.
 * Prints `{"progress":n}` lines and a final `{"result":...}` line on stdout.
 */
import { runLoad } from '../lab/loadgen.js';
import type { LoadConfig } from '../lab/loadgen.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
if (cfg.host !== '127.0.0.1' && cfg.host !== '::1') {
  process.stderr.write('loadgen: loopback targets only (127.0.0.1 or ::1)\n');
  process.exit(2);
}
const result = await runLoad(cfg, (n) => process.stdout.write(JSON.stringify({ progress: n }) + '\n'));
process.stdout.write(JSON.stringify({ result }) + '\n');
