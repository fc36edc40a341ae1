/* ---- a hook into every turn of Node's loop, for backends that must block themselves ---- */

#include <uv.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "args.h"
#include "etlt.h"
#include "handle.h"

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
 * Ownership and teardown: the shared handle lifecycle (handle.h).
 */
typedef struct {
  etlt_handle_t base; /* first: the uv handles' data points here (see handle.h) */
  uv_prepare_t prepare;
  uv_idle_t idle;
} turn_t;

static const napi_type_tag turn_tag = {0x4b7d21c9e0a35f18ULL, 0x93a6f0e2c51d7b44ULL};

static void turn_close_uv(etlt_handle_t *h) {
  turn_t *t = (turn_t *)h;
  uv_prepare_stop(&t->prepare);
  uv_idle_stop(&t->idle);
  uv_close((uv_handle_t *)&t->prepare, handle_on_close);
  uv_close((uv_handle_t *)&t->idle, handle_on_close);
}

static void turn_destroy(etlt_handle_t *h) {
  free(h);
}

static void turn_on_idle(uv_idle_t *h) {
  (void)h;
}

static void turn_on_prepare(uv_prepare_t *h) {
  turn_t *t = (turn_t *)h->data;
  napi_env env = t->base.env;
  /* The timeout libuv would use without our idle handle, against a fresh clock. */
  uv_idle_stop(&t->idle);
  uv_update_time(h->loop);
  int timeout = uv_backend_timeout(h->loop);
  uv_idle_start(&t->idle, turn_on_idle);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[1];
  napi_create_int32(env, timeout, &argv[0]);
  handle_call(&t->base, 1, argv);
  napi_close_handle_scope(env, scope);
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
  uv_loop_t *loop = handle_loop(env);
  if (loop == NULL) return NULL;
  turn_t *t = calloc(1, sizeof *t);
  if (t == NULL) return num(env, -ENOMEM);
  /* Neither can fail: they only link the handles into the loop. */
  uv_prepare_init(loop, &t->prepare);
  uv_idle_init(loop, &t->idle);
  t->prepare.data = &t->base;
  t->idle.data = &t->base;
  t->base.open = 2;
  t->base.env = env;
  t->base.keepalive = (uv_handle_t *)&t->prepare;
  t->base.close_uv = turn_close_uv;
  t->base.destroy = turn_destroy;
  if (!handle_init(&t->base, env, "ETLT_LOOP_TURN", argv[0]))
    return handle_abandon(&t->base, "ERR_ETLT_TURN", "turn_start: a Node-API call failed");
  uv_prepare_start(&t->prepare, turn_on_prepare);
  /* The idle handle only shortens libuv's poll: it must not keep the process alive. */
  uv_unref((uv_handle_t *)&t->idle);
  return handle_wrap(&t->base, &turn_tag);
}

/* turn_stop(handle): stops calling the listener; safe to call again. */
napi_value w_turn_stop(napi_env env, napi_callback_info info) {
  return handle_stop_js(env, info, &turn_tag, "turn");
}

/* turn_ref(handle, ref): whether the hook keeps the process alive. */
napi_value w_turn_ref(napi_env env, napi_callback_info info) {
  return handle_ref_js(env, info, &turn_tag, "turn");
}

/* uv_backend_fd(): the fd libuv's loop polls (its epoll set), readable while Node has I/O to handle. */
napi_value w_uv_backend_fd(napi_env env, napi_callback_info info) {
  (void)info;
  uv_loop_t *loop = handle_loop(env);
  return loop == NULL ? NULL : num(env, uv_backend_fd(loop));
}

/* uv_backend_timeout(): how long libuv's next poll would sleep, in ms (-1: no limit). */
napi_value w_uv_backend_timeout(napi_env env, napi_callback_info info) {
  (void)info;
  uv_loop_t *loop = handle_loop(env);
  return loop == NULL ? NULL : num(env, uv_backend_timeout(loop));
}
