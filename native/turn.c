/* ---- a hook into every turn of Node's loop, for backends that must block themselves ---- */

#include <uv.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "args.h"
#include "etlt.h"

/*
 * poll(2) and select(2) sets have no fd of their own that libuv could watch (epoll's can be:
 * see watch.c), so a server on them must block in its own poll, as the seed's loops do. To
 * keep Node's loop alive meanwhile, the listener blocks in libuv's place: a prepare handle
 * runs just before libuv's poll phase and tells the listener how long libuv would have
 * slept (uv_backend_timeout: the next timer, 0 with immediates or pending callbacks, -1 with
 * neither); the listener puts libuv's own backend fd (uv_backend_fd) in its set and waits at
 * most that long. An idle handle, started while the listener runs, then makes libuv's poll
 * phase return at once (uv__backend_timeout is 0 with an active idle handle): whatever woke
 * the listener (a signal, whose handler writes to libuv's signal pipe; any of Node's I/O; a
 * timer due) is handled by libuv in that same turn, and the next turn blocks in the
 * listener again. No thread, no busy loop: each turn blocks once, in the listener's poll.
 *
 * Ownership is watch.c's: libuv holds the struct until both close callbacks ran, the JS
 * handle until its finalizer; the last to let go frees it.
 */
typedef struct {
  uv_prepare_t prepare;
  uv_idle_t idle;
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_async_context context;
  int stopped;  /* turn_release ran: references gone, uv_close requested */
  int open;     /* handles whose close callback has not run yet */
  int orphaned; /* no JS handle points here any more */
  napi_async_cleanup_hook_handle hook;
} turn_t;

static const napi_type_tag turn_tag = {0x4b7d21c9e0a35f18ULL, 0x93a6f0e2c51d7b44ULL};

static void turn_on_close(uv_handle_t *h) {
  turn_t *t = h->data;
  if (--t->open > 0) return;
  napi_async_cleanup_hook_handle hook = t->hook;
  t->hook = NULL;
  if (t->orphaned) free(t);
  /* Last: this tells Node the teardown may go on, up to unloading this very code. */
  if (hook != NULL) napi_remove_async_cleanup_hook(hook);
}

static void turn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  turn_t *t = data;
  t->orphaned = 1;
  if (t->stopped && t->open == 0) free(t);
}

static void turn_release(turn_t *t) {
  if (t->stopped) return;
  t->stopped = 1;
  uv_prepare_stop(&t->prepare);
  uv_idle_stop(&t->idle);
  napi_async_destroy(t->env, t->context);
  napi_delete_reference(t->env, t->callback);
  napi_delete_reference(t->env, t->resource);
  uv_close((uv_handle_t *)&t->prepare, turn_on_close);
  uv_close((uv_handle_t *)&t->idle, turn_on_close);
}

static void turn_env_cleanup(napi_async_cleanup_hook_handle hook, void *arg) {
  turn_t *t = arg;
  t->hook = hook;
  turn_release(t);
}

static void turn_on_idle(uv_idle_t *h) {
  (void)h;
}

static void turn_on_prepare(uv_prepare_t *h) {
  turn_t *t = h->data;
  napi_env env = t->env;
  /* The timeout libuv would use without our idle handle, against a fresh clock. */
  uv_idle_stop(&t->idle);
  uv_update_time(h->loop);
  int timeout = uv_backend_timeout(h->loop);
  uv_idle_start(&t->idle, turn_on_idle);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb = NULL, resource = NULL, argv[1], result;
  napi_get_reference_value(env, t->callback, &cb);
  napi_get_reference_value(env, t->resource, &resource);
  napi_create_int32(env, timeout, &argv[0]);
  /* make_callback runs nextTick and microtasks after the listener, as Node's own I/O does. */
  napi_status s = napi_make_callback(env, t->context, resource, cb, 1, argv, &result);
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

static napi_value turn_start_failed(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "ERR_ETLT_TURN", "turn_start: a Node-API call failed");
  return NULL;
}

static uv_loop_t *loop_of(napi_env env) {
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) {
    napi_throw_error(env, "ERR_ETLT_NO_LOOP", "no libuv loop for this environment");
    return NULL;
  }
  return loop;
}

/*
 * turn_start(listener) -> handle: calls listener(timeoutMs) on every turn of Node's loop,
 * before its poll phase, with the time libuv would have slept (-1: no limit); libuv itself
 * then does not sleep.
 */
napi_value w_turn_start(napi_env env, napi_callback_info info) {
  ARGS(1);
  napi_valuetype type;
  napi_typeof(env, argv[0], &type);
  if (type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"listener\" argument must be a function");
    return NULL;
  }
  uv_loop_t *loop = loop_of(env);
  if (loop == NULL) return NULL;
  turn_t *t = calloc(1, sizeof *t);
  if (t == NULL) return num(env, -ENOMEM);
  /* Neither can fail: they only link the handles into the loop. */
  uv_prepare_init(loop, &t->prepare);
  uv_idle_init(loop, &t->idle);
  t->prepare.data = t;
  t->idle.data = t;
  t->open = 2;
  t->env = env;
  napi_value resource, name, handle;
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_string_utf8(env, "ETLT_LOOP_TURN", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, resource, name, &t->context) != napi_ok ||
      napi_create_reference(env, resource, 1, &t->resource) != napi_ok ||
      napi_create_reference(env, argv[0], 1, &t->callback) != napi_ok) {
    t->orphaned = 1;
    turn_release(t);
    return turn_start_failed(env);
  }
  uv_prepare_start(&t->prepare, turn_on_prepare);
  /* The idle handle only shortens libuv's poll: it must not keep the process alive. */
  uv_unref((uv_handle_t *)&t->idle);
  if (napi_create_external(env, t, turn_finalize, NULL, &handle) != napi_ok) {
    t->orphaned = 1;
    turn_release(t);
    return turn_start_failed(env);
  }
  if (napi_type_tag_object(env, handle, &turn_tag) != napi_ok ||
      napi_add_async_cleanup_hook(env, turn_env_cleanup, t, &t->hook) != napi_ok) {
    t->hook = NULL;
    turn_release(t);
    return turn_start_failed(env);
  }
  return handle;
}

static int arg_turn(napi_env env, napi_value v, turn_t **t) {
  void *p = NULL;
  bool tagged = false;
  napi_check_object_type_tag(env, v, &turn_tag, &tagged);
  if (!tagged || napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"handle\" argument must be a turn handle");
    return 0;
  }
  *t = p;
  return 1;
}

/* turn_stop(handle): stops calling the listener; safe to call again. */
napi_value w_turn_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  turn_t *t;
  if (!arg_turn(env, argv[0], &t)) return NULL;
  if (!t->stopped) {
    if (t->hook != NULL) napi_remove_async_cleanup_hook(t->hook);
    t->hook = NULL;
    turn_release(t);
  }
  return NULL;
}

/* turn_ref(handle, ref): whether the hook keeps the process alive. */
napi_value w_turn_ref(napi_env env, napi_callback_info info) {
  ARGS(2);
  turn_t *t;
  bool ref = true;
  if (!arg_turn(env, argv[0], &t)) return NULL;
  if (napi_get_value_bool(env, argv[1], &ref) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"ref\" argument must be a boolean");
    return NULL;
  }
  if (!t->stopped) {
    if (ref) uv_ref((uv_handle_t *)&t->prepare);
    else uv_unref((uv_handle_t *)&t->prepare);
  }
  return NULL;
}

/* uv_backend_fd(): the fd libuv's loop polls (its epoll set), readable while Node has I/O to handle. */
napi_value w_uv_backend_fd(napi_env env, napi_callback_info info) {
  (void)info;
  uv_loop_t *loop = loop_of(env);
  return loop == NULL ? NULL : num(env, uv_backend_fd(loop));
}

/* uv_backend_timeout(): how long libuv's next poll would sleep, in ms (-1: no limit). */
napi_value w_uv_backend_timeout(napi_env env, napi_callback_info info) {
  (void)info;
  uv_loop_t *loop = loop_of(env);
  return loop == NULL ? NULL : num(env, uv_backend_timeout(loop));
}
