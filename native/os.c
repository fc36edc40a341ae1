/*
 * The fd wrappers of Python's os module: pipe2(2), eventfd(2), the timerfd_* calls, read(2)
 * and write(2). The contract in etlt.h: the syscall's result or -errno, never a throw for a
 * failed call. Each fd they open is tracked for the environment (fdtable.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "args.h"
#include "etlt.h"

/* pipe2(flags, fds): the read end lands in fds[0], the write end in fds[1] (an Int32Array). */
napi_value w_pipe2(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t flags;
  uint8_t *out;
  if (!arg_i32(env, argv[0], "flags", &flags) || !arg_fd_pair(env, argv[1], "fds", &out)) return NULL;
  int fds[2];
  int r = pipe2(fds, flags);
  return fd_pair_result(env, r, fds, out);
}

/* eventfd(initval, flags) */
napi_value w_eventfd(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t initval;
  int32_t flags;
  if (!arg_i64(env, argv[0], "initval", 0, &initval) || !arg_i32(env, argv[1], "flags", &flags)) return NULL;
  if (initval > UINT32_MAX) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "initval must be an unsigned 32-bit integer");
    return NULL;
  }
  int fd = eventfd((unsigned int)initval, flags);
  if (fd < 0) return num(env, -errno);
  fd_track(env, fd);
  return num(env, fd);
}

/* timerfd_create(clockid, flags) */
napi_value w_timerfd_create(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t clockid, flags;
  if (!arg_i32(env, argv[0], "clockid", &clockid) || !arg_i32(env, argv[1], "flags", &flags)) return NULL;
  int fd = timerfd_create(clockid, flags);
  if (fd < 0) return num(env, -errno);
  fd_track(env, fd);
  return num(env, fd);
}

/*
 * A struct itimerspec as a BigInt64Array of 4: it_value's tv_sec and tv_nsec, then
 * it_interval's. BigInt: an absolute CLOCK_REALTIME time in nanoseconds is beyond 2**53.
 */
static int arg_spec(napi_env env, napi_value v, const char *name, int64_t **out) {
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  bool is_typedarray = false;
  napi_is_typedarray(env, v, &is_typedarray);
  if (!is_typedarray || napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_bigint64_array || length < 4) {
    char msg[96];
    snprintf(msg, sizeof msg, "The \"%s\" argument must be a BigInt64Array of 4", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  *out = data;
  return 1;
}

static void spec_out(const struct itimerspec *its, int64_t *out) {
  out[0] = its->it_value.tv_sec;
  out[1] = its->it_value.tv_nsec;
  out[2] = its->it_interval.tv_sec;
  out[3] = its->it_interval.tv_nsec;
}

/* timerfd_settime(fd, flags, spec, old): the new itimerspec from `spec`, the old one into `old`. */
napi_value w_timerfd_settime(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, flags;
  int64_t *spec, *old;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "flags", &flags) ||
      !arg_spec(env, argv[2], "spec", &spec) || !arg_spec(env, argv[3], "old", &old))
    return NULL;
  struct itimerspec next, prev;
  next.it_value.tv_sec = (time_t)spec[0];
  next.it_value.tv_nsec = (long)spec[1];
  next.it_interval.tv_sec = (time_t)spec[2];
  next.it_interval.tv_nsec = (long)spec[3];
  int r = timerfd_settime(fd, flags, &next, &prev);
  if (r < 0) return num(env, -errno);
  spec_out(&prev, old);
  return num(env, 0);
}

/* timerfd_gettime(fd, out) */
napi_value w_timerfd_gettime(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  int64_t *out;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_spec(env, argv[1], "out", &out)) return NULL;
  struct itimerspec its;
  int r = timerfd_gettime(fd, &its);
  if (r < 0) return num(env, -errno);
  spec_out(&its, out);
  return num(env, 0);
}

/* read(fd, buffer, offset, length) */
napi_value w_read(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd;
  uint8_t *p;
  size_t n;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_slice(env, argv + 1, "buffer", &p, &n)) return NULL;
  ssize_t r = read(fd, p, n);
  return num(env, r < 0 ? -errno : r);
}

/* write(fd, buffer, offset, length) */
napi_value w_write(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd;
  uint8_t *p;
  size_t n;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_slice(env, argv + 1, "buffer", &p, &n)) return NULL;
  ssize_t r = write(fd, p, n);
  return num(env, r < 0 ? -errno : r);
}
