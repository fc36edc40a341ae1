/**
 * A connection's bytes in flight, both ways.
 *
 * Input: bytes read but not used yet (a partial head, pipelined requests waiting, a body),
 * kept only when a read leaves some: most reads are used where they lie, in the server's
 * shared receive buffer, and an idle connection holds no buffer at all.
 *
 * Output: response segments in order, the first sent from `outOffset`, nothing copied when
 * they are queued (the fixed responses are shared by every connection). Sending tries to
 * make it one syscall: several small segments are gathered into one buffer and sent
 * together; large ones go out as sendmsg(2)'s iovecs. A range of a file (a static file's
 * content) goes out with sendfile(2), in file-output.ts.
 *
 * A base class rather than objects of their own: an idle connection then costs no extra
 * allocation, and the hot fields stay in the connection's own object.
 */
import { MSG_NOSIGNAL, SIOCOUTQ } from '../constants.js';
import { sys } from '../sys.js';
import { FileSegment, MAX_IOVECS, closeQueuedFiles, sendWithFiles } from './file-output.js';
import type { FileOutputQueue, OutSegment } from './file-output.js';

/**
 * Unsent bytes past which a connection stops answering pipelined requests and stops pulling
 * a streamed body, until the socket takes them.
 */
export const OUTPUT_HIGH_WATER = 64 * 1024;

export abstract class Buffers implements FileOutputQueue {
  abstract readonly fd: number;
  inbuf: Buffer | null = null;
  inStart = 0;
  inEnd = 0;
  out0: OutSegment | null = null;
  outRest: OutSegment[] | null = null;
  outOffset = 0;
  outBytes = 0;
  /** File segments queued: while there are any, sending goes through file-output.ts. */
  outFiles = 0;
  /** Responses queued and not yet all sent (interim 100s aside): counted once the output drains. */
  unsent = 0;
  /** When the output last moved (our send, or the peer taking bytes off the socket's queue): the send timeout's clock. */
  outputMovedAt = 0;
  /** The socket's send queue (SIOCOUTQ) when last looked at; -1: not looked at since our last send. */
  kernelQueued = -1;

  /** Tells the server's budget that `delta` more (or fewer) bytes of input are held. */
  protected abstract holdBytes(delta: number): void;

  /** Keeps `data[from, to)`, left over after processing, in a buffer of this connection's own. */
  protected keepInput(data: Buffer, from: number, to: number): void {
    const len = to - from;
    const buf = Buffer.allocUnsafe(Math.max(256, 2 * len));
    data.copy(buf, 0, from, to);
    this.inbuf = buf;
    this.inStart = 0;
    this.inEnd = len;
    this.holdBytes(buf.length);
  }

  /** Appends; grown by doubling, so a head trickled in tiny pieces costs linear copying. */
  protected appendInput(data: Buffer, n: number): void {
    let buf = this.inbuf!;
    if (this.inEnd + n > buf.length) {
      const live = this.inEnd - this.inStart;
      const grown = Buffer.allocUnsafe(Math.max(live + n, buf.length * 2));
      buf.copy(grown, 0, this.inStart, this.inEnd);
      // The new buffer is in place before the budget hears of it, so that what is given
      // back later is what is held now, not the old buffer.
      this.inbuf = grown;
      this.inEnd = live;
      this.inStart = 0;
      this.holdBytes(grown.length - buf.length);
      buf = grown;
    }
    data.copy(buf, this.inEnd, 0, n);
    this.inEnd += n;
  }

  /** Frees the input buffer. */
  protected dropInput(): void {
    if (this.inbuf !== null) this.holdBytes(-this.inbuf.length);
    this.inbuf = null;
    this.inStart = 0;
    this.inEnd = 0;
  }

  /** Queues a response's segments (sent in order); a file segment is the queue's to close from now on. */
  queue(first: Uint8Array, body: Uint8Array | FileSegment | null): void {
    this.unsent++;
    this.#push(first, body);
  }

  /** Queues an interim response (100 Continue): sent in order, not counted as a response. */
  interim(bytes: Uint8Array): void {
    this.#push(bytes, null);
  }

  /** Queues more bytes of the response in progress (a streamed body). */
  more(bytes: Uint8Array): void {
    this.#push(bytes, null);
  }

  #push(first: Uint8Array, body: Uint8Array | FileSegment | null): void {
    if (this.out0 === null) {
      this.out0 = first;
      this.outOffset = 0;
    } else {
      (this.outRest ??= []).push(first);
    }
    this.outBytes += first.byteLength;
    if (body instanceof FileSegment) {
      (this.outRest ??= []).push(body);
      this.outBytes += body.end - body.offset;
      this.outFiles++;
    } else if (body !== null) {
      (this.outRest ??= []).push(body);
      this.outBytes += body.byteLength;
    }
  }

  /**
   * One send of as much pending output as one syscall can take: returns the bytes sent (and
   * drops them from the queue), or -errno (EAGAIN, EINTR or the peer's error).
   */
  sendSome(gather: Buffer): number {
    if (this.outFiles > 0) return sendWithFiles(this);
    // No file queued: every segment is in memory.
    const out = this.out0 as Uint8Array;
    const rest = this.outRest as Uint8Array[] | null;
    if (rest === null) {
      const n = sys.send(this.fd, out, this.outOffset, out.byteLength - this.outOffset, MSG_NOSIGNAL);
      if (n > 0) this.advanceOutput(n);
      return n;
    }
    if (this.outBytes <= gather.length) {
      const n = sys.send(this.fd, this.#gather(gather), 0, this.outBytes, MSG_NOSIGNAL);
      if (n >= 0) this.#sentGathered(gather, n);
      return n;
    }
    // Too much to copy: the segments themselves, as sendmsg's iovecs (a large body).
    const iov: Uint8Array[] = [this.outOffset === 0 ? out : out.subarray(this.outOffset)];
    for (let i = 0; i < rest.length && iov.length < MAX_IOVECS; i++) iov.push(rest[i]!);
    const n = sys.sendmsg(this.fd, iov, iov.length, MSG_NOSIGNAL);
    if (n > 0) this.advanceOutput(n);
    return n;
  }

  /**
   * Bytes the peer has not acknowledged yet (SIOCOUTQ): sent by us, still in the kernel.
   * While they shrink, a slow reader is making progress even though we cannot send (EPOLLOUT
   * waits until about a third of a multi-megabyte send buffer has drained). -errno on failure.
   */
  unacknowledged(): number {
    return sys.ioctl_int(this.fd, SIOCOUTQ);
  }

  /** Drops everything pending, closing the files queued (the connection is closing). */
  dropOutput(): void {
    if (this.outFiles > 0) closeQueuedFiles(this);
    this.out0 = null;
    this.outRest = null;
    this.outOffset = 0;
    this.outBytes = 0;
  }

  /** Copies every pending segment into the shared gather buffer: several responses, one send. */
  #gather(g: Buffer): Buffer {
    const first = this.out0 as Uint8Array;
    let at = first.byteLength - this.outOffset;
    g.set(this.outOffset === 0 ? first : first.subarray(this.outOffset), 0);
    for (const seg of this.outRest as Uint8Array[]) {
      g.set(seg, at);
      at += seg.byteLength;
    }
    return g;
  }

  #sentGathered(g: Buffer, n: number): void {
    const left = this.outBytes - n;
    this.outRest = null;
    this.outOffset = 0;
    this.outBytes = left;
    // The gather buffer is shared: what it could not send must be copied out of it.
    this.out0 = left === 0 ? null : Buffer.from(g.subarray(n, n + left));
  }

  /** Drops `n` sent bytes from the front of the queue, segment by segment (memory segments only). */
  advanceOutput(n: number): void {
    this.outBytes -= n;
    let left = n;
    while (left > 0) {
      const first = this.out0 as Uint8Array;
      const inFirst = first.byteLength - this.outOffset;
      if (left < inFirst) {
        this.outOffset += left;
        return;
      }
      left -= inFirst;
      this.outOffset = 0;
      const rest = this.outRest;
      if (rest === null || rest.length === 0) {
        this.out0 = null;
        this.outRest = null;
        return;
      }
      this.out0 = rest.shift()!;
      if (rest.length === 0) this.outRest = null;
    }
  }
}
