/**
 * The three ways worker processes share the accept load, and the listening sockets the
 * supervising parent makes for them.
 */
import { AF_INET, AF_INET6, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT } from '../constants.js';
import { EtltSystemError } from '../errors.js';
import { Socket } from '../socket.js';

/** How workers share the accept load. */
export type Balance = 'reuseport' | 'exclusive' | 'shared';

/** Every balance kind, the default first. */
export const BALANCES: readonly Balance[] = ['reuseport', 'exclusive', 'shared'];

/** One line about each kind, for the help and the reports. */
export const BALANCE_DESCRIPTIONS: Readonly<Record<Balance, string>> = {
  reuseport: 'a listener per worker with SO_REUSEPORT: the kernel spreads connections by a hash of the 4-tuple',
  exclusive: "one inherited listener, registered with EPOLLEXCLUSIVE: a connection wakes one worker's epoll set",
  shared:
    'one inherited listener registered plainly by every worker: each connection wakes them all (the thundering herd)',
};

function familyOf(host: string): number {
  return host.includes(':') ? AF_INET6 : AF_INET;
}

function bound(host: string, port: number, reusePort: boolean, backlog?: number): Socket {
  const sock = new Socket(familyOf(host), SOCK_STREAM | SOCK_NONBLOCK);
  try {
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    sock.bind([host, port]);
    if (backlog !== undefined) sock.listen(backlog);
    return sock;
  } catch (err) {
    sock.close();
    if (err instanceof EtltSystemError)
      throw new EtltSystemError(err.errno, err.syscall, undefined, { address: host, port });
    throw err;
  }
}

/**
 * The listener the workers inherit (`exclusive`, `shared`): bound, listening, non-blocking;
 * every worker accepts from its one queue.
 */
export function sharedListener(host: string, port: number, backlog: number): Socket {
  return bound(host, port, false, backlog);
}

/**
 * For `reuseport`: a socket bound with SO_REUSEPORT but never listening. It resolves port 0
 * to the port every worker then binds, and holds that port for the pool's life, so that a
 * replaced worker gets it back; a socket that does not listen is not in the group the
 * kernel spreads connections over, so it takes none.
 */
export function portHolder(host: string, port: number): Socket {
  return bound(host, port, true);
}

/** The port a socket is bound to. */
export function boundPort(sock: Socket): number {
  return (sock.getsockname() as [string, number])[1];
}
