/** `etlt/socket`: Python's `socket` module, the parts etlt has, without the HTTP server. */
export { Socket } from '../socket.js';
export { socketpair, create_connection, create_server } from '../socket-create.js';
export type { CreateConnectionOptions, CreateServerOptions } from '../socket-create.js';
export type { Address } from '../socket.js';
