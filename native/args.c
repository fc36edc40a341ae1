/* ---- argument helpers: throw TypeError/RangeError naming the argument ---- */
#include "args.h"

#include <stdbool.h>
#include <stdio.h>

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
    snprintf(msg, sizeof msg, "The value of \"%s\" is out of range. It must be an integer >= %.0f and <= %.0f", name,
             min, max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return 0;
  }
  return 1;
}

int arg_i32(napi_env env, napi_value v, const char *name, int32_t *out) {
  double d;
  if (!arg_int(env, v, name, INT32_MIN, INT32_MAX, &d)) return 0;
  *out = (int32_t)d;
  return 1;
}

int arg_i64(napi_env env, napi_value v, const char *name, int64_t min, int64_t *out) {
  double d;
  if (!arg_int(env, v, name, (double)min, 9007199254740992.0, &d)) return 0;
  *out = (int64_t)d;
  return 1;
}

/* A 32-bit mask, signed or unsigned: EPOLLIN | EPOLLET is negative in JavaScript. */
int arg_u32(napi_env env, napi_value v, const char *name, uint32_t *out) {
  double d;
  if (!arg_int(env, v, name, INT32_MIN, UINT32_MAX, &d)) return 0;
  *out = (uint32_t)(int64_t)d;
  return 1;
}

/* Any TypedArray (Buffer included): one N-API call, as measured cheapest. 0 (no throw) if not one. */
static int typedarray_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  size_t length;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, NULL, NULL) != napi_ok) return 0;
  size_t elem = 1;
  switch (type) {
    /* clang-format off */
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    /* clang-format on */
    default: break;
  }
  *data = ptr;
  *len = length * elem;
  return 1;
}

int arg_bytes(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len) {
  if (typedarray_bytes(env, v, data, len)) return 1;
  char msg[96];
  snprintf(msg, sizeof msg, "The \"%s\" argument must be a Buffer or TypedArray", name);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return 0;
}

/* A JS array (not a TypedArray, not a Proxy), and its length. */
int arg_array(napi_env env, napi_value v, const char *name, uint32_t *length) {
  bool is_array = false;
  if (napi_is_array(env, v, &is_array) == napi_ok && is_array && napi_get_array_length(env, v, length) == napi_ok)
    return 1;
  char msg[96];
  snprintf(msg, sizeof msg, "The \"%s\" argument must be an array of Buffers or TypedArrays", name);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return 0;
}

/*
 * array[0..count) as iovecs, `values` holding count napi_values meanwhile. Two passes:
 * reading an element can run JS (a getter, or a hole that reaches Array.prototype), which may
 * detach or shrink a buffer read before it; so every element is read first, and pointers are
 * taken after, with no JS left to run before the syscall. A getter's exception goes through.
 */
int arg_iovecs(napi_env env, napi_value array, const char *name, uint32_t count, struct iovec *iov,
               napi_value *values) {
  uint32_t i;
  for (i = 0; i < count; i++)
    if (napi_get_element(env, array, i, &values[i]) != napi_ok) break;
  if (i == count) {
    for (i = 0; i < count; i++) {
      uint8_t *data;
      size_t len;
      if (!typedarray_bytes(env, values[i], &data, &len)) break;
      iov[i].iov_base = data;
      iov[i].iov_len = len;
    }
    if (i == count) return 1;
  }
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    char msg[96];
    snprintf(msg, sizeof msg, "The \"%s[%u]\" argument must be a Buffer or TypedArray", name, (unsigned)i);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  }
  return 0;
}

int arg_fd_pair(napi_env env, napi_value v, const char *name, uint8_t **out) {
  size_t len;
  if (!arg_bytes(env, v, name, out, &len)) return 0;
  if (len < 2 * sizeof(int32_t)) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s must hold two int32 fds", name);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return 0;
  }
  return 1;
}

/* An [offset, offset+length) slice of a buffer, checked so the kernel stays inside it. */
int arg_slice(napi_env env, napi_value *argv, const char *name, uint8_t **p, size_t *n) {
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

napi_value num(napi_env env, int64_t v) {
  napi_value out;
  /* Nearly every result fits: an int32 becomes a small integer without a heap number check. */
  if (v >= INT32_MIN && v <= INT32_MAX) napi_create_int32(env, (int32_t)v, &out);
  else napi_create_int64(env, v, &out);
  return out;
}
