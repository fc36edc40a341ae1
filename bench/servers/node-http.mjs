// Node's own `http` server answering every request with the seed's body, for
// the benchmark's comparison table. One connection per request: HTTP/1.0
// clients (ab) and `Connection: close` requests (wrk) make Node close after
// the response. Node adds its own `Connection: close` header; the other bytes
// match the seed's response.
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
// A client that resets mid-request must not take the server down.
server.on('clientError', (err, socket) => socket.destroy());
server.listen({ host: '127.0.0.1', port, backlog: 4096 });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
