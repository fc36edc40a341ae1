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
