/**
 * What the access log says of one response: its request's method and target, status,
 * content bytes and duration, and the client's address (read once per connection). An
 * exchange keeps one, filled only while someone listens for 'access'.
 */
import type { RequestHead } from './head.js';
import { addressOf } from './request.js';

/** One response, for the access log (or a request its client left unanswered: status 499, 0 bytes). */
export interface AccessEntry {
  /** The method and target as sent ('-' for a request too broken to read). */
  readonly method: string;
  readonly target: string;
  readonly version: '1.0' | '1.1';
  readonly status: number;
  /** Bytes of the response's content, its head left out (a chunked stream's framing counted), as the common log format's %b. */
  readonly bytes: number;
  /** From the request's head to its response's last byte queued. */
  readonly durationMs: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** When it was logged (ms since the epoch). */
  readonly time: number;
}

/** nginx's status for a request whose client closed the connection before it was answered. */
const CLIENT_CLOSED_REQUEST = 499;

export class AccessRecord {
  #at = 0;
  #method = '-';
  #target = '-';
  #status = 0;
  /** Content bytes so far (a stream adds its chunks). */
  bytes = 0;
  #peer: [string, number] | null = null;

  /** A head was read (`head` null when it could not be parsed): its clock starts. */
  begin(buf: Buffer | null, head: RequestHead | null): void {
    this.#at = performance.now();
    if (buf === null || head === null) {
      this.#method = this.#target = '-';
      return;
    }
    this.#method = buf.toString('latin1', head.methodStart, head.methodEnd);
    this.#target = buf.toString('latin1', head.targetStart, head.targetEnd);
  }

  /** The response's head (with perhaps its content) and `rest` bytes of content after it were queued. */
  queued(first: Uint8Array, rest: number): void {
    // The head ends at the first empty line; the status is the status line's three digits.
    const head = Buffer.from(first.buffer, first.byteOffset, first.byteLength).indexOf('\r\n\r\n') + 4;
    this.bytes = first.byteLength - head + rest;
    this.#status = (first[9]! - 48) * 100 + (first[10]! - 48) * 10 + (first[11]! - 48);
  }

  /**
   * The client left before its handler answered: nothing was sent, and the entry says 499,
   * nginx's "client closed request".
   */
  unanswered(): void {
    this.bytes = 0;
    this.#status = CLIENT_CLOSED_REQUEST;
  }

  /** Reads the client's address of the connection on `fd` now, if it was not read already. */
  remember(fd: number): void {
    this.#peer ??= addressOf(fd, true);
  }

  /** The entry, as of now, for the connection on `fd`. */
  entry(http11: boolean, fd: number): AccessEntry {
    const peer = (this.#peer ??= addressOf(fd, true));
    return {
      method: this.#method,
      target: this.#target,
      version: http11 ? '1.1' : '1.0',
      status: this.#status,
      bytes: this.bytes,
      durationMs: this.#at === 0 ? 0 : performance.now() - this.#at,
      remoteAddress: peer[0],
      remotePort: peer[1],
      time: Date.now(),
    };
  }
}
