/**
 * The echo server of Python's `selectors` documentation, translated line by line: one
 * selector, a callback as each key's data, non-blocking sockets. Run:
 * `node dist/examples/selectors-echo.js [host] [port] [epoll|poll|select]` (default
 * 127.0.0.1 1234 epoll), then `nc 127.0.0.1 1234`. It blocks in select(), as Python's does:
 * Ctrl-C (SIGINT's default action) stops it.
 */
import { EpollSelector, EVENT_READ, PollSelector, SelectSelector, Socket } from 'etlt';
import type { BaseSelector } from 'etlt';

type Callback = (conn: Socket, mask: number) => void;

const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? 1234);
const kinds = { epoll: EpollSelector, poll: PollSelector, select: SelectSelector };
const kind = (process.argv[4] ?? 'epoll') as keyof typeof kinds;

const sel: BaseSelector<Callback, Socket> = new kinds[kind]<Callback, Socket>();

function accept(sock: Socket): void {
  const [conn, addr] = sock.accept(); // Should be ready
  console.log('accepted', conn.fileno(), 'from', addr);
  conn.setBlocking(false);
  sel.register(conn, EVENT_READ, read);
}

function read(conn: Socket): void {
  const data = conn.recv(1000); // Should be ready
  if (data.length > 0) {
    console.log('echoing', JSON.stringify(data.toString()), 'to', conn.fileno());
    conn.send(data); // Hope it won't block
  } else {
    console.log('closing', conn.fileno());
    sel.unregister(conn);
    conn.close();
  }
}

const sock = new Socket();
sock.bind([host, port]);
sock.listen(100);
sock.setBlocking(false);
sel.register(sock, EVENT_READ, accept);
console.log(`selectors-echo: listening on ${JSON.stringify(sock.getsockname())} with ${kind}`);

for (;;) {
  const events = sel.select();
  for (const [key, mask] of events) {
    const callback = key.data!;
    callback(key.fileobj, mask); // key.fileobj is a Socket: the selector says so
  }
}
