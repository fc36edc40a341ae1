/**
 * The body of the request in progress, as it is read: counted down from Content-Length or
 * decoded from chunked framing, then collected for a handler (one buffer, grown by
 * doubling, its capacity counted against the server's input budget), discarded, or
 * streamed to the handler through a `BodyStream`. One per exchange, reset per request; it
 * says what happened (`done`, `error`), and the exchange decides what that means.
 */
import { BodyStream } from './body-stream.js';
import { ChunkError, ChunkedDecoder } from './chunked.js';
import type { ChunkSink } from './chunked.js';

/** What a body needs of the server and its connection. */
export interface BodyHost {
  /** `delta` bytes more (or fewer) of request input are held in memory (the server's budget). */
  held(delta: number): void;
}

export class RequestBody {
  readonly #host: BodyHost;
  /** Bytes of a Content-Length body still to come. */
  left = 0;
  /** The chunked decoder, or null for a Content-Length body. */
  chunks: ChunkedDecoder | null = null;
  /** The body collected for a handler, and its length. */
  collected: Buffer | null = null;
  length = 0;
  /** The body streamed to the handler while it arrives, or null. */
  source: BodyStream | null = null;
  /** The last read ended the body. */
  done = false;
  /** Why decoding failed (ChunkError.None when it did not). */
  error: ChunkError = ChunkError.None;
  #collect: ChunkSink | null = null;
  #push: ChunkSink | null = null;

  constructor(host: BodyHost) {
    this.#host = host;
  }

  /** A new body: `length` bytes (chunked: `chunked`), of at most `max` decoded bytes. */
  start(chunked: boolean, length: number, max: number, maxTrailer: number): void {
    this.left = chunked ? 0 : length;
    this.chunks = chunked ? new ChunkedDecoder(max, maxTrailer) : null;
    this.collected = null;
    this.length = 0;
    this.done = false;
    this.error = ChunkError.None;
  }

  /** Streams this body to the handler: the returned source is what `req.stream()` iterates. */
  stream(onRoom: () => void): BodyStream {
    return (this.source = new BodyStream(onRoom));
  }

  /**
   * Reads `buf[pos, end)`: collected when `keep`, else dropped (or pushed to the source when
   * streamed). Returns the offset it stopped at; `done` or `error` tell why it stopped early.
   */
  read(buf: Uint8Array, pos: number, end: number, keep: boolean): number {
    const source = this.source;
    const chunks = this.chunks;
    if (chunks === null) {
      const take = Math.min(this.left, end - pos);
      if (source !== null) source.push(buf, pos, pos + take);
      else if (keep && take > 0) this.#collectBytes(buf, pos, pos + take);
      this.left -= take;
      if (this.left === 0) this.#end();
      return pos + take;
    }
    let sink: ChunkSink | undefined;
    if (source !== null) sink = this.#push ??= (b, s, e) => this.source?.push(b, s, e);
    else if (keep) sink = this.#collect ??= (b, s, e) => this.#collectBytes(b, s, e);
    const r = chunks.feed(buf, pos, end, sink);
    if (r < 0) {
      this.error = chunks.error;
      this.chunks = null;
      return end;
    }
    if (chunks.done) this.#end();
    return r;
  }

  /** The collected body, handed over (out of the server's budget from now on). */
  take(): Buffer | null {
    const body = this.collected;
    this.collected = null;
    if (body === null) return null;
    this.#host.held(-body.length);
    return body.subarray(0, this.length);
  }

  /** Lets the collected body go (nobody will read it). */
  drop(): void {
    if (this.collected !== null) this.#host.held(-this.collected.length);
    this.collected = null;
  }

  /** The source's part is over: ended, or failed with `err` (thrown from the handler's iterator). */
  closeSource(err: Error | null): void {
    const source = this.source;
    this.source = null;
    this.chunks = null;
    if (source === null) return;
    if (err === null) source.end();
    else source.fail(err);
  }

  #end(): void {
    this.done = true;
    this.chunks = null;
  }

  #collectBytes(buf: Uint8Array, s: number, e: number): void {
    const need = this.length + e - s;
    let body = this.collected;
    if (body === null || need > body.length) {
      const grown = Buffer.allocUnsafe(
        Math.max(need, body === null ? Math.min(64 * 1024, Math.max(need, this.left)) : body.length * 2),
      );
      if (body !== null) body.copy(grown, 0, 0, this.length);
      this.#host.held(grown.length - (body === null ? 0 : body.length));
      this.collected = body = grown;
    }
    body.set(buf.subarray(s, e), this.length);
    this.length = need;
  }
}

/** The message a streamed body's iterator throws for a decoding error. */
export function streamedBodyError(error: ChunkError): Error {
  return new Error(
    error === ChunkError.TooLarge
      ? 'the request body is larger than maxStreamBodyBytes'
      : 'the chunked request body is malformed',
  );
}
