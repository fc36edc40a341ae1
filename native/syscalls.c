/* The syscall wrappers: the contract in etlt.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "args.h"
#include "etlt.h"
#include "sys.h"

/* ---- epoll(7) ---- */

napi_value w_epoll_create1(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t flags;
  if (!arg_i32(env, argv[0], "flags", &flags)) return NULL;
  int r = epoll_create1(flags);
  return fd_result(env, r);
}

napi_value w_epoll_ctl(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t epfd, op, fd;
  uint32_t events;
  if (!arg_i32(env, argv[0], "epfd", &epfd) || !arg_i32(env, argv[1], "op", &op) || !arg_i32(env, argv[2], "fd", &fd) ||
      !arg_u32(env, argv[3], "events", &events))
    return NULL;
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.fd = fd;
  int r = epoll_ctl(epfd, op, fd, &ev);
  return num(env, RET_ERRNO(r));
}

/*
 * epoll_wait(epfd, out, maxevents, timeout): `out` is a caller-owned Int32Array/Uint32Array
 * receiving [fd, events] pairs, so a server polls without allocating anything.
 */
napi_value w_epoll_wait(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t epfd, maxevents, timeout;
  uint8_t *data;
  size_t len;
  if (!arg_i32(env, argv[0], "epfd", &epfd) || !arg_bytes(env, argv[1], "events", &data, &len) ||
      !arg_i32(env, argv[2], "maxevents", &maxevents) || !arg_i32(env, argv[3], "timeout", &timeout))
    return NULL;
  if (maxevents <= 0 || (size_t)maxevents > len / 8) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                           "maxevents must be positive and fit in the events array (2 slots each)");
    return NULL;
  }
  struct epoll_event stackbuf[256];
  struct epoll_event *evs = stackbuf;
  if (maxevents > 256) {
    evs = malloc(sizeof(struct epoll_event) * (size_t)maxevents);
    if (evs == NULL) return num(env, -ENOMEM);
  }
  int n = (int)sys_epoll_wait(epfd, evs, maxevents, timeout);
  int result = n < 0 ? -errno : n;
  /* memcpy: `events` may be any TypedArray, a Uint8Array at an odd byteOffset included. */
  for (int i = 0; i < n; i++) {
    uint32_t pair[2] = {(uint32_t)evs[i].data.fd, evs[i].events};
    memcpy(data + 8 * (size_t)i, pair, sizeof pair);
  }
  if (evs != stackbuf) free(evs);
  return num(env, result);
}

/* ---- sockets ---- */

napi_value w_socket(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t domain, type, protocol;
  if (!arg_i32(env, argv[0], "family", &domain) || !arg_i32(env, argv[1], "type", &type) ||
      !arg_i32(env, argv[2], "proto", &protocol))
    return NULL;
  int r = socket(domain, type, protocol);
  return fd_result(env, r);
}

/* socketpair(family, type, proto, sv): the two fds land in sv[0] and sv[1], an Int32Array. */
napi_value w_socketpair(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t domain, type, protocol;
  uint8_t *out;
  if (!arg_i32(env, argv[0], "family", &domain) || !arg_i32(env, argv[1], "type", &type) ||
      !arg_i32(env, argv[2], "proto", &protocol) || !arg_fd_pair(env, argv[3], "sv", &out))
    return NULL;
  int sv[2];
  int r = socketpair(domain, type, protocol, sv);
  return fd_pair_result(env, r, sv, out);
}

/*
 * A buffer's length as an option length. A cast wraps at 2**32 (a 4 GiB buffer passed 0);
 * the kernel reads the length as an int, and never goes past it, so cap it at INT_MAX.
 */
static socklen_t optlen_of(size_t len) {
  return len > INT_MAX ? (socklen_t)INT_MAX : (socklen_t)len;
}

/* setsockopt(fd, level, optname, value): value is a TypedArray holding the option bytes. */
napi_value w_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, opt;
  uint8_t *data;
  size_t len;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "level", &level) ||
      !arg_i32(env, argv[2], "option", &opt) || !arg_bytes(env, argv[3], "value", &data, &len))
    return NULL;
  int r = setsockopt(fd, level, opt, data, optlen_of(len));
  return num(env, RET_ERRNO(r));
}

/* getsockopt(fd, level, optname, out): fills `out`, returns the option's length. */
napi_value w_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, opt;
  uint8_t *data;
  size_t len;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "level", &level) ||
      !arg_i32(env, argv[2], "option", &opt) || !arg_bytes(env, argv[3], "out", &data, &len))
    return NULL;
  socklen_t optlen = optlen_of(len);
  int r = getsockopt(fd, level, opt, data, &optlen);
  return num(env, r < 0 ? -errno : (int64_t)optlen);
}

/* bind/connect take a raw struct sockaddr built by the TypeScript layer. */
static int arg_sockaddr(napi_env env, napi_value v, struct sockaddr **sa, socklen_t *salen) {
  uint8_t *data;
  size_t len;
  if (!arg_bytes(env, v, "address", &data, &len)) return 0;
  if (len < sizeof(sa_family_t) || len > sizeof(struct sockaddr_storage)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "address buffer has an invalid length");
    return 0;
  }
  *sa = (struct sockaddr *)data;
  *salen = (socklen_t)len;
  return 1;
}

napi_value w_bind(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_sockaddr(env, argv[1], &sa, &salen)) return NULL;
  int r = bind(fd, sa, salen);
  return num(env, RET_ERRNO(r));
}

napi_value w_connect(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_sockaddr(env, argv[1], &sa, &salen)) return NULL;
  int r = connect(fd, sa, salen);
  return num(env, RET_ERRNO(r));
}

napi_value w_listen(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, backlog;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "backlog", &backlog)) return NULL;
  int r = listen(fd, backlog);
  return num(env, RET_ERRNO(r));
}

/* Out-buffer for a peer address, or null/undefined for none (the allocation-free path). */
static int arg_addr_out(napi_env env, napi_value v, struct sockaddr **sa, socklen_t *salen) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    *sa = NULL;
    *salen = 0;
    return 1;
  }
  uint8_t *data;
  size_t len;
  if (!arg_bytes(env, v, "address", &data, &len)) return 0;
  if (len < sizeof(struct sockaddr_storage)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "address buffer must hold a sockaddr_storage");
    return 0;
  }
  memset(data, 0, len);
  *sa = (struct sockaddr *)data;
  *salen = (socklen_t)sizeof(struct sockaddr_storage);
  return 1;
}

napi_value w_accept4(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, flags;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_addr_out(env, argv[1], &sa, &salen) ||
      !arg_i32(env, argv[2], "flags", &flags))
    return NULL;
  int r = (int)sys_accept4(fd, sa, sa ? &salen : NULL, flags);
  return fd_result(env, r);
}

napi_value w_getsockname(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_addr_out(env, argv[1], &sa, &salen)) return NULL;
  int r = getsockname(fd, sa, &salen);
  return num(env, r < 0 ? -errno : (int64_t)salen);
}

napi_value w_getpeername(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_addr_out(env, argv[1], &sa, &salen)) return NULL;
  int r = getpeername(fd, sa, &salen);
  return num(env, r < 0 ? -errno : (int64_t)salen);
}

/* recv(fd, buffer, offset, length, flags) */
napi_value w_recv(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t fd, flags;
  uint8_t *p;
  size_t n;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_slice(env, argv + 1, "buffer", &p, &n) ||
      !arg_i32(env, argv[4], "flags", &flags))
    return NULL;
  ssize_t r = sys_recv(fd, p, n, flags);
  return num(env, r < 0 ? -errno : r);
}

/* send(fd, buffer, offset, length, flags) */
napi_value w_send(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t fd, flags;
  uint8_t *p;
  size_t n;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_slice(env, argv + 1, "buffer", &p, &n) ||
      !arg_i32(env, argv[4], "flags", &flags))
    return NULL;
  ssize_t r = sys_send(fd, p, n, flags);
  return num(env, r < 0 ? -errno : r);
}

/* Up to this many iovecs (and their JS values) live on the stack; more are malloc'd. */
#define SENDMSG_STACK_IOVS 64

/*
 * sendmsg(fd, buffers, count, flags): the first `count` TypedArrays of the array `buffers`
 * as the iovec list of one sendmsg(2), with no address and no control data.
 */
napi_value w_sendmsg(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, count, flags;
  uint32_t length;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_array(env, argv[1], "buffers", &length) ||
      !arg_i32(env, argv[2], "count", &count))
    return NULL;
  if (count < 1 || count > IOV_MAX || (uint32_t)count > length) {
    char msg[128];
    snprintf(msg, sizeof msg,
             "The value of \"count\" is out of range. It must be >= 1 and <= %d (IOV_MAX) and <= buffers.length (%u)",
             IOV_MAX, (unsigned)length);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return NULL;
  }
  if (!arg_i32(env, argv[3], "flags", &flags)) return NULL;
  struct iovec stack_iov[SENDMSG_STACK_IOVS];
  napi_value stack_values[SENDMSG_STACK_IOVS];
  struct iovec *iov = stack_iov;
  napi_value *values = stack_values;
  if (count > SENDMSG_STACK_IOVS) {
    iov = malloc((sizeof *iov + sizeof *values) * (size_t)count);
    if (iov == NULL) return num(env, -ENOMEM);
    values = (napi_value *)(iov + count);
  }
  ssize_t r = -1;
  int ok = arg_iovecs(env, argv[1], "buffers", (uint32_t)count, iov, values);
  if (ok) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)count;
    r = sys_sendmsg(fd, &msg, flags);
    if (r < 0) r = -errno;
  }
  if (iov != stack_iov) free(iov);
  return ok ? num(env, r) : NULL;
}

napi_value w_shutdown(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, how;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "how", &how)) return NULL;
  int r = shutdown(fd, how);
  return num(env, RET_ERRNO(r));
}

napi_value w_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], "fd", &fd)) return NULL;
  /* close(2) releases the fd even when it fails (EINTR included): no longer ours either way. */
  int r = (int)sys_close(fd);
  int64_t result = RET_ERRNO(r);
  fd_untrack(env, fd);
  return num(env, result);
}

/*
 * fcntl(fd, cmd, arg) for the integer commands only. The others (F_GETLK, F_OFD_GETLK,
 * F_GETOWN_EX, F_GET_RW_HINT...) take a pointer: the kernel would write at the address `arg`.
 */
napi_value w_fcntl(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, cmd, arg;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "cmd", &cmd) || !arg_i32(env, argv[2], "arg", &arg))
    return NULL;
  switch (cmd) {
    /* clang-format off */
    case F_DUPFD: case F_DUPFD_CLOEXEC: case F_GETFD: case F_SETFD: case F_GETFL: case F_SETFL:
    case F_GETOWN: case F_SETOWN: case F_GETSIG: case F_SETSIG: case F_GETLEASE: case F_SETLEASE:
    case F_NOTIFY: case F_GETPIPE_SZ: case F_SETPIPE_SZ: case F_GET_SEALS: case F_ADD_SEALS:
      break;
    /* clang-format on */
    default:
      napi_throw_range_error(
          env, "ERR_OUT_OF_RANGE",
          "The value of \"cmd\" is out of range. It must be an fcntl command with an integer argument");
      return NULL;
  }
  int r = fcntl(fd, cmd, (long)arg);
  return num(env, RET_ERRNO(r));
}

/* inet_pton(af, src, dst): 1 parsed, 0 not an address of that family, -errno. */
napi_value w_inet_pton(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t af;
  char src[INET6_ADDRSTRLEN + 8];
  size_t srclen;
  uint8_t *dst;
  size_t dstlen;
  if (!arg_i32(env, argv[0], "af", &af)) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], src, sizeof src, &srclen) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"src\" argument must be a string");
    return NULL;
  }
  if (!arg_bytes(env, argv[2], "dst", &dst, &dstlen)) return NULL;
  if (dstlen < 16) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "dst must hold 16 bytes");
    return NULL;
  }
  /* Too long for any address, or an embedded NUL ('127.0.0.1\0x' would parse as 127.0.0.1). */
  if (srclen >= sizeof src - 1 || strlen(src) != srclen) return num(env, 0);
  int r = inet_pton(af, src, dst);
  return num(env, RET_ERRNO(r));
}

/* inet_ntop(af, src): the text form of the 4- or 16-byte address at the start of src. */
napi_value w_inet_ntop(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t af;
  uint8_t *src;
  size_t srclen;
  if (!arg_i32(env, argv[0], "af", &af) || !arg_bytes(env, argv[1], "src", &src, &srclen)) return NULL;
  if (srclen < (af == AF_INET6 ? 16u : 4u)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "src is too short for the address family");
    return NULL;
  }
  char out[INET6_ADDRSTRLEN];
  if (inet_ntop(af, src, out, sizeof out) == NULL) return num(env, -errno);
  napi_value s;
  napi_create_string_utf8(env, out, NAPI_AUTO_LENGTH, &s);
  return s;
}
