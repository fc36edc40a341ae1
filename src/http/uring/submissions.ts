/**
 * The SQEs the completion engine writes, one method per kind, and the one submit: what the
 * engine asks of the ring, apart from the bookkeeping it does around each (its connections'
 * flags, its counters). Every operation is tagged in its user_data with an {@link Op}, which
 * the engine's dispatch reads back from the completion.
 */
import { sys } from '../../sys.js';
import {
  EBUSY,
  IORING_ACCEPT_MULTISHOT,
  IORING_ASYNC_CANCEL_ALL,
  IORING_ASYNC_CANCEL_FD,
  IORING_OP_ACCEPT,
  IORING_OP_ASYNC_CANCEL,
  IORING_OP_CLOSE,
  IORING_OP_POLL_ADD,
  IORING_OP_RECV,
  IORING_OP_SEND,
  IORING_RECV_MULTISHOT,
  IOSQE_BUFFER_SELECT,
  IOSQE_CQE_SKIP_SUCCESS,
  IOSQE_IO_HARDLINK,
  MSG_NOSIGNAL,
  POLLOUT,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
} from '../../constants.js';
import { EtltSystemError } from '../../errors.js';
import type { BufferRing } from '../../reactor/buffer-ring.js';
import type { Ring } from '../../reactor/uring.js';
import type { ReactorCounters } from '../../trace/counters.js';

/** The operation of a completion, in the high 32 bits of its user_data; the low 32 name the connection. */
export const enum Op {
  Accept = 1,
  Recv = 2,
  Send = 3,
  PollOut = 4,
  Cancel = 5,
  Close = 6,
}

/**
 * The provided buffers: one per connection that receives between two turns (c=500 needs
 * about 500: with fewer, ENOBUFS ends multishot receives by the hundred thousand and each
 * must be armed again), 32 KiB each, so a burst is mostly taken in as it is there. 16 MiB
 * of address space; only the pages the kernel writes become resident.
 */
export const BUFFER_GROUP = 0;
export const BUFFER_COUNT = 512;
export const BUFFER_SIZE = 32 * 1024;
/**
 * The most bytes one multishot recv takes before it ends (sqe->optlen; newer kernels, which
 * refuse it with EINVAL otherwise, then it is not asked for again): the connection then
 * says whether it wants more. Without a cap a multishot recv empties the socket into
 * provided buffers as fast as the peer sends, whether or not anyone reads: a streamed
 * upload nobody pulls would be read whole before its first completion is looked at.
 */
const RECV_CAP = 64 * 1024;
const TWO32 = 4294967296;

export class Submissions {
  readonly ring: Ring;
  readonly buffers: BufferRing;
  readonly #counters: ReactorCounters;
  readonly #onError: (err: Error) => void;
  /** Base addresses of the ArrayBuffers sent from (one crossing per buffer, not per send). */
  readonly #bases = new WeakMap<ArrayBufferLike, number>();
  /** The multishot recv's cap (RECV_CAP), 0 once the kernel refused it. */
  #recvCap = RECV_CAP;

  constructor(ring: Ring, counters: ReactorCounters, onError: (err: Error) => void) {
    this.ring = ring;
    this.buffers = ring.bufferRing(BUFFER_GROUP, BUFFER_COUNT, BUFFER_SIZE);
    this.#counters = counters;
    this.#onError = onError;
  }

  /** Publishes the buffers given back and submits every SQE prepared; the count or -errno. */
  submit(): number {
    const ring = this.ring;
    if (ring.closed) return 0;
    this.buffers.publish();
    const r = ring.submit();
    this.#counters.ringEnters = ring.enters;
    if (r < 0 && r !== -4 /* EINTR */) this.#onError(new EtltSystemError(r, 'io_uring_enter'));
    return r;
  }

  /** The multishot accept on `listenerFd`, non-blocking, close-on-exec sockets. */
  accept(listenerFd: number): void {
    const ring = this.ring;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_ACCEPT, listenerFd, 0, 0, 0, Op.Accept);
    ring.setIoprio(w, IORING_ACCEPT_MULTISHOT);
    ring.setOpFlags(w, SOCK_NONBLOCK | SOCK_CLOEXEC);
  }

  /**
   * Cancels whatever the ring holds of `fd` and enters the kernel at once: by fd, so the ring
   * lets go of a listening socket before the caller closes it (the kernel keeps a socket a
   * request holds listening after close(2)).
   */
  cancelNow(fd: number): void {
    const ring = this.ring;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_ASYNC_CANCEL, fd, 0, 0, 0, Op.Cancel);
    ring.setOpFlags(w, IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL);
    ring.submit(true);
    this.#counters.ringEnters = ring.enters;
  }

  /** A multishot recv into the provided buffers, capped (see RECV_CAP) unless the kernel refused the cap. */
  recv(fd: number, id: number): void {
    const ring = this.ring;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_RECV, fd, 0, 0, id, Op.Recv);
    ring.setIoprio(w, IORING_RECV_MULTISHOT);
    ring.setFlags(w, IOSQE_BUFFER_SELECT);
    ring.setBufGroup(w, BUFFER_GROUP);
    if (this.#recvCap > 0) ring.setOptlen(w, this.#recvCap);
  }

  /**
   * A recv ended with EINVAL: true the first time while the cap is asked for (a kernel without
   * the multishot recv's total cap; every recv is armed without it from now on).
   */
  refuseRecvCap(): boolean {
    if (this.#recvCap === 0) return false;
    this.#recvCap = 0;
    return true;
  }

  /** Cancels connection `id`'s multishot recv (by its user_data). */
  cancelRecv(id: number): void {
    const w = this.#sqe(1);
    this.ring.prep(w, IORING_OP_ASYNC_CANCEL, -1, id + Op.Recv * TWO32, 0, 0, Op.Cancel);
  }

  send(fd: number, id: number, buf: Uint8Array, offset: number, len: number): void {
    const ring = this.ring;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_SEND, fd, this.#address(buf) + offset, len, id, Op.Send);
    // No MSG_WAITALL: a send that fills the socket completes short, which tells that the
    // peer is not keeping up (sendAgain, as EAGAIN does on epoll); the rest is sent next,
    // and that send waits inside the kernel (its poll) until the socket has room.
    ring.setOpFlags(w, MSG_NOSIGNAL);
  }

  pollOut(fd: number, id: number): void {
    const ring = this.ring;
    const w = this.#sqe(1);
    ring.prep(w, IORING_OP_POLL_ADD, fd, 0, 0, id, Op.PollOut);
    ring.setOpFlags(w, POLLOUT);
  }

  /**
   * Closes `fd` through the ring. What the ring holds of the fd (`busy`) keeps the socket open
   * past close(2): cancelled first, then the close, linked so that it runs after the cancel
   * whatever its result.
   */
  close(fd: number, id: number, busy: boolean): void {
    const ring = this.ring;
    const w = this.#sqe(busy ? 2 : 1);
    if (busy) {
      ring.prep(w, IORING_OP_ASYNC_CANCEL, fd, 0, 0, id, Op.Cancel);
      ring.setOpFlags(w, IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL);
      ring.setFlags(w, IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS);
    }
    const w2 = busy ? ring.sqe() : w;
    ring.prep(w2, IORING_OP_CLOSE, fd, 0, 0, id, Op.Close);
    ring.setFlags(w2, IOSQE_CQE_SKIP_SUCCESS);
  }

  /** A free SQE, submitting first when fewer than `need` are left (so linked SQEs stay together). */
  #sqe(need: number): number {
    const ring = this.ring;
    if (ring.space() < need) {
      this.submit();
      // SQPOLL: the submit only published them; its thread takes them when it runs.
      if (ring.space() < need) ring.waitForSpace();
    }
    const w = ring.sqe();
    // Never reached with the kernel consuming the SQ; if it were, an SQE written nowhere
    // would leave a connection waiting for ever: fail loudly instead.
    if (w < 0) throw new EtltSystemError(-EBUSY, 'io_uring_enter', 'the submission queue stayed full');
    return w;
  }

  /** The address of `buf`'s first byte (its ArrayBuffer's base asked of the addon once). */
  #address(buf: Uint8Array): number {
    const ab = buf.buffer;
    let base = this.#bases.get(ab);
    if (base === undefined) {
      base = sys.address_of(buf) - buf.byteOffset;
      this.#bases.set(ab, base);
    }
    return base + buf.byteOffset;
  }
}
