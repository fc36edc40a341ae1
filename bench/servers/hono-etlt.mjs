// The minimal Hono app on etlt's `serve({ fetch })`, as the persistent-connection suites
// load it (keep-alive, no request limit within a run).
//
//   node bench/servers/hono-etlt.mjs et|lt PORT
import { serve } from 'etlt';

import { app } from './hono-app.mjs';

const mode = process.argv[2];
const port = Number(process.argv[3]);

serve({ fetch: app.fetch, mode, hostname: '127.0.0.1', port, maxRequests: 100000, keepAliveTimeoutMs: 30000 });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
