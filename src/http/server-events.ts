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
}
