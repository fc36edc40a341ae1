/* Datagram wrappers: sendto(2) and recvfrom(2) with an address, the contract in etlt.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "args.h"
#include "etlt.h"

/* sendto(fd, buffer, offset, length, flags, address): the address as encoded sockaddr bytes. */
napi_value w_sendto(napi_env env, napi_callback_info info) {
  ARGS(6);
  int32_t fd, flags;
  uint8_t *p, *sa;
  size_t n, salen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_slice(env, argv + 1, "buffer", &p, &n) ||
      !arg_i32(env, argv[4], "flags", &flags) || !arg_bytes(env, argv[5], "address", &sa, &salen))
    return NULL;
  ssize_t r = sendto(fd, p, n, flags, (struct sockaddr *)sa, (socklen_t)salen);
  return num(env, r < 0 ? -errno : r);
}

/*
 * recvfrom(fd, buffer, offset, length, flags, address, addrlen): the sender's sockaddr into
 * `address` (sockaddr_storage bytes), its length into addrlen[0] (an Int32Array).
 */
napi_value w_recvfrom(napi_env env, napi_callback_info info) {
  ARGS(7);
  int32_t fd, flags;
  uint8_t *p, *sa, *lenp;
  size_t n, salen, lenlen;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_slice(env, argv + 1, "buffer", &p, &n) ||
      !arg_i32(env, argv[4], "flags", &flags) || !arg_bytes(env, argv[5], "address", &sa, &salen) ||
      !arg_bytes(env, argv[6], "addrlen", &lenp, &lenlen))
    return NULL;
  if (salen < sizeof(struct sockaddr_storage) || lenlen < sizeof(int32_t)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "address must hold a sockaddr_storage, addrlen an int32");
    return NULL;
  }
  socklen_t len = sizeof(struct sockaddr_storage);
  ssize_t r = recvfrom(fd, p, n, flags, (struct sockaddr *)sa, &len);
  if (r < 0) return num(env, -errno);
  int32_t out = (int32_t)len;
  memcpy(lenp, &out, sizeof out);
  return num(env, r);
}
