/* The shared handle lifecycle: the contract in handle.h. */
#include "handle.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "args.h"

int handle_init(etlt_handle_t *h, napi_env env, const char *name, napi_value callback) {
  napi_value resource, str;
  h->env = env;
  /* Checked: a failure here would leave a NULL reference for the callback to call. */
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &str) != napi_ok ||
      napi_async_init(env, resource, str, &h->context) != napi_ok)
    return 0;
  return napi_create_reference(env, resource, 1, &h->resource) == napi_ok &&
         napi_create_reference(env, callback, 1, &h->callback) == napi_ok;
}

static void handle_release(etlt_handle_t *h) {
  if (h->stopped) return;
  h->stopped = 1;
  if (h->context != NULL) napi_async_destroy(h->env, h->context);
  if (h->callback != NULL) napi_delete_reference(h->env, h->callback);
  if (h->resource != NULL) napi_delete_reference(h->env, h->resource);
  h->close_uv(h);
}

void handle_on_close(uv_handle_t *uv) {
  etlt_handle_t *h = uv->data;
  if (--h->open > 0) return;
  napi_async_cleanup_hook_handle hook = h->hook;
  h->hook = NULL;
  if (h->on_closed != NULL) h->on_closed(h);
  if (h->orphaned) h->destroy(h);
  /* Last: this tells Node the teardown may go on, up to unloading this very code. */
  if (hook != NULL) napi_remove_async_cleanup_hook(hook);
}

static void handle_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  etlt_handle_t *h = data;
  h->orphaned = 1;
  if (h->stopped && h->open == 0) h->destroy(h);
}

/* An environment torn down with the handle live (a Worker ending): see handle.h. */
static void handle_env_cleanup(napi_async_cleanup_hook_handle hook, void *arg) {
  etlt_handle_t *h = arg;
  h->hook = hook;
  handle_release(h);
}

static napi_value throw_unless_pending(napi_env env, const char *code, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, code, what);
  return NULL;
}

napi_value handle_abandon(etlt_handle_t *h, const char *code, const char *what) {
  h->orphaned = 1;
  handle_release(h);
  if (code == NULL) return NULL;
  return throw_unless_pending(h->env, code, what);
}

napi_value handle_wrap(etlt_handle_t *h, const napi_type_tag *tag) {
  napi_value external;
  if (napi_create_external(h->env, h, handle_finalize, NULL, &external) != napi_ok)
    return handle_abandon(h, "ERR_ETLT_HANDLE", "a Node-API call failed");
  /*
   * The external exists now, so its finalizer frees the struct after a failure. Untagged, it
   * could never be stopped; without the hook, a Worker's teardown would unload this code
   * before libuv's close callbacks ran.
   */
  if (napi_type_tag_object(h->env, external, tag) != napi_ok ||
      napi_add_async_cleanup_hook(h->env, handle_env_cleanup, h, &h->hook) != napi_ok) {
    h->hook = NULL;
    handle_release(h);
    return throw_unless_pending(h->env, "ERR_ETLT_HANDLE", "a Node-API call failed");
  }
  return external;
}

etlt_handle_t *handle_unwrap(napi_env env, napi_value v, const napi_type_tag *tag, const char *what) {
  void *p = NULL;
  bool tagged = false;
  napi_check_object_type_tag(env, v, tag, &tagged);
  if (!tagged || napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    char msg[96];
    snprintf(msg, sizeof msg, "The \"handle\" argument must be a %s handle", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
  }
  return p;
}

static void handle_stop(etlt_handle_t *h) {
  if (h->stopped) return;
  if (h->hook != NULL) napi_remove_async_cleanup_hook(h->hook);
  h->hook = NULL;
  handle_release(h);
}

napi_value handle_stop_js(napi_env env, napi_callback_info info, const napi_type_tag *tag, const char *what) {
  ARGS(1);
  etlt_handle_t *h = handle_unwrap(env, argv[0], tag, what);
  if (h != NULL) handle_stop(h);
  return NULL;
}

napi_value handle_ref_js(napi_env env, napi_callback_info info, const napi_type_tag *tag, const char *what) {
  ARGS(2);
  etlt_handle_t *h = handle_unwrap(env, argv[0], tag, what);
  bool on = true;
  if (h == NULL) return NULL;
  if (napi_get_value_bool(env, argv[1], &on) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "The \"ref\" argument must be a boolean");
    return NULL;
  }
  if (!h->stopped) {
    if (on) uv_ref(h->keepalive);
    else uv_unref(h->keepalive);
  }
  return NULL;
}

void handle_call(etlt_handle_t *h, size_t argc, const napi_value *argv) {
  napi_env env = h->env;
  napi_value cb = NULL, resource = NULL, result;
  napi_get_reference_value(env, h->callback, &cb);
  napi_get_reference_value(env, h->resource, &resource);
  /* make_callback runs nextTick and microtasks after the listener, as Node's own I/O does. */
  if (napi_make_callback(env, h->context, resource, cb, argc, argv, &result) == napi_ok) return;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

uv_loop_t *handle_loop(napi_env env) {
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) {
    napi_throw_error(env, "ERR_ETLT_NO_LOOP", "no libuv loop for this environment");
    return NULL;
  }
  return loop;
}
