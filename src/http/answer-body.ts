/**
 * The bodies a handler may answer with beyond bytes in memory: a stream (any
 * AsyncIterable, which covers Node's Readable and async generators, or a web
 * ReadableStream), produced into the connection's output as it comes and pulled only while
 * the output is under its high-water mark; and a file (`{ file }`), sent with sendfile(2)
 * the way static files are.
 */
import { AT_FDCWD, O_CLOEXEC, O_NOCTTY, O_NONBLOCK, O_RDONLY, S_IFMT, S_IFREG } from '../constants.js';
import { EtltSystemError } from '../errors.js';
import { sys } from '../sys.js';
import { OUTPUT_HIGH_WATER } from './buffers.js';
import { FileSegment } from './file-output.js';

/** A file as a handler's body: a path (opened by the server) or an open fd (the server's from then on). */
export interface FileBody {
  readonly file: string | number;
  /** First byte to send; default 0. */
  readonly start?: number;
  /** Last byte to send, inclusive (as in a Range, and as fs.createReadStream's `end`); default the file's last. */
  readonly end?: number;
}

/** A streamed body: chunks of bytes or text (UTF-8). */
export type StreamBody = AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array | string>;

/** Whether `body` is a stream to iterate. */
export function isStreamBody(body: object): boolean {
  return Symbol.asyncIterator in body || typeof (body as { getReader?: unknown }).getReader === 'function';
}

/** Whether `body` names a file. */
export function isFileBody(body: object): body is FileBody {
  return 'file' in body && !(body instanceof Uint8Array);
}

/** Lets go of a stream that will not be read (a HEAD request, a 204): its resources are freed. */
export function discardStream(body: object): void {
  // The body's own code: a cancel() or return() that throws, or answers with no Promise (a
  // hand-written iterator's often does), has let go as far as it can.
  try {
    const cancel = (body as { cancel?: () => unknown }).cancel;
    settled(typeof cancel === 'function' ? cancel.call(body) : iteratorOf(body).return?.());
  } catch {
    // Nothing more to free.
  }
}

/** A rejection of `r`, when it is a Promise, is nobody's to handle. */
function settled(r: unknown): void {
  if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function')
    (r as Promise<unknown>).then(undefined, () => {});
}

function iteratorOf(body: object): AsyncIterator<unknown> {
  // A web stream through its reader, even where it is async iterable (Node's are): the
  // iterator's return() waits for a pending read, which for server-sent events between
  // events never ends, while reader.cancel() ends that read and cancels the source now.
  if (typeof (body as { getReader?: unknown }).getReader !== 'function')
    return (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const reader = (body as ReadableStream<unknown>).getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<unknown>>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}

const STAT = new Float64Array(6);
const OPEN_FLAGS = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

/**
 * The file segment of a `{ file }` body, opened and checked (a regular file; the range
 * within it), and its length. `head`: only the length is wanted, the file is closed.
 */
export function openFileBody(body: FileBody, head: boolean): { segment: FileSegment | null; length: number } {
  const file = body.file;
  let fd: number;
  if (typeof file === 'number') {
    if (!Number.isInteger(file) || file < 0) throw new RangeError(`body.file must be a path or an fd, not ${file}`);
    fd = file;
  } else if (typeof file === 'string') {
    fd = sys.openat(AT_FDCWD, file, OPEN_FLAGS, 0);
    if (fd < 0) throw new EtltSystemError(fd, 'open', `body.file ${file}`);
  } else {
    throw new TypeError(`body.file must be a path or an fd, not ${typeof file}`);
  }
  try {
    const r = sys.fstat(fd, STAT);
    if (r < 0) throw new EtltSystemError(r, 'fstat', `body.file ${String(file)}`);
    if ((STAT[0]! & S_IFMT) !== S_IFREG) throw new RangeError(`body.file ${String(file)} is not a regular file`);
    const size = STAT[1]!;
    const start = body.start ?? 0;
    const last = body.end ?? size - 1;
    if (!Number.isInteger(start) || start < 0 || start > size)
      throw new RangeError(`body.start ${String(start)} is not within the file (${size} bytes)`);
    if (!Number.isInteger(last) || last < start - 1 || last >= size)
      throw new RangeError(`body.end ${String(last)} is not within the file (${size} bytes) from ${start}`);
    const length = last - start + 1;
    if (head || length === 0) {
      sys.close(fd);
      return { segment: null, length };
    }
    return { segment: new FileSegment(fd, start, last + 1), length };
  } catch (err) {
    sys.close(fd);
    throw err;
  }
}

/** Where a stream's bytes go: the connection's output, through its exchange. */
export interface StreamOutput {
  /** Unsent output bytes now. */
  readonly outBytes: number;
  /** Queues bytes of the response in progress. */
  more(bytes: Uint8Array): void;
  /** Bytes were queued: send them now, if the socket takes them. */
  flush(): void;
  /** The body ended: complete (`err` undefined), or failed (the connection must close, the frame unfinished). */
  end(err: unknown): void;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
/** Chunks up to this size are copied into one segment with their size line and CRLF. */
const COPY_MAX = 16 * 1024;

/**
 * A response body being produced. The iterator is pulled only while the connection's
 * unsent output is at most the high-water mark, and again when the output drains below it
 * (`drained`), so a slow reader of an endless stream costs bounded memory. `stop` ends it
 * from outside (the connection closed): the iterator's return() runs at once, so its
 * `finally` blocks do.
 */
export class ResponseStream {
  readonly #out: StreamOutput;
  readonly #body: object;
  #it: AsyncIterator<unknown> | null = null;
  readonly #chunked: boolean;
  /** Bytes still owed to a Content-Length, or -1 without one. */
  #left: number;
  #stopped = false;
  #wake: (() => void) | null = null;

  /** `length`: the Content-Length the head promised, or -1; `chunked`: frame each chunk. */
  constructor(out: StreamOutput, body: object, chunked: boolean, length: number) {
    this.#out = out;
    this.#body = body;
    this.#chunked = chunked;
    this.#left = length;
  }

  /**
   * Starts pulling, in a microtask: the stream's own code (a generator's body runs inside
   * next()) never runs inside the exchange that made it.
   */
  start(): void {
    queueMicrotask(() => void this.#pump());
  }

  /** The output fell to the high-water mark or below: pull again if the pump waits for it. */
  drained(): void {
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      wake();
    }
  }

  /** The connection is gone: no more pulls, and the iterator's return() now. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.drained();
    this.#close();
  }

  async #pump(): Promise<void> {
    try {
      if (this.#stopped) {
        discardStream(this.#body);
        return;
      }
      const it = (this.#it = iteratorOf(this.#body));
      for (;;) {
        if (this.#out.outBytes > OUTPUT_HIGH_WATER) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          if (this.#stopped) return;
        }
        const r = await it.next();
        if (this.#stopped) return;
        if (r.done === true) {
          if (this.#left > 0)
            throw new RangeError(`the body stream ended ${this.#left} bytes short of its Content-Length`);
          if (this.#chunked) this.#out.more(LAST_CHUNK);
          this.#stopped = true;
          this.#out.end(undefined);
          return;
        }
        this.#send(chunkBytes(r.value));
      }
    } catch (err) {
      if (this.#stopped) return;
      this.#stopped = true;
      this.#close();
      this.#out.end(err);
    }
  }

  #send(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    // An empty chunk would end a chunked body: nothing to send.
    if (n === 0) return;
    if (this.#left >= 0) {
      if (n > this.#left) throw new RangeError(`the body stream gave more bytes than its Content-Length`);
      this.#left -= n;
      this.#out.more(bytes);
    } else if (!this.#chunked) {
      this.#out.more(bytes);
    } else {
      const size = `${n.toString(16)}\r\n`;
      if (n <= COPY_MAX) {
        const seg = Buffer.allocUnsafe(size.length + n + 2);
        seg.write(size, 0, 'latin1');
        seg.set(bytes, size.length);
        seg[size.length + n] = 0x0d;
        seg[size.length + n + 1] = 0x0a;
        this.#out.more(seg);
      } else {
        this.#out.more(Buffer.from(size, 'latin1'));
        this.#out.more(bytes);
        this.#out.more(CRLF);
      }
    }
    this.#out.flush();
  }

  #close(): void {
    try {
      settled(this.#it?.return?.());
    } catch {
      // An iterator whose return() throws has nothing more to free.
    }
  }
}

function chunkBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value);
  throw new TypeError(`a body stream must yield Uint8Array or string chunks, not ${typeof value}`);
}
