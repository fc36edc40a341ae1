// etlt's library server with a request handler, as the persistent-connection
// suites load it: keep-alive, a response built per request by JavaScript. It
// uses the planned API (handler, maxRequests, keepAliveTimeoutMs); until the
// library has it, the bench reports this server as "did not start".
//
//   node bench/servers/etlt-handler.mjs et|lt PORT
import { HttpServer } from 'etlt';

const mode = process.argv[2];
const port = Number(process.argv[3]);

const server = new HttpServer({
  mode,
  host: '127.0.0.1',
  port,
  handler: () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'Hello, world!' }),
  maxRequests: 100000,
  keepAliveTimeoutMs: 30000,
});
server.listen();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
