/**
 * `Socket`: the part of Python's `socket.socket` that servers (and the seed) need.
 */
import { native } from './binding/index.js';
import { decodeAddress, encodeAddress } from './address.js';
import type { Address } from './address.js';
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  EINTR,
  EPOLLOUT,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  F_GETFL,
  F_SETFL,
  MSG_NOSIGNAL,
  O_NONBLOCK,
  SOL_SOCKET,
  SO_ERROR,
  SOCKADDR_STORAGE_SIZE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
} from './constants.js';
import { EtltSystemError, check } from './errors.js';
import { closeOnCollect, release } from './finalizer.js';
import { bytes, fileDescriptor, flag, integer, rangeError, typeError, writableBytes } from './validate.js';

export type { Address } from './address.js';

const TYPE_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;
/** Set by `Socket.fromFd` and `accept()` for the one constructor call that adopts an fd. */
let adoptFd = -1;

/** Repeats a native call while it fails with EINTR (PEP 475). */
function retry(call: () => number): number {
  for (;;) {
    const r = call();
    if (r !== -EINTR) return r;
  }
}

/**
 * A socket (socket(2)), created with SOCK_CLOEXEC and blocking by default, as in Python.
 *
 * On a non-blocking socket, a call that would block throws an {@link EtltSystemError} with
 * `code: 'EAGAIN'` (Python's BlockingIOError); `connect` throws `EINPROGRESS`. Writing to a
 * peer that is gone throws `EPIPE`: sends use MSG_NOSIGNAL, so SIGPIPE never kills the process.
 * After `close()`, `fileno()` is -1 and every call fails with `EBADF`, as in Python.
 */
export class Socket implements Disposable {
  #fd: number;
  /** The address family: AF_INET, AF_INET6 or AF_UNIX. */
  readonly family: number;
  /** The socket type without SOCK_NONBLOCK/SOCK_CLOEXEC, as Python reports it. */
  readonly type: number;
  /** The protocol number (0 for the family's default). */
  readonly proto: number;

  constructor(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0) {
    integer(family, 'family', 0, 0xffff);
    integer(type, 'type', 0, 0x7fffffff);
    integer(proto, 'proto', 0, 0x7fffffff);
    if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX) {
      throw rangeError('family', 'AF_INET, AF_INET6 or AF_UNIX', family);
    }
    this.family = family;
    this.type = type & ~TYPE_FLAGS;
    this.proto = proto;
    if (adoptFd >= 0) {
      this.#fd = adoptFd;
      adoptFd = -1;
    } else {
      this.#fd = check(native.socket(family, type | SOCK_CLOEXEC, proto), 'socket');
    }
    closeOnCollect(this, this.#fd, 'socket');
  }

  /** Wraps an existing socket fd of the given family and type; the object owns it from now on. */
  static fromFd(fd: number, family: number = AF_INET, type: number = SOCK_STREAM, proto = 0): Socket {
    adoptFd = fileDescriptor(fd, 'fd');
    // Owned from now on: closed at the environment's teardown (a Worker's end) if not before.
    native.fd_adopt(adoptFd);
    try {
      return new Socket(family, type, proto);
    } finally {
      adoptFd = -1;
    }
  }

  /** The file descriptor, or -1 once closed. */
  fileno(): number {
    return this.#fd;
  }

  /** True once `close()` (or `detach()`) has run. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * Gives up the fd without closing it and returns it (Python's `detach()`): the caller owns
   * it from now on, and this object acts as closed.
   */
  detach(): number {
    const fd = this.#fd;
    this.#fd = -1;
    release(this);
    if (fd >= 0) native.fd_forget(fd);
    return fd;
  }

  /** Sets an option: `value` is an integer, or the option's raw bytes. */
  setsockopt(level: number, option: number, value: number | Uint8Array): void {
    integer(level, 'level', 0, 0x7fffffff);
    integer(option, 'option', 0, 0x7fffffff);
    let raw: Uint8Array;
    if (typeof value === 'number' || typeof value === 'boolean') {
      raw = Buffer.alloc(4);
      (raw as Buffer).writeInt32LE(integer(Number(value), 'value', -0x80000000, 0x7fffffff));
    } else if (ArrayBuffer.isView(value)) {
      raw = bytes(value, 'value');
    } else {
      // Python takes an int or a bytes-like object; a string would be sent as its UTF-8 bytes.
      throw typeError('value', 'an integer, a Buffer, a TypedArray or a DataView', value);
    }
    check(native.setsockopt(this.#fd, level, option, raw), 'setsockopt');
  }

  /** Reads an option: an integer, or `buflen` raw bytes when `buflen` is given. */
  getsockopt(level: number, option: number): number;
  getsockopt(level: number, option: number, buflen: number): Buffer;
  getsockopt(level: number, option: number, buflen?: number): number | Buffer {
    integer(level, 'level', 0, 0x7fffffff);
    integer(option, 'option', 0, 0x7fffffff);
    if (buflen === undefined) {
      const out = Buffer.alloc(4);
      check(native.getsockopt(this.#fd, level, option, out), 'getsockopt');
      return out.readInt32LE(0);
    }
    const out = Buffer.alloc(integer(buflen, 'buflen', 1, 1024));
    const n = check(native.getsockopt(this.#fd, level, option, out), 'getsockopt');
    return out.subarray(0, n);
  }

  /** Binds to `[host, port]` (AF_INET/AF_INET6) or a path (AF_UNIX). */
  bind(address: Address): void {
    check(native.bind(this.#fd, encodeAddress(this.family, address)), 'bind');
  }

  /** Listens for connections with a backlog of `backlog` (Linux caps it at somaxconn). */
  listen(backlog = 128): void {
    integer(backlog, 'backlog', 0, 0x7fffffff);
    check(native.listen(this.#fd, backlog), 'listen');
  }

  /** Connects; on a non-blocking socket throws `EINPROGRESS` while the handshake goes on. */
  connect(address: Address): void {
    check(this.#connect(encodeAddress(this.family, address)), 'connect');
  }

  /** Like `connect`, but returns 0 or the (positive) errno instead of throwing, as Python's connect_ex. */
  connectEx(address: Address): number {
    const r = this.#connect(encodeAddress(this.family, address));
    return r < 0 ? -r : 0;
  }

  /**
   * connect(2), with EINTR handled as Python does (PEP 475): an interrupted connect goes on
   * in the kernel, and calling it again would fail with EALREADY, so a blocking socket
   * instead waits until the socket is writable and reads the outcome from SO_ERROR.
   */
  #connect(sa: Uint8Array): number {
    const r = native.connect(this.#fd, sa);
    if (r !== -EINTR || !this.getBlocking()) return r;
    const epfd = check(native.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1');
    try {
      check(native.epoll_ctl(epfd, EPOLL_CTL_ADD, this.#fd, EPOLLOUT), 'epoll_ctl');
      const events = new Uint32Array(2);
      while (native.epoll_wait(epfd, events, 1, -1) === -EINTR);
    } finally {
      native.close(epfd);
    }
    const err = this.getsockopt(SOL_SOCKET, SO_ERROR);
    return err === 0 ? 0 : -err;
  }

  /** Sets (true/1) or clears (false/0) blocking mode, with fcntl O_NONBLOCK. */
  setBlocking(blocking: boolean | number): void {
    const on = flag(blocking, 'flag');
    const flags = check(native.fcntl(this.#fd, F_GETFL, 0), 'fcntl');
    const next = on ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
    if (next !== flags) check(native.fcntl(this.#fd, F_SETFL, next), 'fcntl');
  }

  /** True unless the socket is in non-blocking mode. */
  getBlocking(): boolean {
    return (check(native.fcntl(this.#fd, F_GETFL, 0), 'fcntl') & O_NONBLOCK) === 0;
  }

  /** Accepts a connection: a new blocking socket (SOCK_CLOEXEC) and the peer's address. */
  accept(): [Socket, Address] {
    const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
    const fd = check(
      retry(() => native.accept4(this.#fd, sa, SOCK_CLOEXEC)),
      'accept4',
    );
    const peer = Socket.fromFd(fd, this.family, this.type, this.proto);
    const address = this.family === AF_UNIX ? unixPeerName(fd) : decodeAddress(sa, SOCKADDR_STORAGE_SIZE);
    return [peer, address];
  }

  /** Receives up to `bufsize` bytes; an empty Buffer means the peer closed its side. */
  recv(bufsize: number, flags = 0): Buffer {
    integer(bufsize, 'bufsize', 0, 0x7fffffff);
    integer(flags, 'flags', 0, 0x7fffffff);
    const buf = Buffer.allocUnsafe(bufsize);
    const n = check(
      retry(() => native.recv(this.#fd, buf, 0, bufsize, flags)),
      'recv',
    );
    // A short read keeps only its own bytes, not a mostly empty bufsize allocation.
    return n === bufsize ? buf : n * 2 < bufsize ? Buffer.from(buf.subarray(0, n)) : buf.subarray(0, n);
  }

  /** Receives into `buffer` (at most `nbytes`, default its length); returns the count. */
  recvInto(buffer: Uint8Array, nbytes = 0, flags = 0): number {
    const out = writableBytes(buffer, 'buffer');
    integer(nbytes, 'nbytes', 0, out.byteLength);
    integer(flags, 'flags', 0, 0x7fffffff);
    const len = nbytes === 0 ? out.byteLength : nbytes;
    return check(
      retry(() => native.recv(this.#fd, out, 0, len, flags)),
      'recv',
    );
  }

  /** Sends what the kernel takes now; returns the count. Strings are sent as UTF-8. */
  send(data: Uint8Array | string, flags = 0): number {
    const buf = bytes(data, 'data');
    integer(flags, 'flags', 0, 0x7fffffff);
    return check(
      retry(() => native.send(this.#fd, buf, 0, buf.byteLength, flags | MSG_NOSIGNAL)),
      'send',
    );
  }

  /**
   * Sends all of `data`. On a blocking socket it loops until done; on a non-blocking one
   * it throws `EAGAIN` when the kernel's buffer is full (with `bytesSent` on the error).
   */
  sendall(data: Uint8Array | string, flags = 0): void {
    const buf = bytes(data, 'data');
    integer(flags, 'flags', 0, 0x7fffffff);
    let off = 0;
    while (off < buf.byteLength) {
      const n = retry(() => native.send(this.#fd, buf, off, buf.byteLength - off, flags | MSG_NOSIGNAL));
      if (n < 0) {
        const err = new EtltSystemError(n, 'send');
        Object.defineProperty(err, 'bytesSent', { value: off, enumerable: true });
        throw err;
      }
      off += n;
    }
  }

  /** Shuts down one or both halves: SHUT_RD, SHUT_WR or SHUT_RDWR. */
  shutdown(how: number): void {
    integer(how, 'how', 0, 2);
    check(native.shutdown(this.#fd, how), 'shutdown');
  }

  /** Closes the socket; safe to call more than once. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    release(this);
    // close(2): the fd is released even when close reports an error (EINTR included), so never retry.
    const r = native.close(fd);
    if (r < 0 && r !== -EINTR) throw new EtltSystemError(r, 'close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The local address. */
  getsockname(): Address {
    const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
    const n = check(native.getsockname(this.#fd, sa), 'getsockname');
    return decodeAddress(sa, n);
  }

  /** The peer's address; ENOTCONN when not connected. */
  getpeername(): Address {
    const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
    const n = check(native.getpeername(this.#fd, sa), 'getpeername');
    return decodeAddress(sa, n);
  }
}

/*
 * An AF_UNIX peer's name needs its exact length: an unnamed peer is the bare family (2
 * bytes, which Python reports as ''), an abstract one is '\0' plus exactly its bytes.
 * accept4's native wrapper does not return the length, so ask getpeername(2), which
 * reports the same address accept(2) does (Linux: unix_getname with peer set).
 */
function unixPeerName(fd: number): Address {
  const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
  const n = native.getpeername(fd, sa);
  return n < 0 ? '' : decodeAddress(sa, n);
}

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
