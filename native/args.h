/* ---- argument helpers: throw TypeError/RangeError naming the argument ---- */
#ifndef ETLT_ARGS_H
#define ETLT_ARGS_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define RET_ERRNO(r) ((r) < 0 ? -errno : (r))

/* An int32: a number that is an integer in [INT32_MIN, INT32_MAX] (see arg_int in args.c). */
int arg_i32(napi_env env, napi_value v, const char *name, int32_t *out);
/* An integer in [min, 2**53]: a count of microseconds, say. */
int arg_i64(napi_env env, napi_value v, const char *name, int64_t min, int64_t *out);
/* A uint32 mask, also accepted as the negative int32 of the same bits. */
int arg_u32(napi_env env, napi_value v, const char *name, uint32_t *out);
/* Any TypedArray (Buffer included), as a pointer and a length in bytes. */
int arg_bytes(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len);
/* A TypedArray with room for two int32 fds (pipe2's and socketpair's result). */
int arg_fd_pair(napi_env env, napi_value v, const char *name, uint8_t **out);
/* A JS array, and its length. */
int arg_array(napi_env env, napi_value v, const char *name, uint32_t *length);
/* array[0..count) as iovecs: TypedArrays, named as name[i] when one is not (see args.c). */
int arg_iovecs(napi_env env, napi_value array, const char *name, uint32_t count, struct iovec *iov, napi_value *values);
/* argv[0..2] as a buffer, an offset and a length, checked so the kernel stays inside the buffer. */
int arg_slice(napi_env env, napi_value *argv, const char *name, uint8_t **p, size_t *n);
/* A syscall's result as a JS number. */
napi_value num(napi_env env, int64_t v);

#define ARGS(n)                                         \
  size_t argc = (n);                                    \
  napi_value argv[(n) > 0 ? (n) : 1];                   \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL); \
  for (size_t i_ = argc; i_ < (n); i_++) napi_get_undefined(env, &argv[i_]);

#endif
