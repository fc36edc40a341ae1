/**
 * An io_uring instance driven from JavaScript through shared memory: the submission and
 * completion rings are mapped (one mmap with IORING_FEAT_SINGLE_MMAP, one for the SQE
 * array), SQEs are written in place, and one io_uring_enter submits all of a turn's. CQEs
 * are read in place too: reaping costs no syscall and no crossing into C at all.
 *
 * The ring runs on Node's own loop: an eventfd registered with it (IORING_REGISTER_EVENTFD)
 * is watched by libuv through an epoll set of its own (the addon's watcher, as the epoll
 * backend's), edge-triggered, so a completion wakes the loop and an idle ring costs nothing;
 * no thread, no spin. Knows fds and operations, nothing of sockets' meaning or of HTTP.
 */
import { sys } from '../sys.js';
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  ENOSYS,
  EPOLLET,
  EPOLLIN,
  IO_URING_CQE_SIZE,
  IO_URING_PARAMS_SIZE,
  IO_URING_SQE_SIZE,
  IORING_ENTER_GETEVENTS,
  IORING_ENTER_SQ_WAIT,
  IORING_ENTER_SQ_WAKEUP,
  IORING_FEAT_SINGLE_MMAP,
  IORING_OFF_SQES,
  IORING_OFF_SQ_RING,
  IORING_REGISTER_EVENTFD,
  IORING_SETUP_CLAMP,
  IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_CQSIZE,
  IORING_SETUP_DEFER_TASKRUN,
  IORING_SETUP_SINGLE_ISSUER,
  IORING_SETUP_SQPOLL,
  IORING_SQ_NEED_WAKEUP,
  IORING_SQ_TASKRUN,
  IORING_SETUP_TASKRUN_FLAG,
  MAP_POPULATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
} from '../constants.js';
import { EtltSystemError } from '../errors.js';
import { BufferRing } from './buffer-ring.js';
import { EpollBackend } from './epoll-backend.js';
import { ringRefusal } from './uring-refusal.js';

/** How a ring's completions are run (io_uring_setup(2)'s task-run flags). */
export type RingTaskRun = 'default' | 'coop' | 'defer';

/** Options of {@link Ring}. */
export interface RingOptions {
  /** SQ entries (a power of two; the kernel rounds up); the CQ gets 4 times as many. */
  entries?: number;
  /** A kernel thread polls the SQ (IORING_SETUP_SQPOLL), idle after this many ms; 0: none. */
  sqpollIdleMs?: number;
  /**
   * 'coop': IORING_SETUP_COOP_TASKRUN; 'defer': IORING_SETUP_DEFER_TASKRUN with
   * SINGLE_ISSUER (completions are posted only when this thread enters the kernel).
   */
  taskRun?: RingTaskRun;
}

/** One completion, as {@link Ring.reap} hands it over. */
export type CompletionListener = (udLow: number, udHigh: number, res: number, flags: number) => void;

const TWO32 = 4294967296;
const SQE_SIZE = IO_URING_SQE_SIZE;
const CQE_SIZE = IO_URING_CQE_SIZE;
const PARAMS_SIZE = IO_URING_PARAMS_SIZE;

/**
 * The ring. `sqe()` gives the byte offset of a free SQE (zeroed) for the `prep*` methods,
 * `submit()` hands every prepared SQE to the kernel in one io_uring_enter (none with SQPOLL
 * while its thread is awake), `reap()` reads every completion in place.
 */
export class Ring {
  readonly fd: number;
  readonly sqpoll: boolean;
  readonly taskRun: RingTaskRun;
  /** io_uring_enter calls made (the lab counts them). */
  enters = 0;
  /** Completions reaped. */
  completions = 0;
  readonly #rings: ArrayBuffer;
  readonly #sqesBuffer: ArrayBuffer;
  readonly #r32: Uint32Array;
  readonly #sqe8: Uint8Array;
  readonly #sqe16: Uint16Array;
  readonly #sqe32: Uint32Array;
  readonly #cq32: Int32Array;
  readonly #sqHead: number;
  readonly #sqTail: number;
  readonly #sqMask: number;
  readonly #sqFlags: number;
  readonly #sqEntries: number;
  readonly #cqHead: number;
  readonly #cqTail: number;
  readonly #cqMask: number;
  readonly #cqes: number;
  /** SQEs prepared and not yet published, and the local tail. */
  #pending = 0;
  #tail = 0;
  #eventfd = -1;
  #watcher: EpollBackend | undefined;
  readonly #wake = new Uint32Array(2);

  constructor(options: RingOptions = {}) {
    const params = new Uint8Array(PARAMS_SIZE);
    const p32 = new Uint32Array(params.buffer);
    const sqpollIdleMs = options.sqpollIdleMs ?? 0;
    this.taskRun = options.taskRun ?? 'default';
    let flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    if (sqpollIdleMs > 0) {
      flags |= IORING_SETUP_SQPOLL;
      p32[4] = sqpollIdleMs;
    }
    if (this.taskRun === 'coop') flags |= IORING_SETUP_COOP_TASKRUN;
    // TASKRUN_FLAG: the SQ ring's flags say when completions wait for this thread to enter.
    if (this.taskRun === 'defer')
      flags |= IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_TASKRUN_FLAG;
    const entries = options.entries ?? 4096;
    p32[1] = entries * 4;
    p32[2] = flags >>> 0;
    const fd = sys.io_uring_setup(entries, params);
    if (fd < 0) throw new EtltSystemError(fd, 'io_uring_setup', ringRefusal(fd));
    this.fd = fd;
    this.sqpoll = sqpollIdleMs > 0;
    try {
      if ((p32[5]! & IORING_FEAT_SINGLE_MMAP) === 0) throw new EtltSystemError(-ENOSYS, 'io_uring_setup', 'Linux 5.4+');
      const sqEntries = p32[0]!;
      const cqEntries = p32[1];
      // struct io_sqring_offsets at byte 40, struct io_cqring_offsets at byte 80.
      const so = 10;
      const co = 20;
      const size = Math.max(p32[so + 6]! + sqEntries * 4, p32[co + 5]! + cqEntries * CQE_SIZE);
      const rings = sys.mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
      if (typeof rings === 'number') throw new EtltSystemError(rings, 'mmap', 'the io_uring rings');
      const sqes = sys.mmap(
        sqEntries * SQE_SIZE,
        PROT_READ | PROT_WRITE,
        MAP_SHARED | MAP_POPULATE,
        fd,
        IORING_OFF_SQES,
      );
      if (typeof sqes === 'number') throw new EtltSystemError(sqes, 'mmap', 'the io_uring SQEs');
      this.#rings = rings;
      this.#sqesBuffer = sqes;
      this.#r32 = new Uint32Array(rings);
      this.#sqe8 = new Uint8Array(sqes);
      this.#sqe16 = new Uint16Array(sqes);
      this.#sqe32 = new Uint32Array(sqes);
      this.#cq32 = new Int32Array(rings);
      this.#sqHead = p32[so]! >> 2;
      this.#sqTail = p32[so + 1]! >> 2;
      this.#sqMask = this.#r32[p32[so + 2]! >> 2]!;
      this.#sqEntries = sqEntries;
      this.#sqFlags = p32[so + 4]! >> 2;
      const array = p32[so + 6]! >> 2;
      // The SQ index array, identity once and for all: SQE i is always slot i.
      for (let i = 0; i < sqEntries; i++) this.#r32[array + i] = i;
      this.#cqHead = p32[co]! >> 2;
      this.#cqTail = p32[co + 1]! >> 2;
      this.#cqMask = this.#r32[p32[co + 2]! >> 2]!;
      this.#cqes = p32[co + 5]! >> 2;
      this.#tail = this.#r32[this.#sqTail]!;
    } catch (err) {
      sys.close(fd);
      throw err;
    }
  }

  /** Whether `close()` ran. */
  get closed(): boolean {
    return this.fd < 0;
  }

  /** Free SQEs now. */
  space(): number {
    return this.#sqEntries - ((this.#tail - Atomics.load(this.#r32, this.#sqHead)) >>> 0);
  }

  /** SQEs prepared and not yet submitted. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * A free SQE, zeroed, as the index of its first 32-bit word; -1 when the SQ is full (the
   * caller submits and tries again).
   */
  sqe(): number {
    const head = Atomics.load(this.#r32, this.#sqHead);
    if ((this.#tail - head) >>> 0 >= this.#sqEntries) return -1;
    const i = this.#tail & this.#sqMask;
    this.#tail = (this.#tail + 1) >>> 0;
    this.#pending++;
    const w = i * 16;
    this.#sqe32.fill(0, w, w + 16);
    return w;
  }

  /** Fills the common fields of the SQE at word `w`. */
  prep(w: number, opcode: number, fd: number, addr: number, len: number, udLow: number, udHigh: number): void {
    this.#sqe8[w * 4] = opcode;
    this.#sqe32[w + 1] = fd;
    this.#sqe32[w + 4] = addr % TWO32;
    this.#sqe32[w + 5] = Math.floor(addr / TWO32);
    this.#sqe32[w + 6] = len;
    this.#sqe32[w + 8] = udLow;
    this.#sqe32[w + 9] = udHigh;
  }

  /** sqe->flags (IOSQE_*). */
  setFlags(w: number, flags: number): void {
    this.#sqe8[w * 4 + 1] = flags;
  }

  /** sqe->ioprio (the multishot bits of accept and recv). */
  setIoprio(w: number, ioprio: number): void {
    this.#sqe16[w * 2 + 1] = ioprio;
  }

  /** sqe->off (the 64-bit word at byte 8). */
  setOff(w: number, off: number): void {
    this.#sqe32[w + 2] = off % TWO32;
    this.#sqe32[w + 3] = Math.floor(off / TWO32);
  }

  /** The op-specific 32-bit flags (msg_flags, accept_flags, poll32_events, cancel_flags). */
  setOpFlags(w: number, flags: number): void {
    this.#sqe32[w + 7] = flags >>> 0;
  }

  /** sqe->optlen (the 32-bit word at byte 44): for a multishot recv, the most bytes it receives in all. */
  setOptlen(w: number, optlen: number): void {
    this.#sqe32[w + 11] = optlen >>> 0;
  }

  /** sqe->buf_group. */
  setBufGroup(w: number, group: number): void {
    this.#sqe16[w * 2 + 20] = group;
  }

  /**
   * Publishes the prepared SQEs and, unless an awake SQPOLL thread takes them itself,
   * enters the kernel once for all of them (with GETEVENTS when `getEvents`, which a
   * DEFER_TASKRUN ring needs to run its completions). Returns the count consumed or -errno.
   */
  submit(getEvents = false): number {
    const n = this.#pending;
    if (n > 0) {
      this.#pending = 0;
      Atomics.store(this.#r32, this.#sqTail, this.#tail);
    }
    if (this.sqpoll) {
      if ((Atomics.load(this.#r32, this.#sqFlags) & IORING_SQ_NEED_WAKEUP) === 0 && !getEvents) return n;
      this.enters++;
      const r = sys.io_uring_enter(this.fd, 0, 0, IORING_ENTER_SQ_WAKEUP | (getEvents ? IORING_ENTER_GETEVENTS : 0));
      return r < 0 ? r : n;
    }
    if (n === 0 && !getEvents) return 0;
    this.enters++;
    return sys.io_uring_enter(this.fd, n, 0, getEvents ? IORING_ENTER_GETEVENTS : 0);
  }

  /**
   * Whether there is something to reap: a completion posted, or (DEFER_TASKRUN) completions
   * waiting for this thread to enter the kernel and run them.
   */
  ready(): boolean {
    const cq = this.#cq32;
    if (cq[this.#cqHead] !== Atomics.load(cq, this.#cqTail)) return true;
    return this.taskRun === 'defer' && (Atomics.load(this.#r32, this.#sqFlags) & IORING_SQ_TASKRUN) !== 0;
  }

  /**
   * SQPOLL: waits until its thread has taken SQEs and the SQ has room (IORING_ENTER_SQ_WAIT);
   * without SQPOLL a submit consumes the SQ itself. 0 or -errno.
   */
  waitForSpace(): number {
    if (!this.sqpoll || this.space() > 0) return 0;
    this.enters++;
    const r = sys.io_uring_enter(this.fd, 0, 0, IORING_ENTER_SQ_WAIT | IORING_ENTER_SQ_WAKEUP);
    return r < 0 ? r : 0;
  }

  /** Calls `listener` for every completion posted so far, in order; returns their count. */
  reap(listener: CompletionListener): number {
    const cq = this.#cq32;
    let head = cq[this.#cqHead]! >>> 0;
    let count = 0;
    for (;;) {
      const tail = Atomics.load(cq, this.#cqTail) >>> 0;
      if (head === tail) break;
      while (head !== tail) {
        const at = this.#cqes + (head & this.#cqMask) * 4;
        const udLow = cq[at]! >>> 0;
        const udHigh = cq[at + 1]! >>> 0;
        const res = cq[at + 2]!;
        const flags = cq[at + 3]! >>> 0;
        head = (head + 1) >>> 0;
        count++;
        // The slot is free once head passes it: publish before the listener, which may submit.
        Atomics.store(cq, this.#cqHead, head | 0);
        listener(udLow, udHigh, res, flags);
      }
    }
    this.completions += count;
    return count;
  }

  /** Registers a buffer ring of `count` buffers of `size` bytes as group `group`. */
  bufferRing(group: number, count: number, size: number): BufferRing {
    return new BufferRing(this.fd, group, count, size);
  }

  /**
   * Runs on Node's loop: `listener` runs when completions are there to reap. The addon's
   * epoll watcher (libuv watches its epoll fd, as the epoll backend's) watches either the
   * ring's own fd, level-triggered (readable while the CQ holds completions: once they are
   * reaped it is quiet, whatever this thread's own submits completed inline), or, with
   * DEFER_TASKRUN (whose completions are not posted until this thread enters, so the
   * ring's fd would never turn readable), an eventfd registered with the ring
   * (IORING_REGISTER_EVENTFD), edge-triggered, so it needs no read. `via` forces one.
   * Returns 0 or -errno.
   */
  watch(listener: (count: number, failed?: string) => void, via?: 'ring' | 'eventfd'): number {
    if (this.#watcher) return 0;
    const how = via ?? (this.taskRun === 'defer' ? 'eventfd' : 'ring');
    const watcher = new EpollBackend();
    let r = 0;
    let efd = -1;
    if (how === 'eventfd') {
      efd = r = sys.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (r >= 0) r = sys.io_uring_register(this.fd, IORING_REGISTER_EVENTFD, new Int32Array([efd]), 1);
      if (r >= 0) r = watcher.add(efd, (EPOLLIN | EPOLLET) >>> 0);
    } else r = watcher.add(this.fd, EPOLLIN);
    if (r >= 0) r = watcher.watch(this.#wake, 1, listener);
    if (r < 0) {
      watcher.close();
      if (efd >= 0) sys.close(efd);
      return r;
    }
    this.#eventfd = efd;
    this.#watcher = watcher;
    this.watchedVia = how;
    return 0;
  }

  /** What the watch watches: the ring's fd or its eventfd (see `watch`). */
  watchedVia: 'ring' | 'eventfd' | undefined;

  /** Whether the watch keeps the process alive. */
  ref(keepAlive: boolean): void {
    this.#watcher?.ref(keepAlive);
  }

  /** Stops the watch, closes the eventfd and the ring (its mappings go with their ArrayBuffers); safe twice. */
  close(): void {
    if (this.fd < 0) return;
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#eventfd >= 0) sys.close(this.#eventfd);
    this.#eventfd = -1;
    sys.close(this.fd);
    (this as { fd: number }).fd = -1;
  }

  /** Keeps the mappings reachable for as long as the ring object is. */
  get mappings(): readonly ArrayBuffer[] {
    return [this.#rings, this.#sqesBuffer];
  }
}
