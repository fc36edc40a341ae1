/**
 * The seed's edge-triggered HTTP/1.0 server, translated line by line from its Python
 * onto etlt's Python-faithful API. Run: `node dist/examples/seed-et.js [host] [port]`
 * (default 0.0.0.0 8080), then `curl -0 http://127.0.0.1:8080/`.
 *
 * It keeps the seed's flaws on purpose, so that it can be read beside the original:
 * `listen(1)`; a client that closes before sending a whole request makes `recv` return
 * empty Buffers forever inside the drain loop, so the server spins at full CPU and never
 * serves anyone again; the maps are never cleaned. `etlt serve --mode et` is the same
 * server done right.
 *
 * Ctrl-C: Python's KeyboardInterrupt runs the `finally` below. Here the loop never yields
 * to Node's event loop, so a JavaScript signal handler could never run; SIGINT keeps its
 * default action and ends the process, and the kernel releases the fds instead.
 */
import {
  Epoll,
  Socket,
  EtltSystemError,
  EPOLLIN,
  EPOLLOUT,
  EPOLLET,
  EPOLLHUP,
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SHUT_RDWR,
} from 'etlt';

const host = process.argv[2] ?? '0.0.0.0';
const port = Number(process.argv[3] ?? 8080);

const EOL1 = Buffer.from('\n\n');
const EOL2 = Buffer.from('\n\r\n');
let response = Buffer.from('HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\n');
response = Buffer.concat([response, Buffer.from('Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n')]);
response = Buffer.concat([response, Buffer.from('Hello, world!')]);

const serversocket = new Socket(AF_INET, SOCK_STREAM);
serversocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
serversocket.bind([host, port]);
serversocket.listen(1);
serversocket.setBlocking(0);

const epoll = new Epoll();
epoll.register(serversocket.fileno(), EPOLLIN | EPOLLET);

try {
  const connections = new Map<number, Socket>();
  const requests = new Map<number, Buffer>();
  const responses = new Map<number, Buffer>();
  while (true) {
    const events = epoll.poll(1);
    for (const [fileno, event] of events) {
      if (fileno === serversocket.fileno()) {
        try {
          while (true) {
            const [connection, _address] = serversocket.accept();
            connection.setBlocking(0);
            epoll.register(connection.fileno(), EPOLLIN | EPOLLET);
            connections.set(connection.fileno(), connection);
            requests.set(connection.fileno(), Buffer.alloc(0));
            responses.set(connection.fileno(), response);
          }
        } catch (err) {
          if (!(err instanceof EtltSystemError)) throw err;
        }
      } else if (event & EPOLLIN) {
        try {
          while (true) {
            requests.set(fileno, Buffer.concat([requests.get(fileno)!, connections.get(fileno)!.recv(1024)]));
          }
        } catch (err) {
          if (!(err instanceof EtltSystemError)) throw err;
        }
        if (requests.get(fileno)!.includes(EOL1) || requests.get(fileno)!.includes(EOL2)) {
          epoll.modify(fileno, EPOLLOUT | EPOLLET);
          console.log('-'.repeat(40) + '\n' + requests.get(fileno)!.toString().slice(0, -2));
        }
      } else if (event & EPOLLOUT) {
        try {
          while (responses.get(fileno)!.length > 0) {
            const byteswritten = connections.get(fileno)!.send(responses.get(fileno)!);
            responses.set(fileno, responses.get(fileno)!.subarray(byteswritten));
          }
        } catch (err) {
          if (!(err instanceof EtltSystemError)) throw err;
        }
        if (responses.get(fileno)!.length === 0) {
          epoll.modify(fileno, EPOLLET);
          connections.get(fileno)!.shutdown(SHUT_RDWR);
        }
      } else if (event & EPOLLHUP) {
        epoll.unregister(fileno);
        connections.get(fileno)!.close();
        connections.delete(fileno);
      }
    }
  }
} finally {
  epoll.unregister(serversocket.fileno());
  epoll.close();
  serversocket.close();
}
