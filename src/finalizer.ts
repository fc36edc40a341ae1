/**
 * Closes the fd of an Epoll or Socket that was dropped without `close()`, as CPython does
 * when such an object is collected, with a warning as Node's FileHandle gives: the program
 * leaked it, and the close came at a moment nobody chose.
 */
import { native } from './binding/index.js';

interface Held {
  fd: number;
  what: string;
}

const registry = new FinalizationRegistry<Held>(({ fd, what }) => {
  native.close(fd);
  process.emitWarning(`Closing ${what} fd ${fd} on garbage collection: call close() when done with it`, {
    type: 'Warning',
    code: 'ETLT_CLOSED_ON_GC',
  });
});

/** The library's own fds (a server's epoll set): the user never held them, so no warning. */
const quiet = new FinalizationRegistry<number>((fd) => native.close(fd));

/** From now on, collecting `owner` closes `fd` (until `release(owner)`). */
export function closeOnCollect(owner: object, fd: number, what: string): void {
  registry.register(owner, { fd, what }, owner);
}

/**
 * `owner` is the library's own, made inside an object the user holds (an HttpServer that
 * never listened, or whose listen() failed): collecting it closes `fd` without a warning.
 */
export function closeQuietlyOnCollect(owner: object, fd: number): void {
  registry.unregister(owner);
  quiet.register(owner, fd, owner);
}

/** `owner` closed (or gave away) its fd itself: nothing to do when it is collected. */
export function release(owner: object): void {
  registry.unregister(owner);
  quiet.unregister(owner);
}
