/**
 * The low-level, allocation-free path for engines: the syscalls themselves, returning
 * `-errno` instead of throwing, so a server loop never throws on EAGAIN.
 *
 * - `epoll_wait(epfd, out, maxevents, timeoutMs)` fills a caller-owned Uint32Array with
 *   [fd, events] pairs and returns the count.
 * - `accept4(fd, null, flags)` returns the new fd (pass SOCK_NONBLOCK | SOCK_CLOEXEC).
 * - `recv(fd, buf, offset, length, flags)` / `send(fd, buf, offset, length, flags)` work on
 *   a slice of the caller's buffer; pass MSG_NOSIGNAL to `send`.
 * - `sendmsg(fd, buffers, count, flags)` sends `buffers[0..count)` (1 to IOV_MAX, 1024) in one
 *   call, as one byte stream (a head and a body, pipelined responses); pass MSG_NOSIGNAL.
 * - `epoll_ctl(epfd, op, fd, events)`, `close(fd)`, `shutdown(fd, how)`.
 *
 * Arguments are not validated beyond what keeps the kernel inside the buffers.
 */
import { native } from './binding/index.js';

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
} as const;
