/**
 * The poll(2) backend: a thin layer on `PollFds` (src/pollfds.ts), the pollfd array that
 * Python's `Poll` sits on too, handed to the kernel whole on every wait, as the seed's era
 * of servers did. The kernel checks every entry on every call and so does the scan for the
 * ready ones: the cost grows with the number of fds watched, idle or not, which is what
 * `etlt lab scaling` measures against epoll. Linux's poll bits are epoll's (POLLIN is
 * EPOLLIN, and so on), so masks pass unchanged.
 */
import { EINVAL, EPOLLERR, EPOLLET, EPOLLHUP, POLLNVAL } from '../constants.js';
import { PollFds } from '../pollfds.js';
import type { BackendName } from './backend.js';
import { BlockingBackend } from './blocking-backend.js';

/** A poll(2) set (named so beside the `PollBackend` interface). Level-triggered only: EPOLLET is refused with EINVAL. */
export class PollSetBackend extends BlockingBackend {
  readonly name: BackendName = 'poll';
  readonly fdLimit = Infinity;
  protected readonly syscall = 'poll';
  readonly #set = new PollFds();

  add(fd: number, mask: number): number {
    if ((mask & EPOLLET) !== 0) return -EINVAL;
    return this.#set.add(fd, mask);
  }

  modify(fd: number, mask: number): number {
    if ((mask & EPOLLET) !== 0) return -EINVAL;
    return this.#set.modify(fd, mask);
  }

  remove(fd: number): number {
    return this.#set.remove(fd);
  }

  forget(fd: number): void {
    this.#set.remove(fd);
  }

  get size(): number {
    return this.#set.size;
  }

  fillPollfds(fds: Int32Array, masks: Int16Array, at: number): number {
    return this.#set.fill(fds, masks, at);
  }

  waitWith(out: Uint32Array, max: number, timeoutMs: number, extraFd: number): number {
    const n = this.#set.poll(timeoutMs, extraFd);
    if (n <= 0) return n;
    const found = this.#set.collect(out, max, n, true);
    // An fd closed without forget() (a bug above): reported as failed, so its owner lets go.
    for (let i = 0; i < found; i++) if ((out[2 * i + 1]! & POLLNVAL) !== 0) out[2 * i + 1] = EPOLLERR | EPOLLHUP;
    return found;
  }

  protected clear(): void {
    this.#set.clear();
  }
}
