/** `etlt/http`: the HTTP/1.1 server and its worker pool, with their types. */
export { HttpServer } from '../http/server.js';
export type { HttpServerOptions, HttpServerStats, ServerAddress } from '../http/server.js';
export type { HttpRequest, HttpResponse, RequestHandler } from '../http/handler.js';
export { STRATEGY_CATALOG } from '../http/trigger/catalog.js';
export type { Mode, Trigger, StrategyFamily, StrategyFacts } from '../http/trigger/catalog.js';
export { WorkerPool } from '../cluster/pool.js';
export type { WorkerPoolOptions, WorkerExit, WorkerPoolEvents } from '../cluster/pool.js';
export type { HttpServerEvents } from '../http/server-events.js';
export { BALANCES } from '../cluster/balance.js';
export type { Balance } from '../cluster/balance.js';
