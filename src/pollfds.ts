/**
 * poll(2)'s set, kept by the process: the one implementation under both the Python-faithful
 * `Poll` (src/select.ts) and the reactor's poll backend, as CPython's selectors.PollSelector
 * sits on select.poll. A pollfd array in one caller-owned buffer, handed to the kernel whole
 * on every wait. Every call returns a count or -errno and allocates nothing (but to grow).
 *
 * Entries stay in registration order (Python's `poll()` reports in that order): a removed
 * entry becomes a hole (fd -1, which poll(2) skips), closed up before the next wait, so a
 * removal costs O(1) and the wait, O(n) in the kernel anyway, does the O(n) compaction.
 */
import { EEXIST, ENOENT, EPOLLIN } from './constants.js';
import { sys } from './sys.js';

export class PollFds {
  /**
   * The pollfd array (struct pollfd: int fd, short events, short revents), with room for one
   * more entry at the end: the extra fd of `poll`.
   */
  #fds = new Int32Array(2 * 64);
  #masks = new Int16Array(this.#fds.buffer);
  /** Entries in use, holes included; entry i is at #fds[2i] (fd), #masks[4i+2] (events), #masks[4i+3] (revents). */
  #count = 0;
  /** Removed entries not closed up yet. */
  #holes = 0;
  /** Entry index + 1 of each fd; 0: not in the set. */
  #slot: number[] = [];
  /** Where the next rotating scan starts, so a long run of ready fds cannot starve the entries after it. */
  #cursor = 0;

  /** Fds in the set. */
  get size(): number {
    return this.#count - this.#holes;
  }

  /** Whether `fd` is in the set. */
  has(fd: number): boolean {
    return (this.#slot[fd] ?? 0) !== 0;
  }

  /** Adds `fd` with `mask` (16 bits) after the others; 0, or -EEXIST. */
  add(fd: number, mask: number): number {
    if (this.has(fd)) return -EEXIST;
    // Many removals and no wait between them (a program that churns its set): close up first.
    if (this.#holes > 32 && 2 * this.#holes > this.#count) this.#compact();
    if (2 * (this.#count + 2) > this.#fds.length) this.#grow();
    const i = this.#count++;
    this.#fds[2 * i] = fd;
    this.#masks[4 * i + 2] = mask & 0xffff;
    this.#masks[4 * i + 3] = 0;
    this.#slot[fd] = i + 1;
    return 0;
  }

  /** Changes the mask of `fd`, in place; 0, or -ENOENT. */
  modify(fd: number, mask: number): number {
    const i = (this.#slot[fd] ?? 0) - 1;
    if (i < 0) return -ENOENT;
    this.#masks[4 * i + 2] = mask & 0xffff;
    return 0;
  }

  /** Removes `fd` (a hole until the next wait); 0, or -ENOENT. */
  remove(fd: number): number {
    const i = (this.#slot[fd] ?? 0) - 1;
    if (i < 0) return -ENOENT;
    this.#fds[2 * i] = -1;
    this.#masks[4 * i + 3] = 0;
    this.#slot[fd] = 0;
    this.#holes++;
    return 0;
  }

  /** Empties the set. */
  clear(): void {
    this.#count = 0;
    this.#holes = 0;
    this.#cursor = 0;
    this.#slot = [];
  }

  /**
   * poll(2) over the set, and `extraFd` too when it is not -1 (watched for input, never
   * reported), for up to `timeoutMs` (-1: forever). Returns the count of entries with events
   * (the extra fd's included) or -errno (-EINTR: retry with the time left).
   */
  poll(timeoutMs: number, extraFd = -1): number {
    if (this.#holes > 0) this.#compact();
    let nfds = this.#count;
    if (extraFd >= 0) {
      this.#fds[2 * nfds] = extraFd;
      this.#masks[4 * nfds + 2] = EPOLLIN;
      nfds++;
    }
    return sys.poll(this.#fds, nfds, timeoutMs);
  }

  /**
   * After `poll` returned `ready`: writes up to `max` [fd, revents] pairs into `out` (revents
   * as the kernel set them, POLLNVAL included) and returns their count. `rotate`: from where
   * the last rotating scan stopped, round to it again (fair to every fd when `max` cuts the
   * batch short); otherwise from the first entry, in registration order.
   */
  collect(out: Uint32Array, max: number, ready: number, rotate: boolean): number {
    const count = this.#count;
    const fds = this.#fds;
    const masks = this.#masks;
    let found = 0;
    let seen = 0;
    let i = rotate && this.#cursor < count ? this.#cursor : 0;
    for (let k = 0; k < count && seen < ready; k++, i = i + 1 === count ? 0 : i + 1) {
      const revents = masks[4 * i + 3]! & 0xffff;
      if (revents === 0) continue;
      seen++;
      if (found === max) break;
      out[2 * found] = fds[2 * i]!;
      out[2 * found + 1] = revents;
      found++;
    }
    if (rotate) this.#cursor = i;
    return found;
  }

  /**
   * Writes the set's entries from entry `at` of `fds` (fd at [2i]) and `masks` (events at
   * [4i+2]), which have room for `size` more; returns the entry after the last.
   */
  fill(fds: Int32Array, masks: Int16Array, at: number): number {
    for (let i = 0; i < this.#count; i++) {
      const fd = this.#fds[2 * i]!;
      if (fd < 0) continue;
      fds[2 * at] = fd;
      masks[4 * at + 2] = this.#masks[4 * i + 2]!;
      at++;
    }
    return at;
  }

  /** Closes up the holes, keeping the order; the rotating scan resumes at the same fd. */
  #compact(): void {
    const fds = this.#fds;
    const masks = this.#masks;
    let w = 0;
    let cursor = 0;
    for (let r = 0; r < this.#count; r++) {
      if (r === this.#cursor) cursor = w;
      const fd = fds[2 * r]!;
      if (fd < 0) continue;
      if (w !== r) {
        fds[2 * w] = fd;
        masks[4 * w + 2] = masks[4 * r + 2]!;
        this.#slot[fd] = w + 1;
      }
      w++;
    }
    this.#count = w;
    this.#holes = 0;
    this.#cursor = cursor < w ? cursor : 0;
  }

  #grow(): void {
    const fds = new Int32Array(this.#fds.length * 2);
    fds.set(this.#fds);
    this.#fds = fds;
    this.#masks = new Int16Array(fds.buffer);
  }
}
