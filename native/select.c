/*
 * select(2) and poll(2): the fd sets and the pollfd array live in caller-owned buffers,
 * which the kernel reads and rewrites in place, so a loop polls without allocating.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "args.h"
#include "etlt.h"

/*
 * Through syscall(2) where the architecture has the call (x86-64 does; arm64 has only
 * ppoll and pselect6, reached through libc), for the reason given in sys.h.
 */
#ifdef SYS_poll
#define sys_poll(fds, nfds, timeout) syscall(SYS_poll, (fds), (nfds), (timeout))
#else
#define sys_poll poll
#endif
#ifdef SYS_select
#define sys_select(n, r, w, x, tv) syscall(SYS_select, (n), (r), (w), (x), (tv))
#else
#define sys_select select
#endif

/* A TypedArray of at least `need` bytes, or null/undefined for none (*data = NULL). */
static int arg_optional_bytes(napi_env env, napi_value v, const char *name, size_t need, uint8_t **data) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    *data = NULL;
    return 1;
  }
  size_t len;
  if (!arg_bytes(env, v, name, data, &len)) return 0;
  if (len < need) {
    char msg[160];
    snprintf(msg, sizeof msg, "The \"%s\" buffer is too small: the kernel reads and writes %zu bytes, it has %zu", name,
             need, len);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return 0;
  }
  return 1;
}

/*
 * poll(fds, nfds, timeout): `fds` holds nfds struct pollfd of 8 bytes each (int fd, short
 * events, short revents); the kernel writes each revents in place. Negative timeout: forever.
 */
napi_value w_poll(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t nfds, timeout;
  uint8_t *fds;
  if (!arg_i32(env, argv[1], "nfds", &nfds) || !arg_i32(env, argv[2], "timeout", &timeout)) return NULL;
  if (nfds < 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "The value of \"nfds\" is out of range. It must be >= 0");
    return NULL;
  }
  if (!arg_optional_bytes(env, argv[0], "fds", (size_t)nfds * sizeof(struct pollfd), &fds)) return NULL;
  if (fds == NULL && nfds > 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"fds\" argument must be a Buffer or TypedArray");
    return NULL;
  }
  int r = (int)sys_poll((struct pollfd *)fds, (nfds_t)nfds, timeout);
  return num(env, RET_ERRNO(r));
}

/*
 * select(nfds, readfds, writefds, exceptfds, timeoutUs): each set is null or a buffer laid
 * out as the kernel's fd_set (bit fd % NFDBITS of the unsigned long fd / NFDBITS), holding
 * at least nfds bits rounded up to whole longs, which is all the kernel touches. The
 * kernel has no FD_SETSIZE limit when the buffers are that big; Python's select() has
 * one, and the TypeScript layer keeps it. timeoutUs: microseconds, or -1 to block.
 */
napi_value w_select(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t nfds;
  int64_t us;
  uint8_t *r, *w, *x;
  if (!arg_i32(env, argv[0], "nfds", &nfds)) return NULL;
  const size_t bits = 8 * sizeof(unsigned long);
  size_t need = nfds > 0 ? ((size_t)nfds + bits - 1) / bits * sizeof(unsigned long) : 0;
  if (!arg_optional_bytes(env, argv[1], "readfds", need, &r) ||
      !arg_optional_bytes(env, argv[2], "writefds", need, &w) ||
      !arg_optional_bytes(env, argv[3], "exceptfds", need, &x) || !arg_i64(env, argv[4], "timeoutUs", -1, &us))
    return NULL;
  struct timeval tv, *tvp = NULL;
  if (us >= 0) {
    tv.tv_sec = (time_t)(us / 1000000);
    tv.tv_usec = (suseconds_t)(us % 1000000);
    tvp = &tv;
  }
  int n = (int)sys_select(nfds, (fd_set *)r, (fd_set *)w, (fd_set *)x, tvp);
  return num(env, RET_ERRNO(n));
}
