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
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_ref events; /* the JS TypedArray each batch is copied into, as [fd, events] pairs */
  napi_async_context context;
  struct epoll_event *batch; /* maxevents entries, for the kernel to write into */
  int maxevents;
  int fd;       /* libuv's own duplicate of epfd, closed once uv_close is done with it */
  int stopped;  /* watcher_release ran: references gone, uv_close requested */
  int closed;   /* uv_close's callback ran */
  int orphaned; /* no JS handle points here any more (finalized, or never made) */
  /* Set while Node may tear the environment down with this watcher live (see watcher_env_cleanup). */
  napi_async_cleanup_hook_handle hook;
} watcher_t;

/* Marks our externals, so watch_stop/watch_ref refuse another addon's external. */
static const napi_type_tag watcher_tag = {0x9c1e0f5a6b3d4e21ULL, 0x7f02d8c4a5b61e93ULL};

/*
 * The struct has two owners: libuv, until the close callback, and the JS handle, until its
 * finalizer. The last to let go frees it, so a handle used again after watch_stop (or a
 * second watch_stop) reads a stopped watcher instead of freed memory.
 */
static void watcher_free(watcher_t *w) {
  free(w->batch);
  free(w);
}

static void watcher_on_close(uv_handle_t *h) {
  watcher_t *w = h->data;
  napi_async_cleanup_hook_handle hook = w->hook;
  w->hook = NULL;
  close(w->fd);
  w->closed = 1;
  if (w->orphaned) watcher_free(w);
  /* Last: this tells Node the teardown may go on, up to unloading this very code. */
  if (hook != NULL) napi_remove_async_cleanup_hook(hook);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  watcher_t *w = data;
  w->orphaned = 1;
  if (w->closed) watcher_free(w);
}

static void watcher_release(watcher_t *w) {
  if (w->stopped) return;
  w->stopped = 1;
  uv_poll_stop(&w->handle);
  napi_async_destroy(w->env, w->context);
  napi_delete_reference(w->env, w->callback);
  napi_delete_reference(w->env, w->resource);
  napi_delete_reference(w->env, w->events);
  uv_close((uv_handle_t *)&w->handle, watcher_on_close);
}

/*
 * An environment torn down with the watcher live (a Worker ending, say). The hook is
 * asynchronous because uv_close completes on a later loop turn: a synchronous hook let Node
 * unload the addon first, and libuv then called watcher_on_close at an unmapped address.
 */
static void watcher_env_cleanup(napi_async_cleanup_hook_handle hook, void *arg) {
  watcher_t *w = arg;
  w->hook = hook;
  watcher_release(w);
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
  watcher_t *w = h->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb = NULL, resource = NULL, argv[2], result;
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
  napi_get_reference_value(env, w->callback, &cb);
  napi_get_reference_value(env, w->resource, &resource);
  napi_create_int32(env, n, &argv[0]);
  if (n < 0) {
    /* Which call failed, so the listener can raise a Node-style error naming it. */
    napi_create_string_utf8(env, failed, NAPI_AUTO_LENGTH, &argv[1]);
    argc = 2;
  }
  /* make_callback runs nextTick and microtasks after the listener, as Node's own I/O does. */
  napi_status s = napi_make_callback(env, w->context, resource, cb, argc, argv, &result);
  if (s != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* A Node-API call failed in watch_start (a broken environment): throw, unless it already did. */
static napi_value watch_start_failed(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "ERR_ETLT_WATCH", "watch_start: a Node-API call failed");
  return NULL;
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
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, "ERR_ETLT_NO_LOOP", "no libuv loop for this environment");
    return NULL;
  }
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
    free(w);
    return num(env, -ENOMEM);
  }
  w->maxevents = maxevents;
  int r = uv_poll_init(loop, &w->handle, fd);
  if (r < 0) {
    close(fd);
    watcher_free(w);
    return num(env, r);
  }
  w->handle.data = w;
  w->env = env;
  w->fd = fd;
  napi_value resource, name, handle;
  /* Checked: a failure here would leave a NULL reference for watcher_on_poll to call. */
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_string_utf8(env, "ETLT_EPOLL_WATCH", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, resource, name, &w->context) != napi_ok ||
      napi_create_reference(env, resource, 1, &w->resource) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &w->events) != napi_ok ||
      napi_create_reference(env, argv[3], 1, &w->callback) != napi_ok) {
    w->orphaned = 1;
    watcher_release(w);
    return watch_start_failed(env);
  }
  r = uv_poll_start(&w->handle, UV_READABLE, watcher_on_poll);
  if (r < 0) {
    w->orphaned = 1;
    watcher_release(w);
    return num(env, r);
  }
  if (napi_create_external(env, w, watcher_finalize, NULL, &handle) != napi_ok) {
    w->orphaned = 1;
    watcher_release(w);
    return watch_start_failed(env);
  }
  /*
   * The handle exists now, so its finalizer frees the struct after a failure. Untagged, the
   * handle could never be stopped; without the hook, a Worker's teardown would unload this
   * code before libuv's close callback ran (see watcher_env_cleanup).
   */
  if (napi_type_tag_object(env, handle, &watcher_tag) != napi_ok ||
      napi_add_async_cleanup_hook(env, watcher_env_cleanup, w, &w->hook) != napi_ok) {
    w->hook = NULL;
    watcher_release(w);
    return watch_start_failed(env);
  }
  return handle;
}

static int arg_watcher(napi_env env, napi_value v, watcher_t **w) {
  void *p = NULL;
  bool tagged = false;
  napi_check_object_type_tag(env, v, &watcher_tag, &tagged);
  if (!tagged || napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"handle\" argument must be a watch handle");
    return 0;
  }
  *w = p;
  return 1;
}

/* watch_stop(handle): stops the watcher; safe to call again (a stopped handle does nothing). */
napi_value w_watch_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  watcher_t *w;
  if (!arg_watcher(env, argv[0], &w)) return NULL;
  if (!w->stopped) {
    if (w->hook != NULL) napi_remove_async_cleanup_hook(w->hook);
    w->hook = NULL;
    watcher_release(w);
  }
  return NULL;
}

/* watch_ref(handle, ref): whether the watcher keeps the process alive. */
napi_value w_watch_ref(napi_env env, napi_callback_info info) {
  ARGS(2);
  watcher_t *w;
  bool ref = true;
  if (!arg_watcher(env, argv[0], &w)) return NULL;
  if (napi_get_value_bool(env, argv[1], &ref) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"ref\" argument must be a boolean");
    return NULL;
  }
  if (!w->stopped) {
    if (ref) uv_ref((uv_handle_t *)&w->handle);
    else uv_unref((uv_handle_t *)&w->handle);
  }
  return NULL;
}
