/**
 * What an exchange (exchange.ts) needs of the server and of its connection, and where a
 * request stands: the seam between the exchange and the engine and connection that own it.
 */
import type { RequestAbortCause } from '../errors.js';
import type { AccessEntry } from './access-record.js';
import { CloseReason } from './contract.js';
import type { FileSegment } from './file-output.js';
import type { RequestHandler } from './handler.js';
import type { DateClock, ErrorResponses, FixedResponses, ResponseMemo } from './responses.js';
import type { RequestHead } from './head.js';
import { skipEmptyLines } from './parser.js';
import type { StaticFiles } from './static/files.js';

/** What an exchange needs of the server (the engine provides it). */
export interface ExchangeHost {
  /** The server's one head parser result, reused by every request (parsing never nests). */
  readonly parsed: RequestHead;
  readonly fixed: FixedResponses;
  readonly errors: ErrorResponses;
  readonly clock: DateClock;
  /** The last handler answer's framing, reused for the next one like it. */
  readonly responseMemo: ResponseMemo;
  readonly handler: RequestHandler | undefined;
  /** The files served instead of the fixed response (`--root`). */
  readonly statics: StaticFiles | undefined;
  readonly maxHeadBytes: number;
  readonly maxBodyBytes: number;
  /** Bodies go to the handler as they arrive (`requestBody: 'stream'`), up to this many bytes each. */
  readonly streamBodies: boolean;
  readonly maxStreamBodyBytes: number;
  readonly maxRequests: number;
  /** The server is shutting down: every response from now on closes its connection. */
  readonly draining: boolean;
  /** Whether the strategy lets connections persist. */
  readonly keepAlive: boolean;
  /** Called with each request head's bytes (valid only during the call). */
  readonly onRequest: ((request: Buffer) => void) | undefined;
  readonly counters: { requests: number; rejected: number; handlerErrors: number; handlerTimeouts: number };
  /** Called once per response when someone listens for the access log (else undefined: nothing recorded). */
  readonly accessLog: ((entry: AccessEntry) => void) | undefined;
  /** A handler failed (threw, rejected or answered something unsendable). */
  handlerFailed(err: unknown): void;
  /** `delta` bytes more (or fewer) of request input are held in memory (the server's budget). */
  held(delta: number): void;
}

/** Where the request in progress is. */
export const enum Phase {
  Head = 0,
  Body = 1,
  /** The handler's answer is pending. */
  Waiting = 2,
  /** A response that closes the connection was queued: later input is not read as requests. */
  Closing = 3,
  /** The response's body is still being produced (a stream): later requests wait for it. */
  Streaming = 4,
}

/** What a request still unanswered was aborted by, for each way a connection ends (both engines). */
export const ABORT_CAUSES: Readonly<Record<CloseReason, RequestAbortCause>> = {
  [CloseReason.Done]: 'shutdown',
  [CloseReason.Aborted]: 'reset',
  [CloseReason.TimedOut]: 'timeout',
  [CloseReason.Shutdown]: 'shutdown',
};

/** Files queued past which it stops too: tiny files pipelined must not take an fd each by the thousand. */
export const FILES_LIMIT = 16;

/** What the exchange uses of its connection: the output queue and the clock hooks. */
export interface ExchangeConn {
  readonly fd: number;
  /** Unsent output bytes, and the files among them. */
  readonly outBytes: number;
  readonly outFiles: number;
  /** Queues a response's segments (sent in order); a file segment is the queue's to close. */
  queue(first: Uint8Array, body: Uint8Array | FileSegment | null): void;
  /** Queues an interim response (100 Continue): sent in order, not counted as a response. */
  interim(bytes: Uint8Array): void;
  /** Queues more bytes of the response in progress (a streamed body). */
  more(bytes: Uint8Array): void;
  /** A head's first bytes arrived: its idle clock starts now. */
  headStarted(): void;
  /** A body made progress. */
  bodyProgress(): void;
  /** Enters or leaves the handler wait. */
  setWaiting(waiting: boolean): void;
  /** The handler's answer came: the connection goes on with its input and output. */
  resume(): void;
  /** The connection is gone (closed meanwhile): a late handler answer is dropped. */
  readonly gone: boolean;
  /** Closes without a response (binary garbage). */
  abort(): void;
}

/** Whether the request line alone (from `start`, empty lines skipped) is longer than `limit` bytes. */
export function requestLineLonger(buf: Uint8Array, start: number, end: number, limit: number): boolean {
  const s = skipEmptyLines(buf, start, end);
  const nl = buf.indexOf(0x0a, s);
  const lineEnd = nl < 0 || nl >= end ? end : nl;
  return lineEnd - s > limit;
}

/** Whether a request line that parseHead never read ends in HTTP/1.1, so its error can say so. */
export function requestLineIsHttp11(buf: Buffer, pos: number, end: number): boolean {
  // The line ends at its first CR or LF: a bare CR right after the version ends it too.
  let stop = pos;
  while (stop < end && buf[stop] !== 0x0a && buf[stop] !== 0x0d) stop++;
  if (stop >= end) return false;
  return stop - pos >= 8 && buf.toString('latin1', stop - 8, stop) === 'HTTP/1.1';
}
