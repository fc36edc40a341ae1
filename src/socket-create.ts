/**
 * The functions of Python's `socket` module that make sockets: socketpair(),
 * create_connection() and create_server().
 */
import { native } from './binding/index.js';
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
} from './constants.js';
import { EtltAddressError, EtltSystemError, check } from './errors.js';
import { Socket } from './socket.js';
import type { Address } from './socket.js';
import { boolean, integer, options, rangeError, typeError } from './validate.js';

/**
 * Python's `socket.socketpair()`: two connected sockets (socketpair(2)), created with
 * SOCK_CLOEXEC and blocking unless `type` has SOCK_NONBLOCK. Linux makes pairs of AF_UNIX
 * sockets only; another family fails with errno EOPNOTSUPP (code `ENOTSUP`, as Node names 95).
 */
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM, proto = 0): [Socket, Socket] {
  integer(family, 'family', 0, 0xffff);
  integer(type, 'type', 0, 0x7fffffff);
  integer(proto, 'proto', 0, 0x7fffffff);
  // The families a Socket accepts, checked before any fd exists, so adopting both cannot fail.
  if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX) {
    throw rangeError('family', 'AF_INET, AF_INET6 or AF_UNIX', family);
  }
  const sv = new Int32Array(2);
  check(native.socketpair(family, type | SOCK_CLOEXEC, proto, sv), 'socketpair');
  return [Socket.fromFd(sv[0]!, family, type, proto), Socket.fromFd(sv[1]!, family, type, proto)];
}

/** Python's `create_connection` keyword arguments. */
export interface CreateConnectionOptions {
  /** Seconds for the connect and for the socket afterwards (settimeout); omitted: blocking. */
  readonly timeout?: number | null;
  /** `[host, port]` to bind before connecting. */
  readonly source_address?: [host: string, port: number] | null;
  /** Throw an AggregateError of every attempt's error instead of the first's (Python 3.11). */
  readonly all_errors?: boolean;
}

/** The families to try for a host, in getaddrinfo's order for the numeric hosts etlt takes. */
function familiesOf(host: string): number[] {
  if (host === 'localhost') return [AF_INET6, AF_INET];
  return host.includes(':') ? [AF_INET6] : [AF_INET];
}

/**
 * Python's `socket.create_connection(address, timeout, source_address, *, all_errors)`: a
 * connected TCP socket to `[host, port]`, trying each address of the host in turn (numeric
 * hosts and 'localhost' only: etlt does no DNS look-ups). The options object takes
 * Python's arguments by name.
 */
export function create_connection(address: [host: string, port: number], opts?: CreateConnectionOptions): Socket {
  if (!Array.isArray(address) || typeof address[0] !== 'string') {
    throw typeError('address', 'a [host, port] array', address);
  }
  const o = options<CreateConnectionOptions>(opts, 'options', ['timeout', 'source_address', 'all_errors']);
  const allErrors = o.all_errors === undefined ? false : boolean(o.all_errors, 'all_errors', 'option');
  const errors: unknown[] = [];
  for (const family of familiesOf(address[0])) {
    const sock = new Socket(family, SOCK_STREAM);
    try {
      if (o.timeout !== undefined) sock.settimeout(o.timeout);
      if (o.source_address) sock.bind(o.source_address);
      sock.connect(address);
      return sock;
    } catch (err) {
      sock.close();
      // A wrong argument is the caller's, not one address's: it does not wait for the next. A
      // source address of the other family is one address's (Python's bind fails there too).
      if (!(err instanceof EtltSystemError) && !(err instanceof EtltAddressError)) throw err;
      errors.push(err);
    }
  }
  if (allErrors) throw new AggregateError(errors, 'create_connection failed');
  throw errors[0];
}

/** Python's `create_server` keyword arguments. */
export interface CreateServerOptions {
  /** AF_INET (default) or AF_INET6. */
  readonly family?: number;
  /** listen()'s backlog; omitted: Python's default. */
  readonly backlog?: number | null;
  /** SO_REUSEPORT, so several sockets share the port. */
  readonly reuse_port?: boolean;
  /** With AF_INET6: accept IPv4 too (IPV6_V6ONLY off). */
  readonly dualstack_ipv6?: boolean;
}

/**
 * Python's `socket.create_server(address, *, family, backlog, reuse_port, dualstack_ipv6)`:
 * a TCP socket bound to `address` with SO_REUSEADDR, listening.
 */
export function create_server(address: Address, opts?: CreateServerOptions): Socket {
  const o = options<CreateServerOptions>(opts, 'options', ['family', 'backlog', 'reuse_port', 'dualstack_ipv6']);
  const family = o.family ?? AF_INET;
  if (family !== AF_INET && family !== AF_INET6) throw rangeError('family', 'AF_INET or AF_INET6', family, 'option');
  const reusePort = o.reuse_port === undefined ? false : boolean(o.reuse_port, 'reuse_port', 'option');
  const dualstack = o.dualstack_ipv6 === undefined ? false : boolean(o.dualstack_ipv6, 'dualstack_ipv6', 'option');
  if (dualstack && family !== AF_INET6)
    throw rangeError('dualstack_ipv6', 'used with family AF_INET6 only', true, 'option');
  const backlog =
    o.backlog === undefined || o.backlog === null ? null : integer(o.backlog, 'backlog', 0, 0x7fffffff, 'option');
  const sock = new Socket(family, SOCK_STREAM);
  try {
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    if (family === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, dualstack ? 0 : 1);
    sock.bind(address);
    if (backlog === null) sock.listen();
    else sock.listen(backlog);
    return sock;
  } catch (err) {
    sock.close();
    throw err;
  }
}
