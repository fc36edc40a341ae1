/*
 * ioctl(2) for the requests whose argument is an int the kernel fills in: SIOCOUTQ (bytes
 * a socket has sent but the peer has not acknowledged yet: the server watches it shrink to
 * tell a slow reader from a stalled one), SIOCOUTQNSD (of those, the bytes not sent yet),
 * SIOCINQ (bytes waiting to be read). The contract of etlt.h: the value, or -errno, never
 * a throw for a failed syscall. Only these requests: the kernel writes through the pointer
 * as much as the request says, and another request could write past the int.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "args.h"
#include "etlt.h"

/* ioctl_int(fd, request): the int the request reports, or -errno. */
napi_value w_ioctl_int(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  uint32_t request;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_u32(env, argv[1], "request", &request)) return NULL;
  if (request != SIOCOUTQ && request != SIOCOUTQNSD && request != SIOCINQ) return num(env, -EINVAL);
  int value = 0;
  int r = ioctl(fd, (unsigned long)request, &value);
  return num(env, r < 0 ? -errno : value);
}
