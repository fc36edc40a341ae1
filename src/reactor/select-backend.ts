/**
 * The select(2) backend: a thin layer on `FdSets` (src/fdsets.ts), the three fd sets of
 * FD_SETSIZE bits that Python's `select()` sits on too, copied before every wait because the
 * kernel rewrites them in place, and scanned a word at a time after it. An fd at or above
 * FD_SETSIZE (1024) does not fit in glibc's fd_set: such fds are refused (EINVAL), never
 * written past the sets, and the server sheds the connections it cannot watch (see `fdLimit`).
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
  EINVAL,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  FD_SETSIZE,
  SOL_SOCKET,
  SO_ERROR,
} from '../constants.js';
import { FdSets } from '../fdsets.js';
import { sys } from '../sys.js';
import type { BackendName } from './backend.js';
import { BlockingBackend } from './blocking-backend.js';

/** A select(2) set over fds below FD_SETSIZE. Level-triggered only: EPOLLET is refused with EINVAL. */
export class SelectBackend extends BlockingBackend {
  readonly name: BackendName = 'select';
  readonly fdLimit = FD_SETSIZE;
  protected readonly syscall = 'select';
  readonly #sets = new FdSets();
  /** 1 for an fd watched for neither input nor output: in the read set for its errors only (see above). */
  readonly #errorsOnly = new Uint8Array(FD_SETSIZE);
  /** How many: with none, a batch needs no second look. */
  #errorsOnlyCount = 0;
  readonly #soError = new Uint32Array(1);

  add(fd: number, mask: number): number {
    if ((mask & EPOLLET) !== 0) return -EINVAL;
    const r = this.#sets.add(fd, this.#selectMask(mask));
    if (r === 0) this.#markErrorsOnly(fd, mask);
    return r;
  }

  modify(fd: number, mask: number): number {
    if ((mask & EPOLLET) !== 0) return -EINVAL;
    const r = this.#sets.modify(fd, this.#selectMask(mask));
    if (r === 0) this.#markErrorsOnly(fd, mask);
    return r;
  }

  remove(fd: number): number {
    const r = this.#sets.remove(fd);
    if (r === 0) this.#markErrorsOnly(fd, EPOLLIN);
    return r;
  }

  forget(fd: number): void {
    this.remove(fd);
  }

  get size(): number {
    return this.#sets.size;
  }

  fillPollfds(fds: Int32Array, masks: Int16Array, at: number): number {
    return this.#sets.fill(fds, masks, at);
  }

  waitWith(out: Uint32Array, max: number, timeoutMs: number, extraFd: number): number {
    const n = this.#sets.select(timeoutMs < 0 ? -1 : timeoutMs * 1000, extraFd);
    if (n <= 0) return n;
    const found = this.#sets.collect(out, max);
    return this.#errorsOnlyCount === 0 ? found : this.#checkErrorsOnly(out, found);
  }

  /** The sets' mask for an interest: an fd watched for neither input nor output is read for its errors. */
  #selectMask(mask: number): number {
    return (mask & (EPOLLIN | EPOLLOUT)) === 0 ? mask | EPOLLIN : mask;
  }

  #markErrorsOnly(fd: number, mask: number): void {
    const errorsOnly = (mask & (EPOLLIN | EPOLLOUT)) === 0 ? 1 : 0;
    this.#errorsOnlyCount += errorsOnly - this.#errorsOnly[fd]!;
    this.#errorsOnly[fd] = errorsOnly;
  }

  /**
   * The batch with each errors-only fd reported readable replaced by ERR | HUP when its
   * socket has an error (a reset; reading SO_ERROR clears it, and the owner closes on
   * ERR | HUP as it would on epoll's report), or else without its EPOLLIN, the fd leaving the
   * read set until its interest changes; a pair left with no event is dropped.
   */
  #checkErrorsOnly(out: Uint32Array, found: number): number {
    let kept = 0;
    for (let i = 0; i < found; i++) {
      const fd = out[2 * i]!;
      let events = out[2 * i + 1]!;
      if (this.#errorsOnly[fd] !== 0 && (events & EPOLLIN) !== 0) {
        const r = sys.getsockopt(fd, SOL_SOCKET, SO_ERROR, this.#soError);
        if (r > 0 && this.#soError[0] !== 0) {
          events = (EPOLLERR | EPOLLHUP) >>> 0;
        } else {
          events &= ~EPOLLIN;
          this.#sets.modify(fd, this.#sets.maskOf(fd) & ~EPOLLIN);
          this.#markErrorsOnly(fd, EPOLLIN);
          if (events === 0) continue;
        }
      }
      out[2 * kept] = fd;
      out[2 * kept + 1] = events;
      kept++;
    }
    return kept;
  }

  protected clear(): void {
    this.#sets.clear();
    this.#errorsOnly.fill(0);
    this.#errorsOnlyCount = 0;
  }
}
