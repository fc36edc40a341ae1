/*
 * The GPIO character device's line request: ioctl(chipfd, GPIO_V2_GET_LINE_IOCTL). The
 * sysfs GPIO interface the npm `epoll` package's examples use is gone from current kernels
 * and distributions; a line requested from /dev/gpiochipN with edge detection is an fd that
 * epoll reports readable (EPOLLIN) when an edge event is queued, each read of it giving
 * struct gpio_v2_line_event records. The contract of etlt.h: the new fd, or -errno.
 */
#include <errno.h>
#include <linux/gpio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "args.h"
#include "etlt.h"

/*
 * gpio_v2_get_line(chipfd, offsets, consumer, flags): requests the lines at `offsets` (a
 * Uint32Array of 1 to 64 line numbers) with the GPIO_V2_LINE_FLAG_* bits in `flags`, named
 * `consumer` (at most 31 bytes; longer is cut, as the kernel would). Returns the line fd.
 */
napi_value w_gpio_v2_get_line(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t chipfd;
  uint8_t *data;
  size_t len;
  int64_t flags;
  if (!arg_i32(env, argv[0], "chipfd", &chipfd) || !arg_bytes(env, argv[1], "offsets", &data, &len) ||
      !arg_i64(env, argv[3], "flags", 0, &flags))
    return NULL;
  if (len == 0 || len % 4 != 0 || len / 4 > GPIO_V2_LINES_MAX) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "offsets must hold 1 to 64 uint32 line offsets");
    return NULL;
  }
  struct gpio_v2_line_request req;
  memset(&req, 0, sizeof req);
  memcpy(req.offsets, data, len);
  req.num_lines = (uint32_t)(len / 4);
  req.config.flags = (uint64_t)flags;
  size_t copied = 0;
  if (napi_get_value_string_utf8(env, argv[2], req.consumer, sizeof req.consumer, &copied) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"consumer\" argument must be a string");
    return NULL;
  }
  int r = ioctl(chipfd, GPIO_V2_GET_LINE_IOCTL, &req);
  return fd_result(env, r < 0 ? r : req.fd);
}
