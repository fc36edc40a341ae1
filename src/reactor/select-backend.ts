/**
 * The select(2) backend: three fd sets of FD_SETSIZE bits (read, write, except), copied
 * from the interest sets before every wait because the kernel rewrites them in place, and
 * scanned bit by bit after it. An fd at or above FD_SETSIZE (1024) does not fit in glibc's
 * fd_set: such fds are refused (EINVAL), never written past the sets, and the server sheds
 * the connections it cannot watch (see `fdLimit`).
 *
 * select has no hang-up or error bits of its own: a closed or reset peer shows as readable
 * (recv then reads the EOF or the error). epoll and poll report an error or a hang-up
 * whatever the interest, and the server relies on it: a connection waiting for its handler
 * is watched for nothing, and a peer that resets meanwhile must be let go at once (a reset
 * storm against a slow handler otherwise holds every fd until the handlers answer). So an
 * fd watched for neither input nor output stays in the read set here, for its errors only:
 * when select reports it, SO_ERROR says whether the peer reset (reported as ERR | HUP, as
 * epoll would). If not, the readability is data or a FIN the owner does not want yet, which
 * select would report at every wait: the fd leaves the read set until its interest changes
 * (a reset after that is noticed when it does, as before). One getsockopt per such report.
 */
import {
  EEXIST,
  EINVAL,
  ENOENT,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLPRI,
  FD_SETSIZE,
  SOL_SOCKET,
  SO_ERROR,
} from '../constants.js';
import { sys } from '../sys.js';
import type { BackendName } from './backend.js';
import { BlockingBackend } from './blocking-backend.js';

/** 32-bit words in an fd_set of FD_SETSIZE (glibc's 1024) bits: the highest fd select can watch is 1023. */
const WORDS = FD_SETSIZE / 32;

/** A select(2) set over fds below FD_SETSIZE. Level-triggered only: EPOLLET is refused with EINVAL. */
export class SelectBackend extends BlockingBackend {
  readonly name: BackendName = 'select';
  readonly fdLimit = FD_SETSIZE;
  protected readonly syscall = 'select';
  // Words of 32 bits: bit fd % 32 of word fd / 32 is the kernel's bit fd % 64 of long fd / 64
  // on a little-endian machine, the only kind Node runs on with this addon.
  readonly #wantRead = new Uint32Array(WORDS);
  readonly #wantWrite = new Uint32Array(WORDS);
  readonly #wantExcept = new Uint32Array(WORDS);
  /** Fds watched for neither input nor output: in the read set for their errors only (see above). */
  readonly #errorsOnly = new Uint32Array(WORDS);
  readonly #soError = new Uint32Array(1);
  readonly #read = new Uint32Array(WORDS);
  readonly #write = new Uint32Array(WORDS);
  readonly #except = new Uint32Array(WORDS);
  /** Registered fds (whatever their interest), and the highest, for select's nfds. */
  readonly #registered = new Uint8Array(FD_SETSIZE);
  #highest = -1;
  #size = 0;
  /** Where the next scan starts, so a long run of ready fds cannot starve the ones after it. */
  #cursor = 0;

  add(fd: number, mask: number): number {
    if ((mask & EPOLLET) !== 0 || fd < 0 || fd >= FD_SETSIZE) return -EINVAL;
    if (this.#registered[fd] !== 0) return -EEXIST;
    this.#registered[fd] = 1;
    this.#size++;
    if (fd > this.#highest) this.#highest = fd;
    this.#setMask(fd, mask);
    return 0;
  }

  modify(fd: number, mask: number): number {
    if ((mask & EPOLLET) !== 0 || fd < 0 || fd >= FD_SETSIZE) return -EINVAL;
    if (this.#registered[fd] === 0) return -ENOENT;
    this.#setMask(fd, mask);
    return 0;
  }

  remove(fd: number): number {
    if (fd < 0 || fd >= FD_SETSIZE || this.#registered[fd] === 0) return -ENOENT;
    this.#registered[fd] = 0;
    this.#size--;
    this.#setMask(fd, 0);
    if (fd === this.#highest) {
      let h = fd - 1;
      while (h >= 0 && this.#registered[h] === 0) h--;
      this.#highest = h;
    }
    return 0;
  }

  forget(fd: number): void {
    this.remove(fd);
  }

  get size(): number {
    return this.#size;
  }

  fillPollfds(fds: Int32Array, masks: Int16Array, at: number): number {
    for (let fd = 0; fd <= this.#highest; fd++) {
      if (this.#registered[fd] === 0) continue;
      const w = fd >>> 5;
      const bit = 1 << (fd & 31);
      const events =
        ((this.#wantRead[w]! & bit) !== 0 ? EPOLLIN : 0) |
        ((this.#wantWrite[w]! & bit) !== 0 ? EPOLLOUT : 0) |
        ((this.#wantExcept[w]! & bit) !== 0 ? EPOLLPRI : 0) |
        ((this.#errorsOnly[w]! & bit) !== 0 ? EPOLLIN : 0);
      // Watched for nothing (and out of the read set) is not watched by select: poll would
      // report its hang-up at every wait, and select's own wait never would, a busy loop.
      if (events === 0) continue;
      fds[2 * at] = fd;
      masks[4 * at + 2] = events;
      at++;
    }
    return at;
  }

  waitWith(out: Uint32Array, max: number, timeoutMs: number, extraFd: number): number {
    const read = this.#read;
    // Every word, not only those up to the highest fd: a stale bit above it (an fd since
    // removed) would reach the kernel when libuv's fd (extraFd) is higher still.
    read.set(this.#wantRead);
    const errorsOnly = this.#errorsOnly;
    for (let w = 0, words = (this.#highest >>> 5) + 1; w < words; w++) read[w] = read[w]! | errorsOnly[w]!;
    this.#write.set(this.#wantWrite);
    this.#except.set(this.#wantExcept);
    let nfds = this.#highest + 1;
    if (extraFd >= 0) {
      if (extraFd >= FD_SETSIZE) return -EINVAL;
      read[extraFd >>> 5]! |= 1 << (extraFd & 31);
      if (extraFd >= nfds) nfds = extraFd + 1;
    }
    const n = sys.select(nfds, read, this.#write, this.#except, timeoutMs < 0 ? -1 : timeoutMs * 1000);
    if (n <= 0) return n;
    if (extraFd >= 0) read[extraFd >>> 5]! &= ~(1 << (extraFd & 31));
    return this.#highest < 0 ? 0 : this.#collect(out, max);
  }

  /**
   * The ready fds, from the cursor round to it again, at most `max`; the cursor then rests
   * just past the last one reported, so a full batch cannot starve the fds after it.
   */
  #collect(out: Uint32Array, max: number): number {
    const read = this.#read;
    const write = this.#write;
    const except = this.#except;
    const words = (this.#highest >>> 5) + 1;
    const start = this.#cursor < words * 32 ? this.#cursor : 0;
    const first = start >>> 5;
    // Bits of the first word at or after the cursor now, the ones below it last.
    const above = (~0 << (start & 31)) >>> 0;
    let found = 0;
    for (let k = 0; k <= words; k++) {
      const w = (first + k) % words;
      let bits = (read[w]! | write[w]! | except[w]!) >>> 0;
      if (k === 0) bits &= above;
      else if (k === words) bits &= ~above;
      while (bits !== 0) {
        const low = (bits & -bits) >>> 0;
        bits = (bits & ~low) >>> 0;
        const fd = (w << 5) | (31 - Math.clz32(low));
        let events =
          ((read[w]! & low) !== 0 ? EPOLLIN : 0) |
          ((write[w]! & low) !== 0 ? EPOLLOUT : 0) |
          ((except[w]! & low) !== 0 ? EPOLLPRI : 0);
        if ((this.#errorsOnly[w]! & low) !== 0 && (events & EPOLLIN) !== 0) {
          events = this.#peerFailed(fd, w, low) ? (EPOLLERR | EPOLLHUP) >>> 0 : events & ~EPOLLIN;
          if (events === 0) continue;
        }
        out[2 * found] = fd;
        out[2 * found + 1] = events;
        if (++found === max) {
          this.#cursor = fd + 1;
          return found;
        }
      }
    }
    this.#cursor = 0;
    return found;
  }

  /**
   * An fd watched for its errors only was reported readable: true when the socket has an
   * error (a reset; reading SO_ERROR clears it, and the owner closes on ERR | HUP as it
   * would on epoll's report). Otherwise the fd leaves the read set until its interest changes.
   */
  #peerFailed(fd: number, w: number, bit: number): boolean {
    const r = sys.getsockopt(fd, SOL_SOCKET, SO_ERROR, this.#soError);
    if (r > 0 && this.#soError[0] !== 0) return true;
    this.#errorsOnly[w] = this.#errorsOnly[w]! & ~bit;
    return false;
  }

  #setMask(fd: number, mask: number): void {
    const w = fd >>> 5;
    const bit = 1 << (fd & 31);
    const watched = this.#registered[fd] !== 0 && (mask & (EPOLLIN | EPOLLOUT)) === 0;
    this.#errorsOnly[w] = watched ? this.#errorsOnly[w]! | bit : this.#errorsOnly[w]! & ~bit;
    this.#wantRead[w] = (mask & EPOLLIN) !== 0 ? this.#wantRead[w]! | bit : this.#wantRead[w]! & ~bit;
    this.#wantWrite[w] = (mask & EPOLLOUT) !== 0 ? this.#wantWrite[w]! | bit : this.#wantWrite[w]! & ~bit;
    this.#wantExcept[w] = (mask & EPOLLPRI) !== 0 ? this.#wantExcept[w]! | bit : this.#wantExcept[w]! & ~bit;
  }

  protected clear(): void {
    this.#registered.fill(0);
    this.#wantRead.fill(0);
    this.#wantWrite.fill(0);
    this.#wantExcept.fill(0);
    this.#errorsOnly.fill(0);
    this.#highest = -1;
    this.#size = 0;
  }
}
