// The Node peer of the static suite: sirv (an npm static server) on node:http, serving
// DIR with ETags, as an application would mount it. Like every npm static server it
// copies each file through user space with fs.createReadStream.
//
//   node bench/servers/sirv-static.mjs PORT DIR
import http from 'node:http';
import sirv from 'sirv';

const port = Number(process.argv[2]);
const serve = sirv(process.argv[3], { etag: true, dev: false });
const server = http.createServer((req, res) =>
  serve(req, res, () => {
    res.statusCode = 404;
    res.end('not found');
  }),
);
server.keepAliveTimeout = 600_000;
server.maxRequestsPerSocket = 0;
server.on('clientError', (err, socket) => socket.destroy());
server.listen({ host: '127.0.0.1', port, backlog: 4096 });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
