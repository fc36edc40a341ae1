/**
 * `Socket`: Python's `socket.socket`: TCP, UDP and AF_UNIX, blocking, non-blocking or with a timeout.
 */
import { inspect } from 'node:util';
import { native } from './binding/index.js';
import { decodeAddress, encodeAddress, socketRepr, unixPeerName } from './address.js';
import type { Address } from './address.js';
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  EINTR,
  F_GETFL,
  F_SETFL,
  MSG_NOSIGNAL,
  O_NONBLOCK,
  POLLIN,
  POLLOUT,
  SOCKADDR_STORAGE_SIZE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
} from './constants.js';
import { EtltSystemError, check } from './errors.js';
import { closeOnCollect, release } from './finalizer.js';
import { blockingCall, connectOutcome, sendAll, timeoutArg } from './socket-wait.js';
import { bytes, fileDescriptor, flag, integer, rangeError, typeError, writableBytes } from './validate.js';

export type { Address } from './address.js';

const TYPE_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;
/** Set by `Socket.fromFd` and `accept()` for the one constructor call that adopts an fd. */
let adoptFd = -1;

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
  /** settimeout's positive timeout in ms (the fd is then O_NONBLOCK); 0: none, as fcntl says. */
  #timeoutMs = 0;
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

  /** connect(2), with Python's EINTR and timeout handling. */
  #connect(sa: Uint8Array): number {
    return connectOutcome(this.#fd, native.connect(this.#fd, sa), this.#timeoutMs, () => this.getBlocking());
  }

  /** Sets (true/1) or clears (false/0) blocking mode, with fcntl O_NONBLOCK; drops any timeout. */
  setBlocking(blocking: boolean | number): void {
    const on = flag(blocking, 'flag');
    this.#setNonBlocking(!on);
    this.#timeoutMs = 0;
  }

  #setNonBlocking(nonBlocking: boolean): void {
    const on = !nonBlocking;
    const flags = check(native.fcntl(this.#fd, F_GETFL, 0), 'fcntl');
    const next = on ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
    if (next !== flags) check(native.fcntl(this.#fd, F_SETFL, next), 'fcntl');
  }

  /** True unless the socket is in non-blocking mode (Python: `gettimeout() != 0`). */
  getBlocking(): boolean {
    return this.#timeoutMs > 0 || (check(native.fcntl(this.#fd, F_GETFL, 0), 'fcntl') & O_NONBLOCK) === 0;
  }

  /**
   * Python's `settimeout(value)`: null blocks, 0 is non-blocking, seconds make every blocking
   * call (accept, connect, recv*, send*, sendall as a whole) wait at most that long and then
   * throw {@link EtltSystemError} `ETIMEDOUT` (Python's TimeoutError). As in Python, the fd
   * itself is then O_NONBLOCK. The wait is poll(2) in this thread: it holds Node's loop for up
   * to the timeout, as any blocking call does.
   */
  settimeout(value: number | null): void {
    const timeout = timeoutArg(value);
    if (timeout === null || timeout === 0) return this.setBlocking(timeout === null);
    this.#setNonBlocking(true);
    // Whole milliseconds, rounded up: poll(2)'s unit; a timeout never ends early.
    this.#timeoutMs = Math.ceil(timeout * 1000);
  }

  /** Python's `gettimeout()`: seconds, 0 when non-blocking, null when blocking. */
  gettimeout(): number | null {
    if (this.#timeoutMs > 0) return this.#timeoutMs / 1000;
    return this.getBlocking() ? null : 0;
  }

  /** A call that may block, as Python makes it: see {@link blockingCall}. */
  #io(events: number, call: () => number): number {
    return blockingCall(this.#fd, this.#timeoutMs, events, call);
  }

  /** Accepts a connection: a new blocking socket (SOCK_CLOEXEC) and the peer's address. */
  accept(): [Socket, Address] {
    const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
    const fd = check(
      this.#io(POLLIN, () => native.accept4(this.#fd, sa, SOCK_CLOEXEC)),
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
      this.#io(POLLIN, () => native.recv(this.#fd, buf, 0, bufsize, flags)),
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
      this.#io(POLLIN, () => native.recv(this.#fd, out, 0, len, flags)),
      'recv',
    );
  }

  /** Sends what the kernel takes now; returns the count. Strings are sent as UTF-8. */
  send(data: Uint8Array | string, flags = 0): number {
    const buf = bytes(data, 'data');
    integer(flags, 'flags', 0, 0x7fffffff);
    return check(
      this.#io(POLLOUT, () => native.send(this.#fd, buf, 0, buf.byteLength, flags | MSG_NOSIGNAL)),
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
    sendAll(this.#fd, this.#timeoutMs, buf, flags);
  }

  /**
   * Python's `sendto(data, address)` or `sendto(data, flags, address)`: one datagram to
   * `address` (or bytes, on a stream socket that ignores it); returns the count sent.
   */
  sendto(data: Uint8Array | string, address: Address): number;
  sendto(data: Uint8Array | string, flags: number, address: Address): number;
  sendto(data: Uint8Array | string, flagsOrAddress: number | Address, address?: Address): number {
    const buf = bytes(data, 'data');
    const withFlags = arguments.length > 2;
    const flags = withFlags ? integer(flagsOrAddress, 'flags', 0, 0x7fffffff) : 0;
    const sa = encodeAddress(this.family, withFlags ? address : flagsOrAddress);
    return check(
      this.#io(POLLOUT, () => native.sendto(this.#fd, buf, 0, buf.byteLength, flags | MSG_NOSIGNAL, sa)),
      'sendto',
    );
  }

  /**
   * Python's `recvfrom(bufsize, flags=0)`: one datagram (at most `bufsize` bytes, the rest of a
   * longer one discarded, as recvfrom(2) does) and its sender's address.
   */
  recvfrom(bufsize: number, flags = 0): [data: Buffer, address: Address] {
    integer(bufsize, 'bufsize', 0, 0x7fffffff);
    const buf = Buffer.allocUnsafe(bufsize);
    const [n, address] = this.#recvfrom(buf, bufsize, flags);
    return [n === bufsize ? buf : Buffer.from(buf.subarray(0, n)), address];
  }

  /** Python's `recvfrom_into(buffer, nbytes=0, flags=0)`: `[count, address]`, into the caller's buffer. */
  recvfromInto(buffer: Uint8Array, nbytes = 0, flags = 0): [count: number, address: Address] {
    const out = writableBytes(buffer, 'buffer');
    integer(nbytes, 'nbytes', 0, out.byteLength);
    return this.#recvfrom(out, nbytes === 0 ? out.byteLength : nbytes, flags);
  }

  #recvfrom(out: Uint8Array, length: number, flags: number): [number, Address] {
    integer(flags, 'flags', 0, 0x7fffffff);
    const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
    const salen = new Int32Array(1);
    const n = check(
      this.#io(POLLIN, () => native.recvfrom(this.#fd, out, 0, length, flags, sa, salen)),
      'recvfrom',
    );
    return [n, decodeAddress(sa, salen[0]!)];
  }

  /** CPython's repr: `<socket.socket fd=5, family=2, type=1, proto=0, laddr=('127.0.0.1', 8080)>`. */
  toString(): string {
    return socketRepr(this.#fd, this.family, this.type, this.proto);
  }

  [inspect.custom](): string {
    return this.toString();
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
