// The minimal Hono app on @hono/node-server (node:http underneath), for the bench's
// comparison with etlt's serve: keep-alive without a timeout or a request limit in a run.
//
//   node bench/servers/hono-node.mjs PORT
import { serve } from '@hono/node-server';

import { app } from './hono-app.mjs';

const port = Number(process.argv[2]);

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
server.keepAliveTimeout = 600_000;
server.maxRequestsPerSocket = 0;
server.on('clientError', (err, socket) => socket.destroy());
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
