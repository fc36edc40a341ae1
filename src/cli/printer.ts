/**
 * Terminal output that never stalls the event loop. On Linux, process.stdout writes to a
 * pipe or file synchronously, so a slow reader of our stdout would stall the server. Here
 * one fs.write at a time runs on libuv's thread pool; lines queue behind it up to a bound,
 * and past that they are dropped and counted, never buffered without limit.
 *
 * A pipe or socket is switched to non-blocking mode (and back by `release`): a blocking
 * write to a pipe nobody reads never returns, and that thread-pool thread would then hold
 * the process forever, even past process.exit(), which joins the pool's threads.
 */
import { fstatSync, write } from 'node:fs';
import { sys } from '../sys.js';
import { F_GETFL, F_SETFL, O_NONBLOCK } from '../constants.js';

/** Bytes queued before lines are dropped. */
const MAX_QUEUED = 1 << 20;

export class Printer {
  readonly #fd: number;
  #queue: string[] = [];
  #queued = 0;
  #writing = false;
  #dropped = 0;
  #idle: (() => void)[] = [];
  /** The fd's flags before we made it non-blocking, or -1 if untouched. */
  #savedFlags = -1;
  #released = false;
  #retry: NodeJS.Timeout | undefined;
  /** An fs.write is queued or running on the thread pool. */
  #inFlight = false;

  constructor(fd: number) {
    this.#fd = fd;
    let pipe = false;
    try {
      const st = fstatSync(fd);
      pipe = st.isFIFO() || st.isSocket();
    } catch {
      // Not open: writes will fail and be dropped.
    }
    // Only pipes and sockets: a terminal is shared with the shell, a regular file never blocks.
    const flags = pipe ? sys.fcntl(fd, F_GETFL, 0) : -1;
    if (flags >= 0 && (flags & O_NONBLOCK) === 0 && sys.fcntl(fd, F_SETFL, flags | O_NONBLOCK) === 0) {
      this.#savedFlags = flags;
    }
  }

  /** Lines dropped so far because the reader was too slow. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues `text` (a newline is added); dropped, it counts as one line. */
  line(text: string): void {
    this.#enqueue(text + '\n', 1);
  }

  /** Queues `text` as it is: whole lines, so that a drop never leaves half of one; dropped, each counts. */
  write(text: string): void {
    this.#enqueue(text, -1);
  }

  /** `lines`: what a drop counts, or -1 for the newlines in `text`. */
  #enqueue(text: string, lines: number): void {
    if (this.#released || this.#queued + text.length > MAX_QUEUED) {
      this.#dropped += lines >= 0 ? lines : text.split('\n').length - 1;
      return;
    }
    this.#queue.push(text);
    this.#queued += text.length;
    if (!this.#writing) this.#flush();
  }

  /**
   * Resolves with true once everything queued has been written, or with false after
   * `timeoutMs` if the reader is stuck (a pipe nobody reads never drains).
   */
  drain(timeoutMs = Infinity): Promise<boolean> {
    if (!this.#writing && this.#queue.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idle.push(done);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          this.#idle = this.#idle.filter((f) => f !== done);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  /**
   * Gives up on what is still queued (counted as dropped), stops retrying, and restores the
   * fd's blocking mode; later lines are dropped. Lets the process exit with a stuck reader.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#retry);
    if (this.#queue.length > 0) this.#dropped += this.#queue.length;
    this.#queue = [];
    this.#queued = 0;
    // A write still waiting for a thread-pool thread would find the fd blocking again and,
    // on a pipe nobody reads, never return: the process could not exit. Its callback restores.
    if (!this.#inFlight) this.#restoreFlags();
  }

  #restoreFlags(): void {
    if (this.#savedFlags >= 0) sys.fcntl(this.#fd, F_SETFL, this.#savedFlags);
    this.#savedFlags = -1;
  }

  #flush(): void {
    if (this.#queue.length === 0) {
      this.#writing = false;
      const idle = this.#idle;
      this.#idle = [];
      for (const f of idle) f();
      return;
    }
    this.#writing = true;
    const chunk = Buffer.from(this.#queue.join(''));
    this.#queue = [];
    this.#queued = 0;
    this.#writeAll(chunk, 0);
  }

  #writeAll(chunk: Buffer, offset: number): void {
    this.#inFlight = true;
    write(this.#fd, chunk, offset, chunk.length - offset, null, (err, n) => {
      this.#inFlight = false;
      if (this.#released) {
        this.#restoreFlags();
        this.#flush(); // the queue is empty: ends writing, wakes drain() waiters
        return;
      }
      if (err) {
        // A non-blocking terminal that is full: try again shortly. A closed one: give up.
        if (err.code === 'EAGAIN') {
          if (!this.#released) this.#retry = setTimeout(() => this.#writeAll(chunk, offset), 10);
          return;
        }
        this.#queue = [];
        this.#queued = 0;
        this.#flush();
        return;
      }
      if (offset + n < chunk.length) this.#writeAll(chunk, offset + n);
      else this.#flush();
    });
  }
}
