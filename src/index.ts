/**
 * etlt: Linux epoll, edge- and level-triggered, for TypeScript on Node.js. Public exports only.
 */
export { Epoll } from './epoll.js';
export type { EpollEvent, EpollListener } from './epoll.js';
export { Socket } from './socket.js';
export type { Address } from './socket.js';
export type { HasFileno } from './validate.js';
export { sys } from './sys.js';
export * as os from './os.js';
export type { EventfdReadOptions, TimerfdCreateOptions, TimerfdSettimeOptions, TimerfdSettimeNsOptions } from './os.js';
export { select, Poll } from './select.js';
export type { FileObject, PollEvent } from './select.js';
export {
  BaseSelector,
  DefaultSelector,
  EpollSelector,
  PollSelector,
  SelectSelector,
  SelectorKey,
  EVENT_READ,
  EVENT_WRITE,
} from './selectors.js';
export type { SelectorEvent, SelectorMapping } from './selectors.js';
export { socketpair, create_connection, create_server } from './socket-create.js';
export type { CreateConnectionOptions, CreateServerOptions } from './socket-create.js';
export {
  EtltError,
  EtltArgTypeError,
  EtltOutOfRangeError,
  EtltUnknownOptionError,
  EtltUnsupportedPlatformError,
  EtltNotBuiltError,
  EtltClosedError,
  EtltAddressError,
  EtltSystemError,
  EtltAlreadyListeningError,
  EtltNotListeningError,
  EtltServerClosedError,
  EtltUsageError,
  EtltOutputError,
  EtltLabError,
  EtltAbortedError,
  EtltRequestAbortedError,
  EtltBodyTooLargeError,
  EtltNotRegisteredError,
  EtltAlreadyRegisteredError,
  EtltWorkerError,
  EtltAppError,
} from './errors.js';
export type { RequestAbortCause } from './errors.js';
export * from './constants.js';
export { HttpServer } from './http/server.js';
export type { HttpServerOptions, HttpServerStats, ServerAddress } from './http/server.js';
export type { HttpRequest, HttpResponse, RequestHandler, ResponseHeaders, HeaderValue } from './http/handler.js';
export type { FileBody, StreamBody } from './http/answer-body.js';
export type { AccessEntry } from './http/access-record.js';
export { STRATEGY_CATALOG } from './http/trigger/catalog.js';
export type { Mode, Trigger, StrategyFamily, StrategyFacts } from './http/trigger/catalog.js';
export type { WaitRecorder } from './reactor/reactor.js';
export { Ring } from './reactor/uring.js';
export { BufferRing } from './reactor/buffer-ring.js';
export { ringRefusal } from './reactor/uring-refusal.js';
export type { RingOptions, RingTaskRun, CompletionListener } from './reactor/uring.js';
export {
  EPOLL_BITS,
  describeMask,
  isError,
  isHangup,
  isReadClosed,
  isReadable,
  isWritable,
  isWriteClosed,
} from './reactor/readiness.js';
export { syscallsByKind } from './trace/counters.js';
export type { AllCounters, ServerCounters, ReactorCounters, ConnectionRecord } from './trace/counters.js';
export { WorkerPool } from './cluster/pool.js';
export type { WorkerExit, WorkerPoolEvents } from './cluster/pool.js';
export type { WorkerPoolOptions } from './cluster/options.js';
export type { HttpServerEvents } from './http/server-events.js';
export { BALANCES } from './cluster/balance.js';
export type { Balance } from './cluster/balance.js';
export type { WorkerServerOptions, CpuUsage } from './cluster/protocol.js';
export type { WorkerPoolStats, WorkerStats } from './cluster/stats.js';
export { serve, fetchHandler } from './http/fetch/serve.js';
export type { ServeOptions, FetchApp, FetchFunction, FetchHandlerOptions, AddressInfo } from './http/fetch/serve.js';
