/*
 * The file wrappers a static file server needs: openat(2), openat2(2), fstat(2) and
 * sendfile(2). The contract of etlt.h: the syscall, its arguments in order, its result or
 * -errno; never a throw for a failed syscall (all four are on the hot path of a request).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"
#include "etlt.h"

/*
 * A path argument, as UTF-8 in `buf` (PATH_MAX bytes). 0 with a TypeError for a non-string;
 * -ENAMETOOLONG for one the kernel would refuse as too long; -EINVAL for an embedded NUL,
 * which would cut the path short at the kernel's door ("a\0/../x" must not open "a").
 */
static int arg_path(napi_env env, napi_value v, char *buf) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, PATH_MAX, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"path\" argument must be a string");
    return 0;
  }
  if (len >= PATH_MAX - 1) return -ENAMETOOLONG;
  if (strlen(buf) != len) return -EINVAL;
  return 1;
}

/* openat(dirfd, path, flags, mode) */
napi_value w_openat(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t dirfd, flags, mode;
  char path[PATH_MAX];
  if (!arg_i32(env, argv[0], "dirfd", &dirfd)) return NULL;
  int ok = arg_path(env, argv[1], path);
  if (ok == 0) return NULL;
  if (!arg_i32(env, argv[2], "flags", &flags) || !arg_i32(env, argv[3], "mode", &mode)) return NULL;
  if (ok < 0) return num(env, ok);
  int r = (int)syscall(SYS_openat, dirfd, path, flags, (mode_t)mode);
  return fd_result(env, r);
}

/*
 * openat2(dirfd, path, flags, mode, resolve): struct open_how's three fields as arguments.
 * -ENOSYS before Linux 5.6.
 */
napi_value w_openat2(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t dirfd, flags, mode;
  uint32_t resolve;
  char path[PATH_MAX];
  if (!arg_i32(env, argv[0], "dirfd", &dirfd)) return NULL;
  int ok = arg_path(env, argv[1], path);
  if (ok == 0) return NULL;
  if (!arg_i32(env, argv[2], "flags", &flags) || !arg_i32(env, argv[3], "mode", &mode) ||
      !arg_u32(env, argv[4], "resolve", &resolve))
    return NULL;
  if (ok < 0) return num(env, ok);
#ifdef SYS_openat2
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(uint32_t)flags;
  how.mode = (uint64_t)(uint32_t)mode;
  how.resolve = resolve;
  int r = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  return fd_result(env, r);
#else
  return num(env, -ENOSYS);
#endif
}

/* Slots fstat fills in its Float64Array: the fields a file server uses. */
enum { ST_MODE, ST_SIZE, ST_MTIME_SEC, ST_MTIME_NSEC, ST_INO, ST_DEV, ST_SLOTS };

/*
 * fstat(fd, out): `out` is a caller-owned Float64Array of at least 6 slots, receiving
 * [st_mode, st_size, st_mtim.tv_sec, st_mtim.tv_nsec, st_ino, st_dev] (doubles hold them
 * exactly up to 2**53), so a request's stat allocates nothing.
 */
napi_value w_fstat(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (!arg_i32(env, argv[0], "fd", &fd)) return NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"out\" argument must be a Float64Array");
    return NULL;
  }
  if (length < ST_SLOTS) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "The \"out\" argument must hold 6 slots");
    return NULL;
  }
  struct stat st;
  int r = (int)syscall(SYS_fstat, fd, &st);
  if (r < 0) return num(env, -errno);
  double v[ST_SLOTS] = {(double)st.st_mode,         (double)st.st_size, (double)st.st_mtim.tv_sec,
                        (double)st.st_mtim.tv_nsec, (double)st.st_ino,  (double)st.st_dev};
  /* memcpy: a Float64Array may sit at any byteOffset of its buffer. */
  memcpy(data, v, sizeof v);
  return num(env, 0);
}

/*
 * sendfile(out_fd, in_fd, offset, count): sends `count` bytes of in_fd from `offset` (the
 * file position is neither used nor moved); returns the bytes sent (0: offset at or past
 * the end of the file) or -errno. offset is an integer up to 2**53.
 */
napi_value w_sendfile(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t out_fd, in_fd;
  int64_t offset;
  uint32_t count;
  if (!arg_i32(env, argv[0], "out_fd", &out_fd) || !arg_i32(env, argv[1], "in_fd", &in_fd) ||
      !arg_i64(env, argv[2], "offset", 0, &offset) || !arg_u32(env, argv[3], "count", &count))
    return NULL;
  off_t off = (off_t)offset;
  ssize_t r = syscall(SYS_sendfile, out_fd, in_fd, &off, (size_t)count);
  return num(env, r < 0 ? -errno : r);
}
