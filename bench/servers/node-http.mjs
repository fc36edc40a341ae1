// Node's own `http` server answering every request with the seed's body, for
// the benchmark's comparison tables. In the close suite, HTTP/1.0 clients (ab)
// and `Connection: close` requests (wrk) make Node close after the response
// (it adds its own `Connection: close` header; the other bytes match the
// seed's response). In the persistent suites it keeps every connection for
// the whole run: no keep-alive timeout within a run, no request limit.
//
//   node bench/servers/node-http.mjs PORT
import http from 'node:http';

const port = Number(process.argv[2]);
const BODY = 'Hello, world!';
const HEADERS = {
  Date: 'Mon, 1 Jan 1996 01:01:01 GMT',
  'Content-Type': 'text/plain',
  'Content-Length': String(Buffer.byteLength(BODY)),
};

const server = http.createServer((req, res) => {
  res.sendDate = false;
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
// Node's default keep-alive timeout (5 s) would close the idle suite's
// connections while they are measured.
server.keepAliveTimeout = 600_000;
server.maxRequestsPerSocket = 0;
// A client that resets mid-request must not take the server down.
server.on('clientError', (err, socket) => socket.destroy());
server.listen({ host: '127.0.0.1', port, backlog: 4096 });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
