/**
 * The low-level, allocation-free path for engines: the syscalls themselves, returning
 * `-errno` instead of throwing, so a server loop never throws on EAGAIN. Everything above
 * the Python-faithful layer (the reactor, the HTTP server, the CLI) reaches the kernel
 * through here.
 *
 * - `epoll_wait(epfd, out, maxevents, timeoutMs)` fills a caller-owned Uint32Array with
 *   [fd, events] pairs and returns the count.
 * - `accept4(fd, null, flags)` returns the new fd (pass SOCK_NONBLOCK | SOCK_CLOEXEC).
 * - `recv(fd, buf, offset, length, flags)` / `send(fd, buf, offset, length, flags)` work on
 *   a slice of the caller's buffer; pass MSG_NOSIGNAL to `send`.
 * - `sendmsg(fd, buffers, count, flags)` sends `buffers[0..count)` (1 to IOV_MAX, 1024) in one
 *   call, as one byte stream (a head and a body, pipelined responses); pass MSG_NOSIGNAL.
 * - `epoll_create1(flags)`, `epoll_ctl(epfd, op, fd, events)`, `close(fd)`, `shutdown(fd, how)`.
 * - `setsockopt(fd, level, option, bytes)`, `getsockopt(fd, level, option, out)` (returns
 *   the option's length), `fcntl(fd, cmd, arg)` for the integer commands.
 * - `openat(dirfd, path, flags, mode)`, `openat2(dirfd, path, flags, mode, resolve)` (the
 *   fields of struct open_how), `fstat(fd, out)` into a Float64Array of 6 ([mode, size, mtime
 *   s, mtime ns, ino, dev]), `sendfile(outFd, inFd, offset, count)` (the file position untouched).
 * - `ioctl_int(fd, request)` for SIOCOUTQ, SIOCOUTQNSD and SIOCINQ: the int it reports (bytes
 *   not yet acknowledged by the peer, of those not yet sent, bytes unread); other requests -EINVAL.
 * - `watch_start(epfd, events, maxevents, listener)`, `watch_stop(handle)`,
 *   `watch_ref(handle, ref)`: libuv watches an epoll fd on Node's loop; each wake-up drains
 *   up to `maxevents` events into `events` and tells `listener` their count (see Epoll.watch).
 * - `poll(fds, nfds, timeoutMs)`: poll(2) over a caller-owned array of `nfds` struct pollfd,
 *   `POLLFD_SIZE` (8) bytes each: an int32 fd, then int16 events and int16 revents, in the
 *   machine's byte order, which the kernel rewrites in place. Views over one ArrayBuffer
 *   address them: `fd = new Int32Array(ab)[2 * i]`, `events = new Int16Array(ab)[4 * i + 2]`,
 *   `revents = new Int16Array(ab)[4 * i + 3]` (`& 0xffff` for the unsigned mask). A negative
 *   fd is skipped (revents 0); a closed one reports POLLNVAL. `timeoutMs` < 0 blocks. Returns
 *   the count of entries with a nonzero revents, or -errno (-EINTR: retry with the time left).
 *   Throws only when `fds` is shorter than `nfds * 8` bytes.
 * - `select(nfds, readfds, writefds, exceptfds, timeoutUs)`: select(2) over caller-owned fd
 *   sets, each a Uint8Array of at least `fd_set_bytes(nfds)` bytes or null, filled and read
 *   with `FD_ZERO`, `FD_SET`, `FD_CLR`, `FD_ISSET` (the C macros, argument order included)
 *   and rewritten by the kernel to the ready fds. `timeoutUs`: microseconds, or -1 to block.
 *   Returns the count of ready bits, or -errno (-EBADF for a closed fd, -EINTR). The kernel
 *   takes fds above FD_SETSIZE when the sets are big enough; `select()` refuses them as
 *   Python does, and a backend that wants Python's limit must check it itself.
 * - `turn_start(listener)`, `turn_stop(handle)`, `turn_ref(handle, ref)`, `uv_backend_fd()`,
 *   `uv_backend_timeout()`: a hook that lets a backend without a watchable fd (poll,
 *   select) block in libuv's place on every turn of Node's loop (see native/turn.c).
 * - `gpio_v2_get_line(chipfd, offsets, consumer, flags)`: a line request on a GPIO
 *   character device (/dev/gpiochipN): the line fd, readable (EPOLLIN) while edge events
 *   (`GPIO_V2_LINE_EVENT_SIZE`-byte struct gpio_v2_line_event records) are queued.
 *
 * Arguments are not validated beyond what keeps the kernel inside the buffers.
 */
import { native } from './binding/index.js';
import { FD_CLR, FD_ISSET, FD_SET, FD_ZERO, fd_set_bytes } from './fdset.js';

export type { WatchHandle } from './binding/index.js';
export type { TurnHandle } from './binding/index.js';

export const sys = {
  epoll_create1: native.epoll_create1,
  epoll_ctl: native.epoll_ctl,
  epoll_wait: native.epoll_wait,
  accept4: native.accept4,
  recv: native.recv,
  send: native.send,
  sendmsg: native.sendmsg,
  shutdown: native.shutdown,
  close: native.close,
  setsockopt: native.setsockopt,
  getsockopt: native.getsockopt,
  fcntl: native.fcntl,
  poll: native.poll,
  select: native.select,
  FD_SET,
  FD_CLR,
  FD_ISSET,
  FD_ZERO,
  fd_set_bytes,
  openat: native.openat,
  openat2: native.openat2,
  fstat: native.fstat,
  getpeername: native.getpeername,
  getsockname: native.getsockname,
  sendfile: native.sendfile,
  ioctl_int: native.ioctl_int,
  watch_start: native.watch_start,
  watch_stop: native.watch_stop,
  watch_ref: native.watch_ref,
  turn_start: native.turn_start,
  turn_stop: native.turn_stop,
  turn_ref: native.turn_ref,
  uv_backend_fd: native.uv_backend_fd,
  uv_backend_timeout: native.uv_backend_timeout,
  gpio_v2_get_line: native.gpio_v2_get_line,
  io_uring_setup: native.io_uring_setup,
  eventfd: native.eventfd,
  io_uring_enter: native.io_uring_enter,
  io_uring_register: native.io_uring_register,
  mmap: native.mmap,
  address_of: native.address_of,
} as const;
