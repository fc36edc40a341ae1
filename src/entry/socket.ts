/** `etlt/socket`: Python's `socket` module, the parts etlt has, without the HTTP server. */
export { Socket, socketpair } from '../socket.js';
export type { Address } from '../socket.js';
