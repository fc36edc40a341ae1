/** Opaque handle of a libuv poll watcher on an epoll fd. */
export interface WatchHandle {
  readonly __etltWatchHandle: unique symbol;
}

/** Opaque handle of a hook into every turn of Node's loop (see `turn_start`). */
export interface TurnHandle {
  readonly __etltTurnHandle: unique symbol;
}

/** Linux's values for the constants etlt uses, read from the system headers at build time. */
export interface NativeConstants {
  readonly [name: string]: number;
}

/**
 * The native addon's functions. Each makes the syscall it is named after, with the same
 * argument order, and returns its result or `-errno`. Buffers are any TypedArray. They are
 * plain functions (no `this`), so they can be taken off the object, as `sys` does.
 */
export interface NativeBinding {
  readonly epoll_create1: (flags: number) => number;
  readonly epoll_ctl: (epfd: number, op: number, fd: number, events: number) => number;
  /** Fills `events` with [fd, mask] pairs; returns the count or -errno. */
  readonly epoll_wait: (epfd: number, events: Uint32Array | Int32Array, maxevents: number, timeoutMs: number) => number;
  readonly socket: (family: number, type: number, proto: number) => number;
  /** socketpair(2): the two fds are written to `sv[0]` and `sv[1]`; returns 0 or -errno. */
  readonly socketpair: (family: number, type: number, proto: number, sv: Int32Array) => number;
  readonly setsockopt: (fd: number, level: number, option: number, value: Uint8Array) => number;
  readonly getsockopt: (fd: number, level: number, option: number, out: Uint8Array | Uint32Array) => number;
  readonly bind: (fd: number, address: Uint8Array) => number;
  readonly connect: (fd: number, address: Uint8Array) => number;
  readonly listen: (fd: number, backlog: number) => number;
  readonly accept4: (fd: number, address: Uint8Array | null, flags: number) => number;
  readonly getsockname: (fd: number, address: Uint8Array) => number;
  readonly getpeername: (fd: number, address: Uint8Array) => number;
  readonly recv: (fd: number, buffer: Uint8Array, offset: number, length: number, flags: number) => number;
  readonly send: (fd: number, buffer: Uint8Array, offset: number, length: number, flags: number) => number;
  /** One sendmsg(2) of `buffers[0..count)` as its iovecs (byte lengths); returns the bytes sent or -errno. */
  readonly sendmsg: (fd: number, buffers: readonly Uint8Array[], count: number, flags: number) => number;
  readonly shutdown: (fd: number, how: number) => number;
  readonly close: (fd: number) => number;
  readonly fcntl: (fd: number, cmd: number, arg: number) => number;
  /**
   * poll(2) over `fds`, nfds struct pollfd of 8 bytes each (int32 fd, int16 events, int16
   * revents, native byte order) that the kernel rewrites in place; null only with nfds 0.
   * Returns the count of entries with a nonzero revents, or -errno. Negative timeout: forever.
   */
  readonly poll: (fds: ArrayBufferView | null, nfds: number, timeoutMs: number) => number;
  /**
   * select(2) over caller-owned fd sets (the kernel's fd_set layout: bit fd % 64 of the
   * 64-bit word fd / 64), each null or holding nfds bits rounded up to whole words, which
   * the kernel rewrites in place. Returns the count of bits set, or -errno. timeoutUs -1: forever.
   */
  readonly select: (
    nfds: number,
    readfds: ArrayBufferView | null,
    writefds: ArrayBufferView | null,
    exceptfds: ArrayBufferView | null,
    timeoutUs: number,
  ) => number;
  /** openat(2): the path as a string (UTF-8); -EINVAL for an embedded NUL. */
  readonly openat: (dirfd: number, path: string, flags: number, mode: number) => number;
  /** openat2(2) with struct open_how's flags, mode and resolve; -ENOSYS before Linux 5.6. */
  readonly openat2: (dirfd: number, path: string, flags: number, mode: number, resolve: number) => number;
  /** fstat(2) into `out`: [st_mode, st_size, mtime seconds, mtime nanoseconds, st_ino, st_dev]; 0 or -errno. */
  readonly fstat: (fd: number, out: Float64Array) => number;
  /** sendfile(2) of `count` bytes of `inFd` from `offset` (the file position untouched); the bytes sent or -errno. */
  readonly sendfile: (outFd: number, inFd: number, offset: number, count: number) => number;
  /** ioctl(2) of SIOCOUTQ, SIOCOUTQNSD or SIOCINQ: the int it reports, or -errno (-EINVAL for any other request). */
  readonly ioctl_int: (fd: number, request: number) => number;
  readonly inet_pton: (af: number, src: string, dst: Uint8Array) => number;
  readonly inet_ntop: (af: number, src: Uint8Array) => string | number;
  /**
   * Watches `epfd` for readability with libuv. On each wake-up, up to `maxevents` ready events
   * are copied to `events` as [fd, events] pairs (epoll_wait with timeout 0) and `listener`
   * gets their count, or -errno and the name of the call that failed ('uv_poll' or
   * 'epoll_wait'; 'watch' with -EINVAL when `events` was detached or shrunk, after which the
   * watcher has stopped polling).
   */
  readonly watch_start: (
    epfd: number,
    events: Uint32Array,
    maxevents: number,
    listener: (count: number, failed?: 'uv_poll' | 'epoll_wait' | 'watch') => void,
  ) => WatchHandle | number;
  readonly watch_stop: (handle: WatchHandle) => void;
  readonly watch_ref: (handle: WatchHandle, ref: boolean) => void;
  /**
   * Calls `listener(timeoutMs)` on every turn of Node's loop, just before libuv's poll
   * phase, with the time libuv would have slept (-1: no limit, 0: work is pending); libuv's
   * own poll then returns at once, so the listener may block in its place for up to that
   * long, with `uv_backend_fd()` in its set (the poll and select backends do).
   */
  readonly turn_start: (listener: (timeoutMs: number) => void) => TurnHandle;
  readonly turn_stop: (handle: TurnHandle) => void;
  readonly turn_ref: (handle: TurnHandle, ref: boolean) => void;
  /** libuv's uv_backend_fd: the epoll fd Node's loop polls, readable while Node has I/O (a signal included). */
  readonly uv_backend_fd: () => number;
  /** libuv's uv_backend_timeout: how long its next poll would sleep, in ms (-1: no limit). */
  readonly uv_backend_timeout: () => number;
  /** pipe2(2): the read end lands in `fds[0]`, the write end in `fds[1]`; returns 0 or -errno. */
  readonly pipe2: (flags: number, fds: Int32Array) => number;
  readonly eventfd: (initval: number, flags: number) => number;
  readonly timerfd_create: (clockid: number, flags: number) => number;
  /**
   * timerfd_settime(2): `spec` and `old` are struct itimerspec as a BigInt64Array of 4
   * (it_value's tv_sec and tv_nsec, then it_interval's); the previous setting lands in `old`.
   */
  readonly timerfd_settime: (fd: number, flags: number, spec: BigInt64Array, old: BigInt64Array) => number;
  /** timerfd_gettime(2) into `out`, laid out as timerfd_settime's `spec`. */
  readonly timerfd_gettime: (fd: number, out: BigInt64Array) => number;
  readonly read: (fd: number, buffer: Uint8Array, offset: number, length: number) => number;
  readonly write: (fd: number, buffer: Uint8Array, offset: number, length: number) => number;
  /** sendto(2) with an encoded sockaddr. */
  readonly sendto: (
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    address: Uint8Array,
  ) => number;
  /** recvfrom(2): the sender's sockaddr into `address`, its length into `addrlen[0]`. */
  readonly recvfrom: (
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    address: Uint8Array,
    addrlen: Int32Array,
  ) => number;
  /**
   * Each environment (the main thread, each Worker) closes the fds the addon opened for it and
   * its `close` did not, when it is torn down. `fd_forget` gives one up (Socket.detach);
   * `fd_adopt` takes one in (Epoll.fromFd, Socket.fromFd).
   */
  readonly fd_forget: (fd: number) => void;
  /**
   * ioctl(chipfd, GPIO_V2_GET_LINE_IOCTL): requests the lines at `offsets` (1 to 64) of a
   * /dev/gpiochipN fd with GPIO_V2_LINE_FLAG_* `flags`; the line fd, or -errno (-ENOTTY for
   * an fd that is not a GPIO chip).
   */
  readonly gpio_v2_get_line: (chipfd: number, offsets: Uint32Array, consumer: string, flags: number) => number;
  readonly fd_adopt: (fd: number) => void;
  /** io_uring_setup(2): `params` is a struct io_uring_params (120 bytes) the kernel reads and fills; the ring's fd or -errno. */
  readonly io_uring_setup: (entries: number, params: Uint8Array) => number;
  /** io_uring_enter(2) with no signal mask: SQEs consumed (or completions waited for) or -errno. */
  readonly io_uring_enter: (fd: number, toSubmit: number, minComplete: number, flags: number) => number;
  /** io_uring_register(2): `arg` holds what the opcode reads (an int, a struct io_uring_buf_reg), or null. */
  readonly io_uring_register: (fd: number, opcode: number, arg: ArrayBufferView | null, nrArgs: number) => number;
  /**
   * mmap(2) as an ArrayBuffer over the mapping (unmapped when the ArrayBuffer is collected),
   * or -errno: a ring's mappings, or page-aligned anonymous memory.
   */
  readonly mmap: (length: number, prot: number, flags: number, fd: number, offset: number) => ArrayBuffer | number;
  /** The address of `view`'s first byte, for an SQE or a buffer ring entry; the caller keeps `view` alive. */
  readonly address_of: (view: ArrayBufferView) => number;
  readonly constants: NativeConstants;
}
