/* ---- an epoll fd watched by libuv (uv_poll), so it runs on Node's own loop ---- */

#define _GNU_SOURCE
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "args.h"
#include "etlt.h"
#include "handle.h"
#include "sys.h"

/*
 * No helper thread: libuv's own epoll watches our epoll fd, which is readable exactly while
 * our set has ready events. On each wake-up we drain one batch with a zero-timeout
 * epoll_wait into the caller's array and call the JS listener with the count: the wake-up
 * and its first wait cost one crossing into JS instead of two. If maxevents was reached,
 * the fd stays readable and libuv wakes us again on the next loop turn, after timers and
 * I/O had a turn.
 */
typedef struct {
  etlt_handle_t base; /* first: the uv handle's data points here (see handle.h) */
  uv_poll_t handle;
  napi_ref events;           /* the JS TypedArray each batch is copied into, as [fd, events] pairs */
  struct epoll_event *batch; /* maxevents entries, for the kernel to write into */
  int maxevents;
  int fd; /* libuv's own duplicate of epfd, closed once uv_close is done with it */
} watcher_t;

/* Marks our externals, so watch_stop/watch_ref refuse another addon's external. */
static const napi_type_tag watcher_tag = {0x9c1e0f5a6b3d4e21ULL, 0x7f02d8c4a5b61e93ULL};

static void watcher_destroy(etlt_handle_t *h) {
  watcher_t *w = (watcher_t *)h;
  free(w->batch);
  free(w);
}

static void watcher_close_uv(etlt_handle_t *h) {
  watcher_t *w = (watcher_t *)h;
  uv_poll_stop(&w->handle);
  if (w->events != NULL) napi_delete_reference(h->env, w->events);
  w->events = NULL;
  uv_close((uv_handle_t *)&w->handle, handle_on_close);
}

static void watcher_on_closed(etlt_handle_t *h) {
  close(((watcher_t *)h)->fd);
}

/* watcher_drain's result when the events array can no longer take a batch. */
#define DRAIN_NO_ARRAY INT32_MIN

/* epoll_wait(0) on libuv's duplicate (the same epoll instance), into the JS array. */
static int32_t watcher_drain(napi_env env, watcher_t *w) {
  napi_value array = NULL;
  void *data = NULL;
  size_t length = 0;
  napi_typedarray_type type;
  napi_get_reference_value(env, w->events, &array);
  /* Re-read every time: the array may have been detached (transferred) since watch_start. */
  if (napi_get_typedarray_info(env, array, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint32_array ||
      length < 2 * (size_t)w->maxevents)
    return DRAIN_NO_ARRAY;
  int n = (int)sys_epoll_wait(w->fd, w->batch, w->maxevents, 0);
  if (n < 0) return -errno;
  uint32_t *out = data;
  for (int i = 0; i < n; i++) {
    out[2 * i] = (uint32_t)w->batch[i].data.fd;
    out[2 * i + 1] = w->batch[i].events;
  }
  return n;
}

static void watcher_on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  watcher_t *w = (watcher_t *)h->data;
  napi_env env = w->base.env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[2];
  size_t argc = 1;
  const char *failed = "uv_poll";
  int32_t n = status;
  if (status >= 0) {
    failed = "epoll_wait";
    n = watcher_drain(env, w);
    if (n == DRAIN_NO_ARRAY) {
      /* Detached or shrunk: the events stay undrained, so polling on would spin. Stop, say so. */
      uv_poll_stop(&w->handle);
      failed = "watch";
      n = -EINVAL;
    }
  }
  napi_create_int32(env, n, &argv[0]);
  if (n < 0) {
    /* Which call failed, so the listener can raise a Node-style error naming it. */
    napi_create_string_utf8(env, failed, NAPI_AUTO_LENGTH, &argv[1]);
    argc = 2;
  }
  handle_call(&w->base, argc, argv);
  napi_close_handle_scope(env, scope);
}

/*
 * watch_start(epfd, events, maxevents, listener) -> handle. On each wake-up, up to maxevents
 * ready events are written to `events` (a Uint32Array, [fd, events] pairs) and the listener
 * gets their count, or (-errno, "uv_poll" | "epoll_wait") when that failed.
 */
napi_value w_watch_start(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t epfd, maxevents;
  if (!arg_i32(env, argv[0], "epfd", &epfd)) return NULL;
  napi_typedarray_type type;
  size_t length = 0;
  bool is_typedarray = false;
  napi_is_typedarray(env, argv[1], &is_typedarray);
  if (!is_typedarray || napi_get_typedarray_info(env, argv[1], &type, &length, NULL, NULL, NULL) != napi_ok ||
      type != napi_uint32_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"events\" argument must be a Uint32Array");
    return NULL;
  }
  if (!arg_i32(env, argv[2], "maxevents", &maxevents)) return NULL;
  if (maxevents <= 0 || (size_t)maxevents > length / 2 || maxevents > 65536) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                           "maxevents must be positive, at most 65536, and fit in the events array (2 slots each)");
    return NULL;
  }
  napi_valuetype t;
  napi_typeof(env, argv[3], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"listener\" argument must be a function");
    return NULL;
  }
  uv_loop_t *loop = handle_loop(env);
  if (loop == NULL) return NULL;
  /*
   * libuv polls a private duplicate: closing epfd while it is watched would otherwise make
   * libuv abort() (epoll_ctl EBADF in uv__io_poll when the close comes in the same tick), or
   * leave its watcher on whatever opens next under that number (see uv_poll_init's docs).
   */
  int fd = fcntl(epfd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return num(env, -errno);
  watcher_t *w = calloc(1, sizeof *w);
  if (w != NULL) w->batch = malloc(sizeof(struct epoll_event) * (size_t)maxevents);
  if (w == NULL || w->batch == NULL) {
    close(fd);
    if (w != NULL) free(w->batch);
    free(w);
    return num(env, -ENOMEM);
  }
  w->maxevents = maxevents;
  int r = uv_poll_init(loop, &w->handle, fd);
  if (r < 0) {
    close(fd);
    watcher_destroy(&w->base);
    return num(env, r);
  }
  w->handle.data = &w->base;
  w->fd = fd;
  w->base.open = 1;
  w->base.keepalive = (uv_handle_t *)&w->handle;
  w->base.close_uv = watcher_close_uv;
  w->base.on_closed = watcher_on_closed;
  w->base.destroy = watcher_destroy;
  if (!handle_init(&w->base, env, "ETLT_EPOLL_WATCH", argv[3]) ||
      napi_create_reference(env, argv[1], 1, &w->events) != napi_ok)
    return handle_abandon(&w->base, "ERR_ETLT_WATCH", "watch_start: a Node-API call failed");
  r = uv_poll_start(&w->handle, UV_READABLE, watcher_on_poll);
  if (r < 0) {
    handle_abandon(&w->base, NULL, NULL);
    return num(env, r);
  }
  return handle_wrap(&w->base, &watcher_tag);
}

/* watch_stop(handle): stops the watcher; safe to call again (a stopped handle does nothing). */
napi_value w_watch_stop(napi_env env, napi_callback_info info) {
  return handle_stop_js(env, info, &watcher_tag, "watch");
}

/* watch_ref(handle, ref): whether the watcher keeps the process alive. */
napi_value w_watch_ref(napi_env env, napi_callback_info info) {
  return handle_ref_js(env, info, &watcher_tag, "watch");
}
