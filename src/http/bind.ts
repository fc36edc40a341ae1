/**
 * The one bind of a listening socket, for `HttpServer` and for the listeners and the port
 * holder `WorkerPool` makes: the family from the address, SO_REUSEADDR (a restart must not
 * wait out TIME_WAIT), SO_REUSEPORT when asked, and an error that names the address (with
 * the interface hint a link-local IPv6 address needs).
 */
import { AF_INET, AF_INET6, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT } from '../constants.js';
import { EtltSystemError } from '../errors.js';
import { Socket } from '../socket.js';

/** How to bind. */
export interface BindOptions {
  /** Set SO_REUSEPORT: the socket joins (or starts) the port's group of listeners of this user. */
  reusePort: boolean;
  /** listen(2) with this backlog; undefined: bound only (a port holder). */
  backlog: number | undefined;
}

/** The family of a numeric address (brackets already removed). */
export function familyOf(host: string): number {
  return host.includes(':') ? AF_INET6 : AF_INET;
}

/** A non-blocking socket bound to `host`:`port` (and listening when `backlog` is given); an EtltSystemError naming the address otherwise. */
export function bindListener(host: string, port: number, options: BindOptions): Socket {
  const family = familyOf(host);
  const sock = new Socket(family, SOCK_STREAM | SOCK_NONBLOCK);
  try {
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (options.reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    sock.bind([host, port]);
    if (options.backlog !== undefined) sock.listen(options.backlog);
    return sock;
  } catch (err) {
    sock.close();
    if (!(err instanceof EtltSystemError)) throw err;
    // A link-local address is ambiguous without its interface: bind(2) says only EINVAL.
    const zoneless = family === AF_INET6 && /^fe[89ab]/i.test(host) && !host.includes('%');
    const hint =
      zoneless && err.code === 'EINVAL' ? `a link-local address needs its interface: ${host}%eth0` : undefined;
    throw new EtltSystemError(err.errno, err.syscall, hint, { address: host, port });
  }
}

/** The port a socket is bound to. */
export function boundPort(sock: Socket): number {
  return (sock.getsockname() as [string, number])[1];
}
