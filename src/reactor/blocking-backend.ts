/**
 * What the poll and select backends share: they have no fd Node's loop could watch, so
 * `watch` blocks in their own wait on every turn of Node's loop, in libuv's place (the
 * addon's turn hook, native/turn.c), with libuv's own epoll fd in the set and libuv's
 * timeout as the limit. A signal (libuv's handler writes to its signal pipe, which that
 * epoll set watches), any of Node's I/O or a due timer ends the wait, Node handles it in
 * the same turn, and the next turn waits again: SIGINT and SIGTERM handlers run at once,
 * in-process clients and timers keep working, and an idle server sleeps in one poll(2) or
 * select(2) per turn instead of spinning.
 *
 * One hook serves every blocking backend of the process: with one (the usual case) it
 * blocks in that backend's own wait; with several (two servers in one program), each is
 * polled without waiting, and when none had anything the hook blocks in one poll(2) over
 * all their fds and libuv's, so no server waits on another's timeout.
 */
import { EINTR, EPOLLIN } from '../constants.js';
import { sys } from '../sys.js';
import type { TurnHandle } from '../sys.js';
import type { BackendName, PollBackend, WakeListener } from './backend.js';

/** A backend's watch: where its batches go. */
interface Watcher {
  readonly out: Uint32Array;
  readonly max: number;
  readonly listener: WakeListener;
  readonly onIdle: (() => void) | undefined;
  readonly syscall: string;
  keepAlive: boolean;
}

const watchers = new Map<BlockingBackend, Watcher>();
let turn: TurnHandle | undefined;
let loopFd = -1;
/** The pollfd array of the combined wait (struct pollfd: int fd, short events, short revents). */
let union = new Int32Array(2 * 64);
let unionMasks = new Int16Array(union.buffer);

function deliver(w: Watcher, n: number): void {
  // EINTR: a signal arrived; its handler runs in this same turn of Node's loop.
  if (n === 0 || n === -EINTR) w.onIdle?.();
  else if (n < 0) w.listener(n, w.syscall);
  else w.listener(n);
}

function onTurn(timeoutMs: number): void {
  if (watchers.size === 1) {
    for (const [backend, w] of watchers) deliver(w, backend.waitWith(w.out, w.max, timeoutMs, loopFd));
    return;
  }
  let ready = false;
  for (const [backend, w] of watchers) {
    const n = backend.waitWith(w.out, w.max, 0, -1);
    if (n !== 0) ready = true;
    deliver(w, n);
  }
  if (ready || timeoutMs === 0 || watchers.size === 0) return;
  // Nothing ready anywhere: sleep on all of them at once. What wakes this is collected on
  // the next turn, which comes at once (libuv's own poll does not sleep while we run).
  let count = 0;
  for (const backend of watchers.keys()) {
    const need = 2 * (count + backend.size + 1);
    if (need > union.length) {
      const grown = new Int32Array(Math.max(need, 2 * union.length));
      grown.set(union);
      union = grown;
      unionMasks = new Int16Array(union.buffer);
    }
    count = backend.fillPollfds(union, unionMasks, count);
  }
  union[2 * count] = loopFd;
  unionMasks[4 * count + 2] = EPOLLIN;
  sys.poll(union, count + 1, timeoutMs);
}

function refTurn(): void {
  if (turn === undefined) return;
  let keepAlive = false;
  for (const w of watchers.values()) keepAlive ||= w.keepAlive;
  sys.turn_ref(turn, keepAlive);
}

/** A level-triggered backend that blocks in its own syscall; subclasses keep the set. */
export abstract class BlockingBackend implements PollBackend {
  abstract readonly name: BackendName;
  abstract readonly fdLimit: number;
  #keepAlive = true;
  #closed = false;

  /** No fd of its own. */
  get fd(): number {
    return -1;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Fds in the set. */
  abstract readonly size: number;

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
  abstract waitWith(out: Uint32Array, max: number, timeoutMs: number, extraFd: number): number;

  /**
   * Writes the set as pollfd entries from entry `at` of `fds` (fd at [2i]) and `masks`
   * (events at [4i+2]), which have room for `size` more; returns the entry after the last.
   */
  abstract fillPollfds(fds: Int32Array, masks: Int16Array, at: number): number;

  /** The name of the syscall `waitWith` makes, for errors. */
  protected abstract readonly syscall: string;

  watch(out: Uint32Array, max: number, listener: WakeListener, onIdle?: () => void): number {
    if (watchers.has(this) || this.#closed) return 0;
    watchers.set(this, { out, max, listener, onIdle, syscall: this.syscall, keepAlive: this.#keepAlive });
    if (turn === undefined) {
      loopFd = sys.uv_backend_fd();
      turn = sys.turn_start(onTurn);
    }
    refTurn();
    return 0;
  }

  unwatch(): void {
    if (!watchers.delete(this)) return;
    if (watchers.size > 0) {
      refTurn();
      return;
    }
    const t = turn;
    turn = undefined;
    if (t) sys.turn_stop(t);
  }

  ref(keepAlive: boolean): void {
    this.#keepAlive = keepAlive;
    const w = watchers.get(this);
    if (w) w.keepAlive = keepAlive;
    refTurn();
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
