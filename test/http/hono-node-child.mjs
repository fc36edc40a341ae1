// The test app on @hono/node-server, in a child process of its own (its serve replaces the
// global Request and Response as etlt's does): prints its port, serves until killed.
import { serve } from '@hono/node-server';

import { makeApp } from './hono-fixture.mjs';

const server = serve({ fetch: makeApp().fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`${info.port}\n`);
});
server.on('clientError', (err, socket) => socket.destroy());
process.on('disconnect', () => process.exit(0));
