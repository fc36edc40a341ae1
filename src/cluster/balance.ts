/**
 * The three ways worker processes share the accept load, and the listening sockets the
 * supervising parent makes for them.
 */
import { bindListener } from '../http/bind.js';
import type { Socket } from '../socket.js';

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

/**
 * The listener the workers inherit (`exclusive`, `shared`): bound, listening, non-blocking;
 * every worker accepts from its one queue.
 */
export function sharedListener(host: string, port: number, backlog: number): Socket {
  return bindListener(host, port, { reusePort: false, backlog });
}

/**
 * For `reuseport`: the socket that holds the port for the pool's life, bound with
 * SO_REUSEADDR but not SO_REUSEPORT, and never listening. It resolves port 0 to the port
 * every worker then binds (SO_REUSEADDR and SO_REUSEPORT: a bound socket that does not
 * listen does not conflict with sockets that both set SO_REUSEADDR), and a replaced worker
 * gets that port back. Without SO_REUSEPORT it is also what keeps another server out: the
 * holder of a second pool (or any socket without SO_REUSEPORT) conflicts with our listening
 * workers, so its bind fails with EADDRINUSE, where a holder with SO_REUSEPORT used to let
 * the second pool's workers join our group and split the traffic. The kernel admits only
 * sockets of the same effective uid to a group (net/core/sock_reuseport.c), so another
 * user can never join; a process of our own user that sets SO_REUSEPORT itself still can,
 * as with any SO_REUSEPORT server (docs/balance.md).
 */
export function portHolder(host: string, port: number): Socket {
  return bindListener(host, port, { reusePort: false, backlog: undefined });
}

export { boundPort } from '../http/bind.js';
