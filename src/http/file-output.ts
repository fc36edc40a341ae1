/**
 * Files in a connection's output queue: a `FileSegment` is a range of an open file that
 * goes out with sendfile(2), so none of its bytes pass through JavaScript or a user-space
 * buffer. The memory segments before it (its response head) are sent with MSG_MORE, so the
 * kernel holds them back for the file's first bytes: a small file leaves as one packet with
 * its head. `buffers.ts` hands its queue here while it holds a file.
 */
import { ENODATA, MSG_MORE, MSG_NOSIGNAL } from '../constants.js';
import { sys } from '../sys.js';

/**
 * Most bytes of a file one sendfile(2) is asked for, and most file bytes one connection
 * sends in one turn before the others get theirs (nginx's `sendfile_max_chunk`, 2m).
 */
export const SENDFILE_MAX_CHUNK = 2 * 1024 * 1024;

/** Most segments in one sendmsg (IOV_MAX is 1024 on Linux). */
export const MAX_IOVECS = 1024;

/**
 * `[offset, end)` of the open file `fd`, owned by the output queue from the moment it is
 * queued: closed once sent, or when the connection drops its output (reset, timeout, abort).
 */
export class FileSegment {
  /** The next byte to send. */
  offset: number;

  constructor(
    /** The open file (O_RDONLY); -1 once closed. */
    public fd: number,
    offset: number,
    /** One past the last byte to send: what the response head promised. */
    readonly end: number,
  ) {
    this.offset = offset;
  }

  /** Closes the file; safe twice. */
  close(): void {
    const fd = this.fd;
    this.fd = -1;
    if (fd >= 0) sys.close(fd);
  }
}

/** A segment of the output queue: bytes in memory, or a range of a file. */
export type OutSegment = Uint8Array | FileSegment;

/** What sending files uses of a connection's output queue (`Buffers` is one). */
export interface FileOutputQueue {
  readonly fd: number;
  out0: OutSegment | null;
  outRest: OutSegment[] | null;
  /** Bytes of `out0` already sent, when it is in memory (a file keeps its own offset). */
  outOffset: number;
  outBytes: number;
  /** File segments queued. */
  outFiles: number;
  /** Drops `n` sent bytes of memory segments from the front of the queue. */
  advanceOutput(n: number): void;
}

/**
 * One syscall's worth of a queue that holds a file: the memory segments before the first
 * file (with MSG_MORE when a file follows them), or the file at the front (sendfile). The
 * bytes sent, or -errno; -ENODATA when the file ended before the promised length (it
 * shrank while being sent: the connection must end, never send a wrong length).
 */
export function sendWithFiles(q: FileOutputQueue): number {
  // A short sendfile is not taken for a full socket: a pending signal (SIGUSR1, say) ends
  // the splice loop early with room left, so the kernel set no SOCK_NOSPACE and no writable
  // edge would come for ET (the soak saw downloads stall to the idle timeout and reset).
  // The caller sends again: EAGAIN then proves the socket full, 0 proves the file shrank.
  const front = q.out0!;
  if (front instanceof FileSegment) {
    const count = Math.min(front.end - front.offset, SENDFILE_MAX_CHUNK);
    const n = sys.sendfile(q.fd, front.fd, front.offset, count);
    if (n > 0) {
      q.outBytes -= n;
      front.offset += n;
      if (front.offset === front.end) nextSegment(q, front);
      return n;
    }
    return n === 0 ? -ENODATA : n;
  }
  const rest = q.outRest;
  const iov: Uint8Array[] = [q.outOffset === 0 ? front : front.subarray(q.outOffset)];
  let fileNext = false;
  if (rest !== null) {
    for (let i = 0; i < rest.length && iov.length < MAX_IOVECS; i++) {
      const seg = rest[i]!;
      if (seg instanceof FileSegment) {
        fileNext = true;
        break;
      }
      iov.push(seg);
    }
  }
  const flags = fileNext ? MSG_NOSIGNAL | MSG_MORE : MSG_NOSIGNAL;
  const only = iov[0]!;
  const n =
    iov.length === 1 ? sys.send(q.fd, only, 0, only.byteLength, flags) : sys.sendmsg(q.fd, iov, iov.length, flags);
  if (n > 0) q.advanceOutput(n);
  return n;
}

/** The front file is sent: closes it, and the next segment comes to the front. */
function nextSegment(q: FileOutputQueue, done: FileSegment): void {
  done.close();
  q.outFiles--;
  q.outOffset = 0;
  const rest = q.outRest;
  if (rest === null || rest.length === 0) {
    q.out0 = null;
    q.outRest = null;
    return;
  }
  q.out0 = rest.shift()!;
  if (rest.length === 0) q.outRest = null;
}

/** Closes every file still queued (the connection is dropping its output). */
export function closeQueuedFiles(q: FileOutputQueue): void {
  if (q.out0 instanceof FileSegment) q.out0.close();
  for (const seg of q.outRest ?? []) if (seg instanceof FileSegment) seg.close();
  q.outFiles = 0;
}
