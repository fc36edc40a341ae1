/**
 * What the poll and select backends share: they have no fd Node's loop could watch, so
 * `watch` blocks in their own wait on every turn of Node's loop, in libuv's place (the
 * addon's turn hook, native/turn.c), with libuv's own epoll fd in the set and libuv's
 * timeout as the limit. A signal (libuv's handler writes to its signal pipe, which that
 * epoll set watches), any of Node's I/O or a due timer ends the wait, Node handles it in
 * the same turn, and the next turn waits again: SIGINT and SIGTERM handlers run at once,
 * in-process clients and timers keep working, and an idle server sleeps in one poll(2) or
 * select(2) per turn instead of spinning.
 */
import { EINTR } from '../constants.js';
import { sys } from '../sys.js';
import type { TurnHandle } from '../sys.js';
import type { BackendName, PollBackend, WakeListener } from './backend.js';

/** A level-triggered backend that blocks in its own syscall; subclasses keep the set. */
export abstract class BlockingBackend implements PollBackend {
  abstract readonly name: BackendName;
  abstract readonly fdLimit: number;
  #turn: TurnHandle | undefined;
  #keepAlive = true;
  #closed = false;

  /** No fd of its own. */
  get fd(): number {
    return -1;
  }

  get closed(): boolean {
    return this.#closed;
  }

  abstract add(fd: number, mask: number): number;
  abstract modify(fd: number, mask: number): number;
  abstract remove(fd: number): number;
  abstract forget(fd: number): void;

  wait(out: Uint32Array, max: number, timeoutMs: number): number {
    return this.waitWith(out, max, timeoutMs, -1);
  }

  /**
   * One wait of up to `timeoutMs` over the set plus `extraFd` (watched for input, never
   * reported; -1: none): [fd, events] pairs into `out`, at most `max`; the count or -errno.
   */
  protected abstract waitWith(out: Uint32Array, max: number, timeoutMs: number, extraFd: number): number;

  /** The name of the syscall `waitWith` makes, for errors. */
  protected abstract readonly syscall: string;

  watch(out: Uint32Array, max: number, listener: WakeListener, onIdle?: () => void): number {
    if (this.#turn || this.#closed) return 0;
    const loopFd = sys.uv_backend_fd();
    const syscall = this.syscall;
    this.#turn = sys.turn_start((timeoutMs) => {
      const n = this.waitWith(out, max, timeoutMs, loopFd);
      // EINTR: a signal arrived; its handler runs in this same turn of Node's loop.
      if (n === 0 || n === -EINTR) onIdle?.();
      else if (n < 0) listener(n, syscall);
      else listener(n);
    });
    if (!this.#keepAlive) sys.turn_ref(this.#turn, false);
    return 0;
  }

  unwatch(): void {
    const turn = this.#turn;
    this.#turn = undefined;
    if (turn) sys.turn_stop(turn);
  }

  ref(keepAlive: boolean): void {
    this.#keepAlive = keepAlive;
    if (this.#turn) sys.turn_ref(this.#turn, keepAlive);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.unwatch();
    this.clear();
  }

  /** Drops the whole set (at close). */
  protected abstract clear(): void;
}
