// The minimal Hono app of the bench's fetch rows (issue 21): the same module on etlt's
// serve and on @hono/node-server.
import { Hono } from 'hono';

export const app = new Hono();
app.get('/', (c) => c.text('Hello, world!'));
