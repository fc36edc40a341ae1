/**
 * Terminal output that never stalls the event loop. On Linux, process.stdout writes to a
 * pipe or file synchronously, so a slow reader of our stdout would stall the server. Here
 * one fs.write at a time runs on libuv's thread pool; lines queue behind it up to a bound,
 * and past that they are dropped and counted, never buffered without limit.
 */
import { write } from 'node:fs';

/** Bytes queued before lines are dropped. */
const MAX_QUEUED = 1 << 20;

export class Printer {
  readonly #fd: number;
  #queue: string[] = [];
  #queued = 0;
  #writing = false;
  #dropped = 0;
  #idle: (() => void)[] = [];

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Lines dropped so far because the reader was too slow. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues `text` (a newline is added). */
  line(text: string): void {
    if (this.#queued + text.length > MAX_QUEUED) {
      this.#dropped++;
      return;
    }
    this.#queue.push(text + '\n');
    this.#queued += text.length + 1;
    if (!this.#writing) this.#flush();
  }

  /** Resolves once everything queued has been written. */
  drain(): Promise<void> {
    if (!this.#writing && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
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
    write(this.#fd, chunk, offset, chunk.length - offset, null, (err, n) => {
      if (err) {
        // A non-blocking terminal that is full: try again shortly. A closed one: give up.
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          setTimeout(() => this.#writeAll(chunk, offset), 10);
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
