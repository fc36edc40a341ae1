/*
 * io_uring as raw syscalls: io_uring_setup(2), io_uring_enter(2) and io_uring_register(2),
 * with no liburing (a user's machine has only a C toolchain and the uapi header), plus the
 * two things JavaScript cannot do itself to drive a ring through shared memory: mmap(2) the
 * rings (and page-aligned anonymous memory for a provided buffer ring), and learn the
 * address of a buffer it owns, which an SQE or a buffer ring entry must carry.
 *
 * The contract of etlt.h holds: each wrapper makes the syscall it is named after and
 * returns its result or -errno; it throws only for arguments of the wrong type. JavaScript
 * writes SQEs and reads CQEs in the mapped rings; one io_uring_enter submits a whole batch.
 * No thread, no state: a mapping belongs to its ArrayBuffer and is unmapped when the garbage
 * collector frees it (an explicit munmap could leave JavaScript a view of unmapped memory).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"
#include "etlt.h"

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#define SYS_io_uring_enter 426
#define SYS_io_uring_register 427
#endif

/* io_uring_setup(entries, params): params is struct io_uring_params, read and written by the kernel. */
napi_value w_io_uring_setup(napi_env env, napi_callback_info info) {
  ARGS(2);
  uint32_t entries;
  uint8_t *p;
  size_t n;
  if (!arg_u32(env, argv[0], "entries", &entries) || !arg_bytes(env, argv[1], "params", &p, &n)) return NULL;
  if (n < sizeof(struct io_uring_params)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                           "The \"params\" argument must hold a struct io_uring_params (120 bytes)");
    return NULL;
  }
  long r = syscall(SYS_io_uring_setup, entries, (struct io_uring_params *)p);
  return num(env, RET_ERRNO(r));
}

/*
 * io_uring_enter(fd, to_submit, min_complete, flags): no signal mask (the loop never blocks
 * here: libuv waits, on the eventfd). The hot path: -errno, never a throw for the kernel's answer.
 */
napi_value w_io_uring_enter(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd;
  uint32_t to_submit, min_complete, flags;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_u32(env, argv[1], "to_submit", &to_submit) ||
      !arg_u32(env, argv[2], "min_complete", &min_complete) || !arg_u32(env, argv[3], "flags", &flags))
    return NULL;
  long r = syscall(SYS_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
  return num(env, RET_ERRNO(r));
}

/*
 * io_uring_register(fd, opcode, arg, nr_args): arg is the bytes of what the opcode reads
 * (an int for IORING_REGISTER_EVENTFD, a struct io_uring_buf_reg for IORING_REGISTER_PBUF_RING),
 * or null.
 */
napi_value w_io_uring_register(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd;
  uint32_t opcode, nr_args;
  uint8_t *p = NULL;
  size_t n = 0;
  napi_valuetype t;
  if (!arg_i32(env, argv[0], "fd", &fd) || !arg_u32(env, argv[1], "opcode", &opcode)) return NULL;
  napi_typeof(env, argv[2], &t);
  if (t != napi_null && !arg_bytes(env, argv[2], "arg", &p, &n)) return NULL;
  if (!arg_u32(env, argv[3], "nr_args", &nr_args)) return NULL;
  long r = syscall(SYS_io_uring_register, fd, opcode, (void *)p, nr_args);
  return num(env, RET_ERRNO(r));
}

typedef struct {
  void *addr;
  size_t length;
} mapping_t;

static void mapping_finalize(napi_env env, void *data, void *hint) {
  mapping_t *m = hint;
  int64_t ignored;
  munmap(m->addr, m->length);
  napi_adjust_external_memory(env, -(int64_t)m->length, &ignored);
  free(m);
}

/*
 * mmap(length, prot, flags, fd, offset) -> ArrayBuffer over the mapping, or -errno. The
 * mapping lives as long as the ArrayBuffer (unmapped by its finalizer), and the garbage
 * collector is told of its size, so dropped rings do not pile up unseen.
 */
napi_value w_mmap(napi_env env, napi_callback_info info) {
  ARGS(5);
  int64_t length, offset;
  int32_t prot, flags, fd;
  if (!arg_i64(env, argv[0], "length", 1, &length) || !arg_i32(env, argv[1], "prot", &prot) ||
      !arg_i32(env, argv[2], "flags", &flags) || !arg_i32(env, argv[3], "fd", &fd) ||
      !arg_i64(env, argv[4], "offset", 0, &offset))
    return NULL;
  mapping_t *m = malloc(sizeof *m);
  if (m == NULL) return num(env, -ENOMEM);
  void *addr = mmap(NULL, (size_t)length, prot, flags, fd, (off_t)offset);
  if (addr == MAP_FAILED) {
    int e = errno;
    free(m);
    return num(env, -e);
  }
  m->addr = addr;
  m->length = (size_t)length;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, addr, (size_t)length, mapping_finalize, m, &ab) != napi_ok) {
    munmap(addr, (size_t)length);
    free(m);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, "ERR_ETLT_MMAP", "mmap: the mapping could not be given an ArrayBuffer");
    return NULL;
  }
  int64_t ignored;
  napi_adjust_external_memory(env, length, &ignored);
  return ab;
}

/*
 * address_of(view) -> the address of view's first byte, as a number (user addresses fit in
 * 47 bits, exact in a double). An SQE's buffer and a provided buffer ring's entries carry
 * addresses: JavaScript asks once per buffer it owns and keeps the buffer alive while the
 * kernel may use it. Not a syscall; nothing else here leaves C.
 */
napi_value w_address_of(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint8_t *p;
  size_t n;
  if (!arg_bytes(env, argv[0], "view", &p, &n)) return NULL;
  return num(env, (int64_t)(uintptr_t)p);
}
