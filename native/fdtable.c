/*
 * ---- the fds this environment opened: closed when it is torn down ----
 *
 * A Worker's end frees its JS objects without running their close(), and a FinalizationRegistry
 * never runs at teardown: every fd its code opened through the addon and did not close would
 * outlive it, in a process that goes on. So each environment (the main thread, each Worker)
 * keeps a bitmap of the fds the addon opened for it (socket, accept4, epoll_create1, pipe2,
 * eventfd, timerfd_create, openat...) and the addon's close() clears; an environment cleanup
 * hook closes whatever is still set. The bitmap is the environment's instance data: nothing
 * is shared between threads. The contract this needs: an etlt fd is closed through etlt (or
 * given up first, as Socket.detach() does), never behind its back.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "etlt.h"
#include "sys.h"

typedef struct {
  uint64_t *bits;
  size_t words;
} fd_table_t;

static fd_table_t *table_of(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

void fd_track(napi_env env, int fd) {
  fd_table_t *t = table_of(env);
  if (t == NULL || fd < 0) return;
  size_t word = (size_t)fd / 64;
  if (word >= t->words) {
    size_t words = t->words == 0 ? 16 : t->words;
    while (words <= word) words *= 2;
    uint64_t *bits = realloc(t->bits, words * sizeof *bits);
    /* Out of memory: the fd is not tracked, so at worst a Worker's end leaves it open. */
    if (bits == NULL) return;
    memset(bits + t->words, 0, (words - t->words) * sizeof *bits);
    t->bits = bits;
    t->words = words;
  }
  t->bits[word] |= UINT64_C(1) << (fd % 64);
}

void fd_untrack(napi_env env, int fd) {
  fd_table_t *t = table_of(env);
  if (t == NULL || fd < 0 || (size_t)fd / 64 >= t->words) return;
  t->bits[fd / 64] &= ~(UINT64_C(1) << (fd % 64));
}

napi_value fd_result(napi_env env, int r) {
  if (r < 0) return num(env, -errno);
  fd_track(env, r);
  return num(env, r);
}

napi_value fd_pair_result(napi_env env, int r, const int fds[2], uint8_t *out) {
  if (r < 0) return num(env, -errno);
  memcpy(out, fds, 2 * sizeof fds[0]);
  fd_track(env, fds[0]);
  fd_track(env, fds[1]);
  return num(env, 0);
}

static void fd_table_close_all(void *arg) {
  fd_table_t *t = arg;
  for (size_t w = 0; w < t->words; w++) {
    for (uint64_t b = t->bits[w]; b != 0; b &= b - 1) sys_close((int)(w * 64 + (size_t)__builtin_ctzll(b)));
    t->bits[w] = 0;
  }
}

static void fd_table_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  fd_table_t *t = data;
  free(t->bits);
  free(t);
}

void fd_table_init(napi_env env) {
  fd_table_t *t = calloc(1, sizeof *t);
  if (t == NULL) return;
  if (napi_set_instance_data(env, t, fd_table_finalize, NULL) != napi_ok) {
    free(t);
    return;
  }
  /* Registered after Node-API's own teardown hook, so it runs before the finalizer frees t. */
  napi_add_env_cleanup_hook(env, fd_table_close_all, t);
}

/* fd_forget(fd): the fd was given away (Socket.detach): the environment's end leaves it open. */
napi_value w_fd_forget(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], "fd", &fd)) return NULL;
  fd_untrack(env, fd);
  return NULL;
}

/* fd_adopt(fd): an fd etlt did not open is owned from now on (Epoll.fromFd, Socket.fromFd). */
napi_value w_fd_adopt(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], "fd", &fd)) return NULL;
  fd_track(env, fd);
  return NULL;
}
