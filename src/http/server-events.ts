import type { AccessEntry } from './access-record.js';

/** The events an `HttpServer` emits, typed for `on`, `once`, `off` and `emit`. */
export interface HttpServerEvents {
  /** The server is bound and serving (after `listen()`, on the next tick). */
  listening: [];
  /** `close()` finished: every fd released. */
  close: [];
  /** The loop itself failed (never a client's misbehaviour). */
  error: [err: Error];
  /** A handler threw or its promise rejected (emitted only while someone listens). */
  handlerError: [err: unknown];
  /** One per response, recorded only while someone listens (the access log). */
  access: [entry: AccessEntry];
  /** EventEmitter's own: a listener is about to be added, or was removed. */
  newListener: [event: string | symbol, listener: (...args: unknown[]) => void];
  removeListener: [event: string | symbol, listener: (...args: unknown[]) => void];
}
