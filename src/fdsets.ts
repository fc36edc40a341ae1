/**
 * select(2)'s sets, kept by the process: the one implementation under both Python's
 * `select()` (src/select.ts) and the reactor's select backend, as pollfds.ts is poll(2)'s and
 * CPython's selectors.SelectSelector sits on select.select. Three sets of FD_SETSIZE bits the
 * process wants (read, write, except), copied into the three the kernel rewrites in place
 * before every wait, and scanned a 32-bit word at a time after it. Every call returns a count
 * or -errno and allocates nothing.
 *
 * Masks are poll's bits, epoll's too on Linux: POLLIN is the read set, POLLOUT the write set,
 * POLLPRI the except set; select has no others. An fd from FD_SETSIZE (1024) up does not fit
 * in glibc's fd_set, the size Python keeps: it is refused (EINVAL), never written past the sets.
 */
import { EEXIST, EINVAL, ENOENT, FD_SETSIZE, POLLIN, POLLOUT, POLLPRI } from './constants.js';
import { wordOf } from './fdset.js';
import { sys } from './sys.js';

/** 32-bit words in an fd_set of FD_SETSIZE bits. */
const WORDS = FD_SETSIZE / 32;
/** The bits a set can hold. */
const SELECTABLE = POLLIN | POLLOUT | POLLPRI;
/** In `#masks`: the fd is in the set (its mask may be empty). */
const IN_SET = 0x80;

export class FdSets {
  readonly #wantRead = new Uint32Array(WORDS);
  readonly #wantWrite = new Uint32Array(WORDS);
  readonly #wantExcept = new Uint32Array(WORDS);
  /** The sets handed to the kernel, and after the wait the ready fds. */
  readonly #read = new Uint32Array(WORDS);
  readonly #write = new Uint32Array(WORDS);
  readonly #except = new Uint32Array(WORDS);
  /** Each fd's mask, with IN_SET; 0: not in the set. */
  readonly #masks = new Uint8Array(FD_SETSIZE);
  /** The highest fd in the set (for select's nfds and the scan), -1 when empty. */
  #highest = -1;
  #size = 0;
  /** Where the next scan starts, so a long run of ready fds cannot starve the ones after it. */
  #cursor = 0;

  /** Fds in the set, those with an empty mask included. */
  get size(): number {
    return this.#size;
  }

  /** Whether `fd` is in the set. */
  has(fd: number): boolean {
    return fd >= 0 && fd < FD_SETSIZE && this.#masks[fd] !== 0;
  }

  /** The mask of `fd` (POLLIN, POLLOUT, POLLPRI), or -ENOENT. */
  maskOf(fd: number): number {
    return this.has(fd) ? this.#masks[fd]! & SELECTABLE : -ENOENT;
  }

  /** Adds `fd` with `mask` (bits other than POLLIN, POLLOUT, POLLPRI ignored); 0, -EEXIST or -EINVAL. */
  add(fd: number, mask: number): number {
    if (fd < 0 || fd >= FD_SETSIZE) return -EINVAL;
    if (this.#masks[fd] !== 0) return -EEXIST;
    this.#size++;
    if (fd > this.#highest) this.#highest = fd;
    this.#set(fd, mask);
    return 0;
  }

  /** Changes the mask of `fd`; 0, -ENOENT or -EINVAL. */
  modify(fd: number, mask: number): number {
    if (fd < 0 || fd >= FD_SETSIZE) return -EINVAL;
    if (this.#masks[fd] === 0) return -ENOENT;
    this.#set(fd, mask);
    return 0;
  }

  /** Removes `fd`; 0, or -ENOENT. */
  remove(fd: number): number {
    if (!this.has(fd)) return -ENOENT;
    this.#set(fd, 0);
    this.#masks[fd] = 0;
    this.#size--;
    if (fd === this.#highest) {
      let h = fd - 1;
      while (h >= 0 && this.#masks[h] === 0) h--;
      this.#highest = h;
    }
    return 0;
  }

  /** Empties the set. */
  clear(): void {
    this.#masks.fill(0);
    this.#wantRead.fill(0);
    this.#wantWrite.fill(0);
    this.#wantExcept.fill(0);
    this.#highest = -1;
    this.#size = 0;
    this.#cursor = 0;
  }

  /**
   * select(2) over the set, and `extraFd` too when it is not -1 (in the read set, never
   * reported), for up to `timeoutUs` microseconds (-1: forever). Returns the count of ready
   * bits (the extra fd's included) or -errno (-EINTR: retry with the time left; -EINVAL for
   * an extra fd from FD_SETSIZE up).
   */
  select(timeoutUs: number, extraFd = -1): number {
    const read = this.#read;
    // Every word, not only those up to the highest fd: a stale bit above it (an fd since
    // removed) would reach the kernel when the extra fd is higher still.
    read.set(this.#wantRead);
    this.#write.set(this.#wantWrite);
    this.#except.set(this.#wantExcept);
    let nfds = this.#highest + 1;
    if (extraFd >= 0) {
      if (extraFd >= FD_SETSIZE) return -EINVAL;
      read[wordOf(extraFd)]! |= 1 << (extraFd & 31);
      if (extraFd >= nfds) nfds = extraFd + 1;
    }
    const n = sys.select(nfds, read, this.#write, this.#except, timeoutUs);
    if (n > 0 && extraFd >= 0) read[wordOf(extraFd)]! &= ~(1 << (extraFd & 31));
    return n;
  }

  /** After `select`: the ready bits of `fd` (POLLIN, POLLOUT, POLLPRI), 0 for one not ready. */
  revents(fd: number): number {
    const w = wordOf(fd);
    const bit = 1 << (fd & 31);
    return (
      ((this.#read[w]! & bit) !== 0 ? POLLIN : 0) |
      ((this.#write[w]! & bit) !== 0 ? POLLOUT : 0) |
      ((this.#except[w]! & bit) !== 0 ? POLLPRI : 0)
    );
  }

  /**
   * After `select`: writes up to `max` [fd, revents] pairs into `out` and returns their count,
   * from the cursor round to it again; the cursor then rests just past the last one reported,
   * so a full batch cannot starve the fds after it.
   */
  collect(out: Uint32Array, max: number): number {
    if (this.#highest < 0) return 0;
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
      const fdWord = (first + k) % words;
      const w = wordOf(fdWord << 5);
      let bits = (read[w]! | write[w]! | except[w]!) >>> 0;
      if (k === 0) bits &= above;
      else if (k === words) bits &= ~above;
      while (bits !== 0) {
        const low = (bits & -bits) >>> 0;
        bits = (bits & ~low) >>> 0;
        const fd = (fdWord << 5) | (31 - Math.clz32(low));
        out[2 * found] = fd;
        out[2 * found + 1] =
          ((read[w]! & low) !== 0 ? POLLIN : 0) |
          ((write[w]! & low) !== 0 ? POLLOUT : 0) |
          ((except[w]! & low) !== 0 ? POLLPRI : 0);
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
   * Writes the set as pollfd entries from entry `at` of `fds` (fd at [2i]) and `masks` (events
   * at [4i+2]), which have room for `size` more; returns the entry after the last. An fd with
   * an empty mask is left out: select does not watch it, and poll would report its hang-up.
   */
  fill(fds: Int32Array, masks: Int16Array, at: number): number {
    for (let fd = 0; fd <= this.#highest; fd++) {
      const events = this.#masks[fd]! & SELECTABLE;
      if (events === 0) continue;
      fds[2 * at] = fd;
      masks[4 * at + 2] = events;
      at++;
    }
    return at;
  }

  #set(fd: number, mask: number): void {
    const w = wordOf(fd);
    const bit = 1 << (fd & 31);
    this.#masks[fd] = IN_SET | (mask & SELECTABLE);
    this.#wantRead[w] = (mask & POLLIN) !== 0 ? this.#wantRead[w]! | bit : this.#wantRead[w]! & ~bit;
    this.#wantWrite[w] = (mask & POLLOUT) !== 0 ? this.#wantWrite[w]! | bit : this.#wantWrite[w]! & ~bit;
    this.#wantExcept[w] = (mask & POLLPRI) !== 0 ? this.#wantExcept[w]! | bit : this.#wantExcept[w]! & ~bit;
  }
}
