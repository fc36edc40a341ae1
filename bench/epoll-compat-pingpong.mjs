#!/usr/bin/env node
// Events per second through etlt/epoll-compat: the npm `epoll` package's "interrupts per
// second" example with two eventfds in place of two wired GPIO lines. Each callback reads
// the eventfd that fired (which clears it, as reading a GPIO value file clears the
// interrupt) and writes the other, which triggers the next event. One event in flight at
// a time, so the figure is the round trip kernel -> libuv -> JavaScript -> kernel.
//   node bench/epoll-compat-pingpong.mjs [seconds] [module]
// `module` (default etlt/epoll-compat) may name the npm `epoll` package to compare in the
// same run on the same machine. Prints one JSON line.
import { createRequire } from 'node:module';
import { os } from 'etlt';

const seconds = Number(process.argv[2] ?? 3);
const specifier = process.argv[3] ?? 'etlt/epoll-compat';
const { Epoll } = specifier.startsWith('etlt') ? await import(specifier) : createRequire(import.meta.url)(specifier);

const a = os.eventfd(0, os.EFD_NONBLOCK);
const b = os.eventfd(0, os.EFD_NONBLOCK);
const other = { [a]: b, [b]: a };
const counter = Buffer.alloc(8);
const one = Buffer.alloc(8);
one.writeBigUInt64LE(1n);
let count = 0;

const poller = new Epoll((err, fd) => {
  if (err) throw err;
  count += 1;
  os.read(fd, 8).copy(counter);
  os.write(other[fd], one);
});
poller.add(a, Epoll.EPOLLIN).add(b, Epoll.EPOLLIN);
const start = process.hrtime.bigint();
os.write(a, one);

setTimeout(() => {
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  poller.remove(a).remove(b).close();
  os.close(a);
  os.close(b);
  const perSecond = Math.floor(count / elapsed);
  console.log(JSON.stringify({ module: specifier, events: count, seconds: +elapsed.toFixed(3), perSecond }));
}, seconds * 1000);
