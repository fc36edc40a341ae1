/**
 * The poll(2) backend: a pollfd array in one caller-owned buffer, handed to the kernel
 * whole on every wait, as the seed's era of servers did. The kernel checks every entry on
 * every call and so does the scan for the ready ones: the cost grows with the number of
 * fds watched, idle or not, which is what `etlt lab scaling` measures against epoll.
 * Linux's poll bits are epoll's (POLLIN is EPOLLIN, and so on), so masks pass unchanged.
 */
import { EEXIST, EINVAL, ENOENT, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, POLLNVAL } from '../constants.js';
import { sys } from '../sys.js';
import type { BackendName } from './backend.js';
import { BlockingBackend } from './blocking-backend.js';

/** A poll(2) set (named so beside the `PollBackend` interface). Level-triggered only: EPOLLET is refused with EINVAL. */
export class PollSetBackend extends BlockingBackend {
  readonly name: BackendName = 'poll';
  readonly fdLimit = Infinity;
  protected readonly syscall = 'poll';
  /**
   * The pollfd array (struct pollfd: int fd, short events, short revents), with room for one
   * more entry at the end: the extra fd of `waitWith`.
   */
  #fds = new Int32Array(2 * 64);
  #masks = new Int16Array(this.#fds.buffer);
  /** Entries in use; entry i is at #fds[2i] (fd) and #masks[4i+2] (events), #masks[4i+3] (revents). */
  #count = 0;
  /** Entry index + 1 of each fd; 0: not in the set. */
  #slot: number[] = [];
  /** Where the next scan starts, so a long run of ready fds cannot starve the entries after it. */
  #cursor = 0;

  add(fd: number, mask: number): number {
    if ((mask & EPOLLET) !== 0) return -EINVAL;
    if ((this.#slot[fd] ?? 0) !== 0) return -EEXIST;
    if (2 * (this.#count + 2) > this.#fds.length) this.#grow();
    const i = this.#count++;
    this.#fds[2 * i] = fd;
    this.#masks[4 * i + 2] = mask & 0xffff;
    this.#slot[fd] = i + 1;
    return 0;
  }

  modify(fd: number, mask: number): number {
    if ((mask & EPOLLET) !== 0) return -EINVAL;
    const i = (this.#slot[fd] ?? 0) - 1;
    if (i < 0) return -ENOENT;
    this.#masks[4 * i + 2] = mask & 0xffff;
    return 0;
  }

  remove(fd: number): number {
    const i = (this.#slot[fd] ?? 0) - 1;
    if (i < 0) return -ENOENT;
    // The last entry moves into the hole: the array stays dense, so poll(2) sees only live fds.
    const last = --this.#count;
    if (i !== last) {
      const moved = this.#fds[2 * last]!;
      this.#fds[2 * i] = moved;
      this.#masks[4 * i + 2] = this.#masks[4 * last + 2]!;
      this.#slot[moved] = i + 1;
    }
    this.#slot[fd] = 0;
    return 0;
  }

  forget(fd: number): void {
    this.remove(fd);
  }

  get size(): number {
    return this.#count;
  }

  fillPollfds(fds: Int32Array, masks: Int16Array, at: number): number {
    for (let i = 0; i < this.#count; i++, at++) {
      fds[2 * at] = this.#fds[2 * i]!;
      masks[4 * at + 2] = this.#masks[4 * i + 2]!;
    }
    return at;
  }

  waitWith(out: Uint32Array, max: number, timeoutMs: number, extraFd: number): number {
    const count = this.#count;
    let nfds = count;
    if (extraFd >= 0) {
      this.#fds[2 * count] = extraFd;
      this.#masks[4 * count + 2] = EPOLLIN;
      nfds++;
    }
    const n = sys.poll(this.#fds, nfds, timeoutMs);
    if (n <= 0) return n;
    return this.#collect(out, max, count, n);
  }

  /** The ready entries, from the cursor round to it again: at most `max`, or all `ready` found. */
  #collect(out: Uint32Array, max: number, count: number, ready: number): number {
    const fds = this.#fds;
    const masks = this.#masks;
    let found = 0;
    let seen = 0;
    let i = this.#cursor < count ? this.#cursor : 0;
    for (let k = 0; k < count && seen < ready; k++, i = i + 1 === count ? 0 : i + 1) {
      const revents = masks[4 * i + 3]! & 0xffff;
      if (revents === 0) continue;
      seen++;
      if (found === max) {
        this.#cursor = i;
        return found;
      }
      out[2 * found] = fds[2 * i]!;
      // An fd closed without forget() (a bug above): reported as failed, so its owner lets go.
      out[2 * found + 1] = (revents & POLLNVAL) !== 0 ? EPOLLERR | EPOLLHUP : revents;
      found++;
    }
    this.#cursor = i;
    return found;
  }

  protected clear(): void {
    this.#count = 0;
    this.#slot = [];
  }

  #grow(): void {
    const fds = new Int32Array(this.#fds.length * 2);
    fds.set(this.#fds);
    this.#fds = fds;
    this.#masks = new Int16Array(fds.buffer);
  }
}
