/*
 * etlt native layer: one thin Node-API wrapper per syscall.
 *
 * Contract, for every wrapper below: it makes exactly the syscall it is named after,
 * with the arguments in the syscall's order, and returns the syscall's result, or
 * -errno when the syscall fails. It never throws for a failed syscall: EAGAIN and EINTR
 * are ordinary values on a server's hot path, and the TypeScript layer above turns the
 * others into Node-style errors. It throws only for arguments of the wrong JS type or
 * buffer ranges that would let the kernel write outside a buffer (programming errors).
 *
 * Policy (retries, mask merging, ET versus LT, blocking) lives in TypeScript.
 * No threads, no globals: the only state is the per-watcher struct, owned by its handle and libuv.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RET_ERRNO(r) ((r) < 0 ? -errno : (r))

/*
 * The hot-path calls enter the kernel through syscall(2). libc's own wrappers for them are
 * pthread cancellation points: in a multi-threaded process (Node always is) each call
 * switches asynchronous cancellation on and off around the syscall, for a feature nothing
 * here uses. Same syscall, same arguments, same -1/errno result.
 */
#include <sys/syscall.h>
#ifdef SYS_accept4
#define sys_accept4(fd, sa, len, flags) syscall(SYS_accept4, (fd), (sa), (len), (flags))
#else
#define sys_accept4 accept4
#endif
#ifdef SYS_epoll_wait
#define sys_epoll_wait(epfd, evs, max, timeout) syscall(SYS_epoll_wait, (epfd), (evs), (max), (timeout))
#else
#define sys_epoll_wait epoll_wait
#endif
#define sys_recv(fd, p, n, flags) syscall(SYS_recvfrom, (fd), (p), (n), (flags), NULL, NULL)
#define sys_send(fd, p, n, flags) syscall(SYS_sendto, (fd), (p), (n), (flags), NULL, 0)
#define sys_close(fd) syscall(SYS_close, (fd))

/* ---- argument helpers: throw TypeError/RangeError naming the argument ---- */

/*
 * An integer in [min, max]. napi_get_value_int32 would wrap silently (ToInt32: NaN is 0,
 * 2**32 + 1 is 1), turning close(NaN) into close(0); reading a double costs the same one call.
 */
static int arg_int(napi_env env, napi_value v, const char *name, double min, double max, double *out) {
  char msg[128];
  if (napi_get_value_double(env, v, out) != napi_ok) {
    snprintf(msg, sizeof msg, "The \"%s\" argument must be a number", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  if (!(*out >= min && *out <= max) || *out != (double)(int64_t)*out) {
    snprintf(msg, sizeof msg, "The value of \"%s\" is out of range. It must be an integer >= %.0f and <= %.0f",
             name, min, max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return 0;
  }
  return 1;
}

static int arg_i32(napi_env env, napi_value v, const char *name, int32_t *out) {
  double d;
  if (!arg_int(env, v, name, INT32_MIN, INT32_MAX, &d)) return 0;
  *out = (int32_t)d;
  return 1;
}

/* A 32-bit mask, signed or unsigned: EPOLLIN | EPOLLET is negative in JavaScript. */
static int arg_u32(napi_env env, napi_value v, const char *name, uint32_t *out) {
  double d;
  if (!arg_int(env, v, name, INT32_MIN, UINT32_MAX, &d)) return 0;
  *out = (uint32_t)(int64_t)d;
  return 1;
}

/* Any TypedArray (Buffer included): one N-API call, as measured cheapest. */
static int arg_bytes(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  size_t length;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, NULL, NULL) != napi_ok) {
    char msg[96];
    snprintf(msg, sizeof msg, "The \"%s\" argument must be a Buffer or TypedArray", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  size_t elem = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    default: break;
  }
  *data = ptr;
  *len = length * elem;
  return 1;
}

/* An [offset, offset+length) slice of a buffer, checked so the kernel stays inside it. */
static int arg_slice(napi_env env, napi_value *argv, const char *name, uint8_t **p, size_t *n) {
  uint8_t *data;
  size_t len;
  int32_t off, cnt;
  if (!arg_bytes(env, argv[0], name, &data, &len)) return 0;
  if (!arg_i32(env, argv[1], "offset", &off) || !arg_i32(env, argv[2], "length", &cnt)) return 0;
  if (off < 0 || cnt < 0 || (size_t)off > len || (size_t)cnt > len - (size_t)off) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "offset and length must lie inside the buffer");
    return 0;
  }
  *p = data + off;
  *n = (size_t)cnt;
  return 1;
}

static napi_value num(napi_env env, int64_t v) {
  napi_value out;
  /* Nearly every result fits: an int32 becomes a small integer without a heap number check. */
  if (v >= INT32_MIN && v <= INT32_MAX) napi_create_int32(env, (int32_t)v, &out);
  else napi_create_int64(env, v, &out);
  return out;
}

#define ARGS(n)                                                        \
  size_t argc = (n);                                                   \
  napi_value argv[(n) > 0 ? (n) : 1];                                  \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);                \
  for (size_t i_ = argc; i_ < (n); i_++) napi_get_undefined(env, &argv[i_]);

/* ---- epoll(7) ---- */

static napi_value w_epoll_create1(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t flags;
  if (!arg_i32(env, argv[0], "flags", &flags)) return NULL;
  int r = epoll_create1(flags);
  return num(env, RET_ERRNO(r));
}

static napi_value w_epoll_ctl(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t epfd, op, fd;
  uint32_t events;
  if (!arg_i32(env, argv[0], "epfd", &epfd) || !arg_i32(env, argv[1], "op", &op) ||
      !arg_i32(env, argv[2], "fd", &fd) || !arg_u32(env, argv[3], "events", &events))
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
static napi_value w_epoll_wait(napi_env env, napi_callback_info info) {
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

static napi_value w_socket(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t domain, type, protocol;
  if (!arg_i32(env, argv[0], "family", &domain) || !arg_i32(env, argv[1], "type", &type) ||
      !arg_i32(env, argv[2], "proto", &protocol))
    return NULL;
  int r = socket(domain, type, protocol);
  return num(env, RET_ERRNO(r));
}

/* setsockopt(fd, level, optname, value): value is a TypedArray holding the option bytes. */
static napi_value w_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, opt;
  uint8_t *data;
  size_t len;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "level", &level) ||
      !arg_i32(env, argv[2], "option", &opt) || !arg_bytes(env, argv[3], "value", &data, &len))
    return NULL;
  int r = setsockopt(fd, level, opt, data, (socklen_t)len);
  return num(env, RET_ERRNO(r));
}

/* getsockopt(fd, level, optname, out): fills `out`, returns the option's length. */
static napi_value w_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, opt;
  uint8_t *data;
  size_t len;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "level", &level) ||
      !arg_i32(env, argv[2], "option", &opt) || !arg_bytes(env, argv[3], "out", &data, &len))
    return NULL;
  socklen_t optlen = (socklen_t)len;
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

static napi_value w_bind(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_sockaddr(env, argv[1], &sa, &salen)) return NULL;
  int r = bind(fd, sa, salen);
  return num(env, RET_ERRNO(r));
}

static napi_value w_connect(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_sockaddr(env, argv[1], &sa, &salen)) return NULL;
  int r = connect(fd, sa, salen);
  return num(env, RET_ERRNO(r));
}

static napi_value w_listen(napi_env env, napi_callback_info info) {
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

static napi_value w_accept4(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, flags;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_addr_out(env, argv[1], &sa, &salen) ||
      !arg_i32(env, argv[2], "flags", &flags))
    return NULL;
  int r = (int)sys_accept4(fd, sa, sa ? &salen : NULL, flags);
  return num(env, RET_ERRNO(r));
}

static napi_value w_getsockname(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_addr_out(env, argv[1], &sa, &salen)) return NULL;
  int r = getsockname(fd, sa, &salen);
  return num(env, r < 0 ? -errno : (int64_t)salen);
}

static napi_value w_getpeername(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr *sa;
  socklen_t salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_addr_out(env, argv[1], &sa, &salen)) return NULL;
  int r = getpeername(fd, sa, &salen);
  return num(env, r < 0 ? -errno : (int64_t)salen);
}

/* recv(fd, buffer, offset, length, flags) */
static napi_value w_recv(napi_env env, napi_callback_info info) {
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
static napi_value w_send(napi_env env, napi_callback_info info) {
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

static napi_value w_shutdown(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, how;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "how", &how)) return NULL;
  int r = shutdown(fd, how);
  return num(env, RET_ERRNO(r));
}

static napi_value w_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], "fd", &fd)) return NULL;
  int r = (int)sys_close(fd);
  return num(env, RET_ERRNO(r));
}

/*
 * fcntl(fd, cmd, arg) for the integer commands only. The others (F_GETLK, F_OFD_GETLK,
 * F_GETOWN_EX, F_GET_RW_HINT...) take a pointer: the kernel would write at the address `arg`.
 */
static napi_value w_fcntl(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, cmd, arg;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "cmd", &cmd) ||
      !arg_i32(env, argv[2], "arg", &arg))
    return NULL;
  switch (cmd) {
    case F_DUPFD: case F_DUPFD_CLOEXEC: case F_GETFD: case F_SETFD: case F_GETFL: case F_SETFL:
    case F_GETOWN: case F_SETOWN: case F_GETSIG: case F_SETSIG: case F_GETLEASE: case F_SETLEASE:
    case F_NOTIFY: case F_GETPIPE_SZ: case F_SETPIPE_SZ: case F_GET_SEALS: case F_ADD_SEALS:
      break;
    default:
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                             "The value of \"cmd\" is out of range. It must be an fcntl command with an integer argument");
      return NULL;
  }
  int r = fcntl(fd, cmd, (long)arg);
  return num(env, RET_ERRNO(r));
}

/* inet_pton(af, src, dst): 1 parsed, 0 not an address of that family, -errno. */
static napi_value w_inet_pton(napi_env env, napi_callback_info info) {
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
static napi_value w_inet_ntop(napi_env env, napi_callback_info info) {
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

/* ---- an epoll fd watched by libuv (uv_poll), so it runs on Node's own loop ---- */

/*
 * No helper thread: libuv's own epoll watches our epoll fd, which is readable exactly while
 * our set has ready events. On each wake-up we drain one batch with a zero-timeout
 * epoll_wait into the caller's array and call the JS listener with the count: the wake-up
 * and its first wait cost one crossing into JS instead of two. If maxevents was reached,
 * the fd stays readable and libuv wakes us again on the next loop turn, after timers and
 * I/O had a turn.
 */
typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_ref events;      /* the JS TypedArray each batch is copied into, as [fd, events] pairs */
  napi_async_context context;
  struct epoll_event *batch; /* maxevents entries, for the kernel to write into */
  int maxevents;
  int fd;       /* libuv's own duplicate of epfd, closed once uv_close is done with it */
  int stopped;  /* watcher_release ran: references gone, uv_close requested */
  int closed;   /* uv_close's callback ran */
  int orphaned; /* no JS handle points here any more (finalized, or never made) */
  /* Set while Node may tear the environment down with this watcher live (see watcher_env_cleanup). */
  napi_async_cleanup_hook_handle hook;
} watcher_t;

/* Marks our externals, so watch_stop/watch_ref refuse another addon's external. */
static const napi_type_tag watcher_tag = {0x9c1e0f5a6b3d4e21ULL, 0x7f02d8c4a5b61e93ULL};

/*
 * The struct has two owners: libuv, until the close callback, and the JS handle, until its
 * finalizer. The last to let go frees it, so a handle used again after watch_stop (or a
 * second watch_stop) reads a stopped watcher instead of freed memory.
 */
static void watcher_free(watcher_t *w) {
  free(w->batch);
  free(w);
}

static void watcher_on_close(uv_handle_t *h) {
  watcher_t *w = h->data;
  napi_async_cleanup_hook_handle hook = w->hook;
  w->hook = NULL;
  close(w->fd);
  w->closed = 1;
  if (w->orphaned) watcher_free(w);
  /* Last: this tells Node the teardown may go on, up to unloading this very code. */
  if (hook != NULL) napi_remove_async_cleanup_hook(hook);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  watcher_t *w = data;
  w->orphaned = 1;
  if (w->closed) watcher_free(w);
}

static void watcher_release(watcher_t *w) {
  if (w->stopped) return;
  w->stopped = 1;
  uv_poll_stop(&w->handle);
  napi_async_destroy(w->env, w->context);
  napi_delete_reference(w->env, w->callback);
  napi_delete_reference(w->env, w->resource);
  napi_delete_reference(w->env, w->events);
  uv_close((uv_handle_t *)&w->handle, watcher_on_close);
}

/*
 * An environment torn down with the watcher live (a Worker ending, say). The hook is
 * asynchronous because uv_close completes on a later loop turn: a synchronous hook let Node
 * unload the addon first, and libuv then called watcher_on_close at an unmapped address.
 */
static void watcher_env_cleanup(napi_async_cleanup_hook_handle hook, void *arg) {
  watcher_t *w = arg;
  w->hook = hook;
  watcher_release(w);
}

/* watcher_drain's result when the events array can no longer take a batch. */
#define DRAIN_NO_ARRAY INT32_MIN

/* epoll_wait(0) on libuv's duplicate (the same epoll instance), into the JS array. */
static int32_t watcher_drain(napi_env env, watcher_t *w) {
  napi_value array;
  void *data = NULL;
  size_t length = 0;
  napi_typedarray_type type;
  napi_get_reference_value(env, w->events, &array);
  /* Re-read every time: the array may have been detached (transferred) since watch_start. */
  if (napi_get_typedarray_info(env, array, &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint32_array || length < 2 * (size_t)w->maxevents)
    return DRAIN_NO_ARRAY;
  int n = (int)sys_epoll_wait(w->fd, w->batch, w->maxevents, 0);
  if (n < 0) return -errno;
  uint32_t *out = data;
  for (int i = 0; i < n; i++) {
    out[2 * i] = (uint32_t)w->batch[i].data.fd;
    out[2 * i + 1] = w->batch[i].events;
  }
  return n;
}

static void watcher_on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  watcher_t *w = h->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, resource, argv[2], result;
  size_t argc = 1;
  const char *failed = "uv_poll";
  int32_t n = status;
  if (status >= 0) {
    failed = "epoll_wait";
    n = watcher_drain(env, w);
    if (n == DRAIN_NO_ARRAY) {
      /* Detached or shrunk: the events stay undrained, so polling on would spin. Stop, say so. */
      uv_poll_stop(&w->handle);
      failed = "watch";
      n = -EINVAL;
    }
  }
  napi_get_reference_value(env, w->callback, &cb);
  napi_get_reference_value(env, w->resource, &resource);
  napi_create_int32(env, n, &argv[0]);
  if (n < 0) {
    /* Which call failed, so the listener can raise a Node-style error naming it. */
    napi_create_string_utf8(env, failed, NAPI_AUTO_LENGTH, &argv[1]);
    argc = 2;
  }
  /* make_callback runs nextTick and microtasks after the listener, as Node's own I/O does. */
  napi_status s = napi_make_callback(env, w->context, resource, cb, argc, argv, &result);
  if (s != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

/*
 * watch_start(epfd, events, maxevents, listener) -> handle. On each wake-up, up to maxevents
 * ready events are written to `events` (a Uint32Array, [fd, events] pairs) and the listener
 * gets their count, or (-errno, "uv_poll" | "epoll_wait") when that failed.
 */
static napi_value w_watch_start(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t epfd, maxevents;
  if (!arg_i32(env, argv[0], "epfd", &epfd)) return NULL;
  napi_typedarray_type type;
  size_t length = 0;
  bool is_typedarray = false;
  napi_is_typedarray(env, argv[1], &is_typedarray);
  if (!is_typedarray || napi_get_typedarray_info(env, argv[1], &type, &length, NULL, NULL, NULL) != napi_ok ||
      type != napi_uint32_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"events\" argument must be a Uint32Array");
    return NULL;
  }
  if (!arg_i32(env, argv[2], "maxevents", &maxevents)) return NULL;
  if (maxevents <= 0 || (size_t)maxevents > length / 2 || maxevents > 65536) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                           "maxevents must be positive, at most 65536, and fit in the events array (2 slots each)");
    return NULL;
  }
  napi_valuetype t;
  napi_typeof(env, argv[3], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"listener\" argument must be a function");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, "ERR_ETLT_NO_LOOP", "no libuv loop for this environment");
    return NULL;
  }
  /*
   * libuv polls a private duplicate: closing epfd while it is watched would otherwise make
   * libuv abort() (epoll_ctl EBADF in uv__io_poll when the close comes in the same tick), or
   * leave its watcher on whatever opens next under that number (see uv_poll_init's docs).
   */
  int fd = fcntl(epfd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return num(env, -errno);
  watcher_t *w = calloc(1, sizeof *w);
  if (w != NULL) w->batch = malloc(sizeof(struct epoll_event) * (size_t)maxevents);
  if (w == NULL || w->batch == NULL) {
    close(fd);
    free(w);
    return num(env, -ENOMEM);
  }
  w->maxevents = maxevents;
  int r = uv_poll_init(loop, &w->handle, fd);
  if (r < 0) {
    close(fd);
    watcher_free(w);
    return num(env, r);
  }
  w->handle.data = w;
  w->env = env;
  w->fd = fd;
  napi_value resource, name, handle;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "ETLT_EPOLL_WATCH", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &w->context);
  napi_create_reference(env, resource, 1, &w->resource);
  napi_create_reference(env, argv[1], 1, &w->events);
  napi_create_reference(env, argv[3], 1, &w->callback);
  r = uv_poll_start(&w->handle, UV_READABLE, watcher_on_poll);
  if (r < 0) {
    w->orphaned = 1;
    watcher_release(w);
    return num(env, r);
  }
  if (napi_create_external(env, w, watcher_finalize, NULL, &handle) != napi_ok) {
    w->orphaned = 1;
    watcher_release(w);
    return NULL;
  }
  napi_type_tag_object(env, handle, &watcher_tag);
  napi_add_async_cleanup_hook(env, watcher_env_cleanup, w, &w->hook);
  return handle;
}

static int arg_watcher(napi_env env, napi_value v, watcher_t **w) {
  void *p = NULL;
  bool tagged = false;
  napi_check_object_type_tag(env, v, &watcher_tag, &tagged);
  if (!tagged || napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"handle\" argument must be a watch handle");
    return 0;
  }
  *w = p;
  return 1;
}

/* watch_stop(handle): stops the watcher; safe to call again (a stopped handle does nothing). */
static napi_value w_watch_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  watcher_t *w;
  if (!arg_watcher(env, argv[0], &w)) return NULL;
  if (!w->stopped) {
    if (w->hook != NULL) napi_remove_async_cleanup_hook(w->hook);
    w->hook = NULL;
    watcher_release(w);
  }
  return NULL;
}

/* watch_ref(handle, ref): whether the watcher keeps the process alive. */
static napi_value w_watch_ref(napi_env env, napi_callback_info info) {
  ARGS(2);
  watcher_t *w;
  bool ref = true;
  if (!arg_watcher(env, argv[0], &w)) return NULL;
  if (napi_get_value_bool(env, argv[1], &ref) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"ref\" argument must be a boolean");
    return NULL;
  }
  if (!w->stopped) {
    if (ref) uv_ref((uv_handle_t *)&w->handle);
    else uv_unref((uv_handle_t *)&w->handle);
  }
  return NULL;
}

/* ---- constants, with Linux's values from the system headers ---- */

static void set_const(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_value n;
  /* Masks such as EPOLLET (1u << 31) are exported unsigned, as Linux defines them. */
  napi_create_int64(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

#define C(x) set_const(env, consts, #x, (int64_t)(x))
#define CU(x) set_const(env, consts, #x, (int64_t)(uint32_t)(x))

static napi_value make_constants(napi_env env) {
  napi_value consts;
  napi_create_object(env, &consts);
  CU(EPOLLIN); CU(EPOLLOUT); CU(EPOLLPRI); CU(EPOLLERR); CU(EPOLLHUP); CU(EPOLLRDHUP);
  CU(EPOLLET); CU(EPOLLONESHOT); CU(EPOLLEXCLUSIVE); CU(EPOLLWAKEUP); CU(EPOLLRDNORM);
  CU(EPOLLRDBAND); CU(EPOLLWRNORM); CU(EPOLLWRBAND); CU(EPOLLMSG);
  C(EPOLL_CLOEXEC); C(EPOLL_CTL_ADD); C(EPOLL_CTL_MOD); C(EPOLL_CTL_DEL);
  C(AF_UNSPEC); C(AF_INET); C(AF_INET6); C(AF_UNIX);
  C(SOCK_STREAM); C(SOCK_DGRAM); C(SOCK_RAW); C(SOCK_SEQPACKET); C(SOCK_NONBLOCK); C(SOCK_CLOEXEC);
  C(SOL_SOCKET); C(SO_REUSEADDR); C(SO_REUSEPORT); C(SO_ERROR); C(SO_RCVBUF); C(SO_SNDBUF);
  C(SO_KEEPALIVE); C(SO_LINGER); C(SO_TYPE); C(SO_BROADCAST); C(SO_RCVLOWAT); C(SO_SNDLOWAT);
  C(IPPROTO_IP); C(IPPROTO_TCP); C(IPPROTO_UDP); C(IPPROTO_IPV6); C(TCP_NODELAY); C(TCP_DEFER_ACCEPT); C(TCP_INFO); C(IPV6_V6ONLY);
  C(SHUT_RD); C(SHUT_WR); C(SHUT_RDWR);
  C(MSG_PEEK); C(MSG_DONTWAIT); C(MSG_NOSIGNAL); C(MSG_WAITALL); C(MSG_OOB); C(MSG_TRUNC);
  C(F_GETFL); C(F_SETFL); C(F_GETFD); C(F_SETFD); C(O_NONBLOCK); C(FD_CLOEXEC);
  C(INADDR_ANY); C(SOMAXCONN);
  C(EAGAIN); C(EWOULDBLOCK); C(EINTR); C(EINPROGRESS); C(EALREADY); C(EISCONN); C(ENOTCONN);
  C(ECONNRESET); C(ECONNREFUSED); C(ECONNABORTED); C(EPIPE); C(ETIMEDOUT); C(EHOSTUNREACH);
  C(ENETUNREACH); C(EADDRINUSE); C(EADDRNOTAVAIL); C(EMFILE); C(ENFILE); C(ENOBUFS); C(ENOMEM);
  C(EBADF); C(EEXIST); C(ENOENT); C(EPERM); C(EINVAL); C(ENOTSOCK); C(EOPNOTSUPP); C(EPROTO);
  C(EACCES); C(EFAULT); C(ELOOP); C(ENOSPC);
  set_const(env, consts, "sizeof_sockaddr_storage", sizeof(struct sockaddr_storage));
  set_const(env, consts, "sizeof_sockaddr_un", sizeof(struct sockaddr_un));
  return consts;
}

#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    FN("epoll_create1", w_epoll_create1), FN("epoll_ctl", w_epoll_ctl), FN("epoll_wait", w_epoll_wait),
    FN("socket", w_socket), FN("setsockopt", w_setsockopt), FN("getsockopt", w_getsockopt),
    FN("bind", w_bind), FN("connect", w_connect), FN("listen", w_listen), FN("accept4", w_accept4),
    FN("getsockname", w_getsockname), FN("getpeername", w_getpeername),
    FN("recv", w_recv), FN("send", w_send), FN("shutdown", w_shutdown), FN("close", w_close),
    FN("fcntl", w_fcntl), FN("inet_pton", w_inet_pton), FN("inet_ntop", w_inet_ntop),
    FN("watch_start", w_watch_start), FN("watch_stop", w_watch_stop), FN("watch_ref", w_watch_ref),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value consts = make_constants(env);
  napi_set_named_property(env, exports, "constants", consts);
  return exports;
}
