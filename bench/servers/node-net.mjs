// Node's `net` server writing the seed's exact response bytes and ending the
// connection once the request head is complete (the first "\n\n" or "\n\r\n",
// as in the seed). The cheapest server Node's own stack can offer, for the
// benchmark's comparison table.
//
//   node bench/servers/node-net.mjs PORT
import net from 'node:net';

const port = Number(process.argv[2]);
const RESPONSE = Buffer.from(
  'HTTP/1.0 200 OK\r\n' +
    'Date: Mon, 1 Jan 1996 01:01:01 GMT\r\n' +
    'Content-Type: text/plain\r\n' +
    'Content-Length: 13\r\n' +
    '\r\n' +
    'Hello, world!',
  'latin1',
);
const HEAD_MAX = 8192;

const server = net.createServer((socket) => {
  let head = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk) => {
    head += chunk;
    if (head.includes('\n\n') || head.includes('\n\r\n')) {
      socket.removeAllListeners('data');
      socket.end(RESPONSE);
    } else if (head.length > HEAD_MAX) {
      socket.destroy();
    }
  });
  // Resets and EPIPE are expected under load; the socket is destroyed anyway.
  socket.on('error', () => {});
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
