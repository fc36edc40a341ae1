/**
 * The three ways worker processes share the accept load, and the listening sockets the
 * supervising parent makes for them.
 */
import { bindListener, boundPort } from '../http/bind.js';
import { adoptListener, bindUnix } from '../http/listener.js';
import type { UnixSocketFile } from '../http/listener.js';
import type { Socket } from '../socket.js';
import { INHERITED_FD } from './protocol.js';
import type { WorkerListen } from './protocol.js';

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

/** Where a pool's workers listen, from what the pool was given. */
export interface PoolListenerPlan {
  balance: Balance;
  /** An inherited listening socket the workers share. */
  fd: number | undefined;
  /** A Unix domain socket the pool binds for the workers to share, and its file's mode. */
  path: string | undefined;
  socketMode: number | undefined;
  host: string;
  port: number;
  backlog: number;
}

/** The socket a pool holds for its life, the Unix socket file it bound (if any), and what each worker is told. */
export interface PoolListener {
  socket: Socket;
  file: UnixSocketFile | undefined;
  listen: WorkerListen;
}

/**
 * Makes a pool's listener: an inherited fd adopted or a Unix socket bound, shared by every
 * worker as an inherited fd; for `reuseport`, the port holder, each worker binding its own;
 * otherwise one TCP listener the workers inherit.
 */
export function poolListener(plan: PoolListenerPlan): PoolListener {
  const inherited: WorkerListen = { kind: 'inherited', fd: INHERITED_FD, exclusive: plan.balance === 'exclusive' };
  if (plan.fd !== undefined) return { socket: adoptListener(plan.fd, 'fd'), file: undefined, listen: inherited };
  if (plan.path !== undefined) {
    const unix = bindUnix(plan.path, plan.backlog, plan.socketMode);
    return { socket: unix.socket, file: unix.file, listen: inherited };
  }
  if (plan.balance === 'reuseport') {
    const socket = portHolder(plan.host, plan.port);
    return { socket, file: undefined, listen: { kind: 'reuseport', port: boundPort(socket) } };
  }
  return { socket: sharedListener(plan.host, plan.port, plan.backlog), file: undefined, listen: inherited };
}
