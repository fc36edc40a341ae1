// A plain web-standard fetch handler (no framework) on etlt's `serve({ fetch })`.
//
//   node bench/servers/fetch-etlt.mjs et|lt PORT
import { serve } from 'etlt';

const mode = process.argv[2];
const port = Number(process.argv[3]);

serve({
  fetch: () => new Response('Hello, world!', { headers: { 'content-type': 'text/plain' } }),
  mode,
  hostname: '127.0.0.1',
  port,
  maxRequests: 100000,
  keepAliveTimeoutMs: 30000,
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
