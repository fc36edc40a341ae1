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
 * No threads, no globals: the state is the per-handle structs (handle.h: owned by their JS
 * handle and libuv) and each environment's table of the fds it opened (fdtable.c), so the
 * addon is context-aware: the main thread and every Worker have their own.
 *
 * Layout: args.c (argument and result helpers), syscalls.c (the wrappers), select.c (the
 * select and poll wrappers), files.c (the file wrappers), os.c (pipe2, eventfd, timerfd,
 * read, write), dgram.c (sendto, recvfrom), fdtable.c (the fds an environment opened),
 * handle.c (the lifecycle of libuv-backed handles), uring.c (io_uring and its mappings),
 * watch.c (the uv_poll watcher), turn.c (the loop hook),
 * constants.c (the constants object), module.c (registers them all).
 * This header declares what each file gives module.c; everything else stays static.
 */
#ifndef ETLT_H
#define ETLT_H

#include <node_api.h>
#include <stdint.h>

/* syscalls.c */
napi_value w_epoll_create1(napi_env env, napi_callback_info info);
napi_value w_epoll_ctl(napi_env env, napi_callback_info info);
napi_value w_epoll_wait(napi_env env, napi_callback_info info);
napi_value w_socket(napi_env env, napi_callback_info info);
napi_value w_socketpair(napi_env env, napi_callback_info info);
napi_value w_setsockopt(napi_env env, napi_callback_info info);
napi_value w_getsockopt(napi_env env, napi_callback_info info);
napi_value w_bind(napi_env env, napi_callback_info info);
napi_value w_connect(napi_env env, napi_callback_info info);
napi_value w_listen(napi_env env, napi_callback_info info);
napi_value w_accept4(napi_env env, napi_callback_info info);
napi_value w_getsockname(napi_env env, napi_callback_info info);
napi_value w_getpeername(napi_env env, napi_callback_info info);
napi_value w_recv(napi_env env, napi_callback_info info);
napi_value w_send(napi_env env, napi_callback_info info);
napi_value w_sendmsg(napi_env env, napi_callback_info info);
napi_value w_shutdown(napi_env env, napi_callback_info info);
napi_value w_close(napi_env env, napi_callback_info info);
napi_value w_fcntl(napi_env env, napi_callback_info info);
napi_value w_inet_pton(napi_env env, napi_callback_info info);
napi_value w_inet_ntop(napi_env env, napi_callback_info info);

/* select.c */
napi_value w_poll(napi_env env, napi_callback_info info);
napi_value w_select(napi_env env, napi_callback_info info);

/* files.c */
napi_value w_openat(napi_env env, napi_callback_info info);
napi_value w_openat2(napi_env env, napi_callback_info info);
napi_value w_fstat(napi_env env, napi_callback_info info);
napi_value w_sendfile(napi_env env, napi_callback_info info);

/* ioctl.c */
napi_value w_ioctl_int(napi_env env, napi_callback_info info);

/* watch.c */
napi_value w_watch_start(napi_env env, napi_callback_info info);
napi_value w_watch_stop(napi_env env, napi_callback_info info);
napi_value w_watch_ref(napi_env env, napi_callback_info info);

/* turn.c */
napi_value w_turn_start(napi_env env, napi_callback_info info);
napi_value w_turn_stop(napi_env env, napi_callback_info info);
napi_value w_turn_ref(napi_env env, napi_callback_info info);
napi_value w_uv_backend_fd(napi_env env, napi_callback_info info);
napi_value w_uv_backend_timeout(napi_env env, napi_callback_info info);

/* os.c */
napi_value w_pipe2(napi_env env, napi_callback_info info);
napi_value w_eventfd(napi_env env, napi_callback_info info);
napi_value w_timerfd_create(napi_env env, napi_callback_info info);
napi_value w_timerfd_settime(napi_env env, napi_callback_info info);
napi_value w_timerfd_gettime(napi_env env, napi_callback_info info);
napi_value w_read(napi_env env, napi_callback_info info);
napi_value w_write(napi_env env, napi_callback_info info);

/* gpio.c */
napi_value w_gpio_v2_get_line(napi_env env, napi_callback_info info);

/* dgram.c */
napi_value w_sendto(napi_env env, napi_callback_info info);
napi_value w_recvfrom(napi_env env, napi_callback_info info);

/* fdtable.c: the fds each environment opened, closed at its teardown (a Worker's end) */
void fd_table_init(napi_env env);
void fd_track(napi_env env, int fd);
void fd_untrack(napi_env env, int fd);
/* A syscall's new fd (tracked) or -errno, as a JS number. */
napi_value fd_result(napi_env env, int r);
/* Two new fds (pipe2, socketpair) into `out` (from arg_fd_pair), tracked; 0, or -errno. */
napi_value fd_pair_result(napi_env env, int r, const int fds[2], uint8_t *out);
napi_value w_fd_forget(napi_env env, napi_callback_info info);
napi_value w_fd_adopt(napi_env env, napi_callback_info info);
/* uring.c */
napi_value w_io_uring_setup(napi_env env, napi_callback_info info);
napi_value w_io_uring_enter(napi_env env, napi_callback_info info);
napi_value w_io_uring_register(napi_env env, napi_callback_info info);
napi_value w_mmap(napi_env env, napi_callback_info info);
napi_value w_address_of(napi_env env, napi_callback_info info);

/* constants.c */
napi_value make_constants(napi_env env);

#endif
