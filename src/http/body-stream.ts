/**
 * A request body streamed to its handler (`requestBody: 'stream'`): the connection pushes
 * decoded bytes in as they are read, the handler pulls them out with `for await`. Past the
 * high-water mark the connection stops reading the socket (`full`), and a pull that brings
 * it back under asks the connection to read again (`onRoom`, in a microtask, so the
 * connection never runs inside the handler's own call). An error (a malformed or cut-short
 * body) is thrown from the iterator once the bytes before it are taken.
 */

/** Bytes queued past which the connection stops reading the socket for this body. */
export const BODY_HIGH_WATER = 64 * 1024;

export class BodyStream implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #ended = false;
  #error: Error | null = null;
  /** The consumer returned early (break, or stopped reading): later bytes are dropped. */
  #abandoned = false;
  #waiting: { resolve: (r: IteratorResult<Buffer>) => void; reject: (err: Error) => void } | null = null;
  #roomQueued = false;
  readonly #onRoom: () => void;

  /** `onRoom`: the body went from full to not full, or was abandoned: the connection may read on. */
  constructor(onRoom: () => void) {
    this.#onRoom = onRoom;
  }

  /** Whether the connection should stop reading until the consumer pulls. */
  get full(): boolean {
    return this.#bytes > BODY_HIGH_WATER && !this.#abandoned;
  }

  /** Whether the consumer has stopped reading (nothing pushed is kept). */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /** Bytes `buf[start, end)` arrived (copied: the receive buffer is reused). */
  push(buf: Uint8Array, start: number, end: number): void {
    if (this.#abandoned || this.#ended || end <= start) return;
    const chunk = Buffer.from(buf.subarray(start, end));
    const waiting = this.#waiting;
    if (waiting !== null) {
      this.#waiting = null;
      waiting.resolve({ done: false, value: chunk });
      return;
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
  }

  /** The body is complete. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.resolve({ done: true, value: undefined });
  }

  /** The body failed (malformed, cut short, the connection gone): the iterator throws `err`. */
  fail(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = err;
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.reject(err);
  }

  /** Stops keeping bytes (the response is complete and nobody reads): the connection discards the rest. */
  abandon(): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#chunks.length = 0;
    this.#bytes = 0;
    this.#room();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) {
      const wasFull = this.full;
      this.#bytes -= chunk.length;
      if (wasFull && !this.full) this.#room();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended || this.#abandoned) return Promise.resolve({ done: true, value: undefined });
    if (this.#waiting !== null) return Promise.reject(new TypeError('req.stream(): one next() at a time'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** `break` in a `for await`: the rest of the body is not wanted. */
  return(): Promise<IteratorResult<Buffer>> {
    this.abandon();
    return Promise.resolve({ done: true, value: undefined });
  }

  #room(): void {
    if (this.#roomQueued) return;
    this.#roomQueued = true;
    queueMicrotask(() => {
      this.#roomQueued = false;
      this.#onRoom();
    });
  }
}
