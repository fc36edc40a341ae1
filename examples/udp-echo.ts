/**
 * A UDP echo server over epoll on Node's own loop: one SOCK_DGRAM socket, `Epoll.watch()`
 * (no thread, no blocking), `recvfrom` and `sendto`. Each datagram goes back to its sender
 * as it came. Run: `npm run example:udp-echo -- [host] [port]` (default 127.0.0.1 9999),
 * then `nc -u 127.0.0.1 9999`. SIGINT or SIGTERM stops it and closes what it opened.
 */
import { AF_INET, EAGAIN, EPOLLIN, Epoll, SOCK_DGRAM, Socket } from 'etlt';

const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? 9999);

const sock = new Socket(AF_INET, SOCK_DGRAM);
sock.bind([host, port]);
sock.setBlocking(false);
const ep = new Epoll();
ep.register(sock, EPOLLIN);
const buffer = Buffer.alloc(65536);
let echoed = 0;

ep.watch(() => {
  // Level-triggered: drain what is queued now; anything left wakes the watch again.
  for (;;) {
    let got: [number, ReturnType<Socket['getsockname']>];
    try {
      got = sock.recvfromInto(buffer);
    } catch (err) {
      if ((err as { errno?: number }).errno === -EAGAIN) return;
      throw err;
    }
    const [n, sender] = got;
    sock.sendto(buffer.subarray(0, n), sender);
    echoed++;
  }
});

function stop(): void {
  ep.close();
  sock.close();
  console.log(`udp-echo: ${echoed} datagrams echoed`);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
console.log(`udp-echo: ${String(sock)}`);
