/**
 * etlt: Linux epoll, edge- and level-triggered, for TypeScript on Node.js.
 */
export { Epoll } from './epoll.js';
export type { EpollEvent, EpollListener } from './epoll.js';
export { Socket } from './socket.js';
export type { Address } from './socket.js';
export { sys } from './sys.js';
export { EtltSystemError, EtltClosedError, EtltAddressError } from './errors.js';
export * from './constants.js';
export { HttpServer } from './http/server.js';
export type { HttpServerOptions, HttpServerStats } from './http/server.js';
export { Reactor } from './reactor/reactor.js';
export type { Pollable } from './reactor/reactor.js';
export { STRATEGIES, strategyFor } from './http/trigger/index.js';
export type { TriggerStrategy } from './http/trigger/index.js';
export type { ServerCounters, ReactorCounters, ConnectionRecord } from './trace/counters.js';
