/*
 * ---- the lifecycle every libuv-backed handle shares (as libuv's uv_handle_t) ----
 *
 * A handle (watch.c's epoll watcher, turn.c's loop hook) embeds an etlt_handle_t and one or
 * more uv handles whose `data` points at it. It has two owners: libuv, until the close
 * callback of each of its uv handles ran, and the JS external, until its finalizer. The last
 * to let go frees it, so a JS handle used after stop (or stopped twice) reads a stopped
 * struct, never freed memory.
 *
 * States: live -> stopped (handle_release: references gone, uv_close requested) -> closed
 * (`open` reaches 0) -> freed (closed and orphaned). An environment torn down with the handle
 * live (a Worker ending) releases it from an asynchronous cleanup hook, removed only once the
 * last close callback ran: a synchronous hook let Node unload the addon first, and libuv then
 * called the close callback at an unmapped address.
 */
#ifndef ETLT_HANDLE_H
#define ETLT_HANDLE_H

#include <node_api.h>
#include <uv.h>

typedef struct etlt_handle etlt_handle_t;

struct etlt_handle {
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_async_context context;
  int stopped;  /* handle_release ran: references gone, uv_close requested */
  int open;     /* uv handles whose close callback has not run yet */
  int orphaned; /* no JS handle points here any more (finalized, or never made) */
  napi_async_cleanup_hook_handle hook;
  /* The uv handle whose ref keeps the process alive (ref/unref act on it). */
  uv_handle_t *keepalive;
  /* Stops and uv_close()s each uv handle with handle_on_close (the owner's part of a release). */
  void (*close_uv)(etlt_handle_t *h);
  /* Runs once all uv handles are closed, before a possible free (watch.c closes its fd). */
  void (*on_closed)(etlt_handle_t *h);
  /* Frees the containing struct. */
  void (*destroy)(etlt_handle_t *h);
};

/* Fills the JS side: an async resource named `name` and a reference to `callback`. 0 on failure. */
int handle_init(etlt_handle_t *h, napi_env env, const char *name, napi_value callback);
/* Wraps `h` in a type-tagged external with the cleanup hook; NULL (and an exception) on failure. */
napi_value handle_wrap(etlt_handle_t *h, const napi_type_tag *tag);
/*
 * A failure before handle_wrap: releases `h` and frees it once closed; throws `code` unless an
 * exception is pending (a NULL code throws nothing: the caller returns -errno instead).
 */
napi_value handle_abandon(etlt_handle_t *h, const char *code, const char *what);
/* The handle a JS value wraps, or NULL after a TypeError saying it is not a `what` handle. */
etlt_handle_t *handle_unwrap(napi_env env, napi_value v, const napi_type_tag *tag, const char *what);
/* The JS functions `stop(handle)` (safe to call again) and `ref(handle, ref)` for a kind of handle. */
napi_value handle_stop_js(napi_env env, napi_callback_info info, const napi_type_tag *tag, const char *what);
napi_value handle_ref_js(napi_env env, napi_callback_info info, const napi_type_tag *tag, const char *what);
/* Marks a close request on one uv handle; pass this as the uv_close callback. */
void handle_on_close(uv_handle_t *uv);
/* Calls the JS callback through make_callback; an exception becomes an uncaught exception. */
void handle_call(etlt_handle_t *h, size_t argc, const napi_value *argv);
/* The libuv loop of `env`, or NULL after an error. */
uv_loop_t *handle_loop(napi_env env);

#endif
