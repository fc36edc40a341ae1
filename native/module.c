/* The module: registers the wrappers of syscalls.c and watch.c, and the constants. */
#include "etlt.h"

/* clang-format off */
#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    FN("epoll_create1", w_epoll_create1), FN("epoll_ctl", w_epoll_ctl), FN("epoll_wait", w_epoll_wait),
    FN("socket", w_socket), FN("setsockopt", w_setsockopt), FN("getsockopt", w_getsockopt),
    FN("bind", w_bind), FN("connect", w_connect), FN("listen", w_listen), FN("accept4", w_accept4),
    FN("getsockname", w_getsockname), FN("getpeername", w_getpeername),
    FN("recv", w_recv), FN("send", w_send), FN("sendmsg", w_sendmsg), FN("shutdown", w_shutdown), FN("close", w_close),
    FN("fcntl", w_fcntl), FN("inet_pton", w_inet_pton), FN("inet_ntop", w_inet_ntop),
    FN("poll", w_poll), FN("select", w_select), FN("socketpair", w_socketpair),
    FN("openat", w_openat), FN("openat2", w_openat2), FN("fstat", w_fstat), FN("sendfile", w_sendfile),
    FN("ioctl_int", w_ioctl_int),
    FN("watch_start", w_watch_start), FN("watch_stop", w_watch_stop), FN("watch_ref", w_watch_ref),
    FN("turn_start", w_turn_start), FN("turn_stop", w_turn_stop), FN("turn_ref", w_turn_ref),
    FN("io_uring_setup", w_io_uring_setup), FN("io_uring_enter", w_io_uring_enter),
    FN("io_uring_register", w_io_uring_register), FN("mmap", w_mmap),
    FN("address_of", w_address_of),
    FN("uv_backend_fd", w_uv_backend_fd), FN("uv_backend_timeout", w_uv_backend_timeout),
    FN("pipe2", w_pipe2), FN("eventfd", w_eventfd), FN("timerfd_create", w_timerfd_create),
    FN("timerfd_settime", w_timerfd_settime), FN("timerfd_gettime", w_timerfd_gettime),
    FN("read", w_read), FN("write", w_write), FN("sendto", w_sendto), FN("recvfrom", w_recvfrom),
    FN("fd_forget", w_fd_forget), FN("gpio_v2_get_line", w_gpio_v2_get_line), FN("fd_adopt", w_fd_adopt),
  };
  /* clang-format on */
  fd_table_init(env);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value consts = make_constants(env);
  napi_set_named_property(env, exports, "constants", consts);
  return exports;
}
