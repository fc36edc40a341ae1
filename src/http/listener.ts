/**
 * The listening socket of an `HttpServer` when it is not a TCP port of its own: one adopted
 * from a parent (systemd socket activation, a supervisor, `etlt serve --fd`), checked and
 * made non-blocking; or a Unix domain socket, bound with its file's mode set and a stale
 * file from a crashed run replaced, never a live server's.
 */
import { chmodSync, closeSync, fstatSync, lstatSync, openSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Stats } from 'node:fs';
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  EADDRINUSE,
  EAGAIN,
  EBADF,
  ECONNREFUSED,
  EEXIST,
  ENOENT,
  ENOTSOCK,
  F_GETFL,
  F_SETFL,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  SOCKADDR_UN_SIZE,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_ACCEPTCONN,
  SO_DOMAIN,
  SO_TYPE,
} from '../constants.js';
import { EtltSystemError } from '../errors.js';
import { Socket } from '../socket.js';
import { sys } from '../sys.js';
import { integer, rangeError, string } from '../validate.js';

const FAMILY_NAMES: Record<number, string> = { [AF_INET]: 'AF_INET', [AF_INET6]: 'AF_INET6', [AF_UNIX]: 'AF_UNIX' };

/** A SOL_SOCKET option of `fd` as an integer, or -errno. */
function socketOption(fd: number, option: number): number {
  const out = new Uint32Array(1);
  const r = sys.getsockopt(fd, SOL_SOCKET, option, out);
  return r < 0 ? r : out[0]! | 0;
}

/** The options of HttpServer about its listener, as given (checked below). */
export interface ListenerOptions {
  path?: unknown;
  socketMode?: unknown;
  fd?: unknown;
  host?: unknown;
  port?: unknown;
  reusePort?: unknown;
}

/** The `path` option, checked: a Unix socket path that fits a sockaddr_un, alone of the listener options. */
export function unixPath(o: ListenerOptions): string {
  const path = string(o.path, 'path', 'option');
  const max = SOCKADDR_UN_SIZE - 2 - (isAbstract(path) ? 0 : 1);
  if (path === '' || path.indexOf('\0', 1) >= 0 || Buffer.byteLength(path) > max) {
    throw rangeError(
      'path',
      `a Unix socket path of 1 to ${max} bytes, without NUL (but a leading one)`,
      path,
      'option',
    );
  }
  for (const other of ['fd', 'host', 'port', 'reusePort'] as const) {
    if (o[other] !== undefined)
      throw rangeError('path', `given without "${other}" (a Unix socket has no ${other})`, path, 'option');
  }
  return path;
}

/** The `socketMode` option, checked: permission bits, for a path in the file system. */
export function socketMode(o: ListenerOptions): number {
  const mode = integer(o.socketMode, 'socketMode', 0, 0o777, 'option');
  if (typeof o.path !== 'string' || isAbstract(o.path)) {
    throw rangeError('socketMode', 'given with a "path" in the file system', `0o${mode.toString(8)}`, 'option');
  }
  return mode;
}

/**
 * Adopts `fd`, a listening stream socket handed over by another process, and makes it
 * non-blocking: a blocking listener sends accept4(2) to sleep whenever another process
 * sharing the queue (or a client's reset) took the connection that woke us, and the whole
 * process then hangs there, deaf to signals Node handles in its loop. `name` is how the
 * caller names the fd in errors (an option, a flag). Nothing is closed on failure: an fd
 * that is not a listening socket is not ours to close (it may be the caller's stdin).
 */
export function adoptListener(fd: number, name: string): Socket {
  const type = socketOption(fd, SO_TYPE);
  if (type < 0) {
    const why =
      type === -EBADF
        ? `${name} ${fd} is not an open file descriptor`
        : type === -ENOTSOCK
          ? `${name} ${fd} is not a socket`
          : `${name} ${fd}`;
    throw new EtltSystemError(type, 'getsockopt', `${why}; it must be a listening stream socket`);
  }
  if (type !== SOCK_STREAM) throw notListener(name, fd, `a socket of type ${type}, not SOCK_STREAM`);
  const family = socketOption(fd, SO_DOMAIN);
  if (FAMILY_NAMES[family] === undefined) throw notListener(name, fd, `a socket of family ${family}`);
  if (socketOption(fd, SO_ACCEPTCONN) !== 1) {
    throw notListener(name, fd, `an ${FAMILY_NAMES[family]} stream socket that is not listening (no listen(2))`);
  }
  const flags = sys.fcntl(fd, F_GETFL, 0);
  if (flags < 0) throw new EtltSystemError(flags, 'fcntl', `${name} ${fd}`);
  // On the open file description: the other holders of the listener (systemd, a parent)
  // see it non-blocking too, as they do with nginx and libuv, which do the same.
  if ((flags & O_NONBLOCK) === 0) {
    const r = sys.fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (r < 0) throw new EtltSystemError(r, 'fcntl', `${name} ${fd}: setting O_NONBLOCK`);
  }
  return Socket.fromFd(fd, family, SOCK_STREAM);
}

function notListener(name: string, fd: number, what: string): RangeError {
  return rangeError(name, `a listening stream socket (AF_INET, AF_INET6 or AF_UNIX); ${fd} is ${what}`, fd, 'option');
}

/** The file of a bound Unix socket, remembered so that only this very file is removed on close. */
export interface UnixSocketFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/** A Unix domain listener and its file (undefined in the abstract namespace, which has none). */
export interface UnixListener {
  socket: Socket;
  file: UnixSocketFile | undefined;
}

/** Whether `path` is in Linux's abstract namespace (a leading NUL): no file, no mode. */
export function isAbstract(path: string): boolean {
  return path.startsWith('\0');
}

/**
 * Binds and listens on the Unix domain socket `path`, with the file's mode set to `mode`
 * before listen(2), so that no client can connect while it has the default mode. A file
 * left by a crashed run (a socket nobody listens on: connect(2) says ECONNREFUSED) is
 * removed and bound again; a live server's socket (connect succeeds, or would block with a
 * full queue), anything that is not a socket, or a file we cannot probe gives EADDRINUSE.
 */
export function bindUnix(path: string, backlog: number, mode: number | undefined): UnixListener {
  const sock = new Socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        sock.bind(path);
        break;
      } catch (err) {
        if (!(err instanceof EtltSystemError) || err.errno !== -EADDRINUSE || attempt > 0 || isAbstract(path))
          throw err;
        removeIfStale(path, err);
      }
    }
    const file = isAbstract(path) ? undefined : socketFile(path);
    if (mode !== undefined && file !== undefined) chmodSocket(file, mode);
    sock.listen(backlog);
    return { socket: sock, file };
  } catch (err) {
    sock.close();
    throw addressed(err, path);
  }
}

/**
 * Removes `path` if it is a socket nobody listens on. The inode probed is the inode
 * removed: a server that replaced the file meanwhile keeps it (a race of two starting at
 * once leaves one of them with EADDRINUSE, never a server whose file was taken).
 */
function removeIfStale(path: string, inUse: EtltSystemError): void {
  const refuse = (why: string) => new EtltSystemError(inUse.errno, inUse.syscall, why, { address: path });
  let before: Stats;
  try {
    before = lstatSync(path);
  } catch {
    return; // Gone meanwhile: bind again.
  }
  if (!before.isSocket()) throw refuse('the path exists and is not a socket; not removed');
  const probe = new Socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  let r: number;
  try {
    r = probe.connectEx(path);
  } finally {
    probe.close();
  }
  if (r === ENOENT) return;
  if (r !== ECONNREFUSED) {
    const why =
      r === 0 || r === EAGAIN
        ? 'a server is listening on it'
        : `probing it with connect(2) failed with errno ${r}; not removed`;
    throw refuse(why);
  }
  try {
    const now = lstatSync(path);
    if (now.ino !== before.ino || now.dev !== before.dev) return;
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The file just bound, by absolute path (a later chdir must not make us remove another). */
function socketFile(path: string): UnixSocketFile {
  const st = lstatSync(path);
  return { path: resolve(path), dev: st.dev, ino: st.ino };
}

/**
 * Sets the mode of the socket file just bound through an O_PATH fd of that very inode (a
 * chmod of the path would follow a symlink swapped in meanwhile, in a shared directory, and
 * change the mode of whatever it points at).
 */
function chmodSocket(file: UnixSocketFile, mode: number): void {
  const fd = openSync(file.path, O_PATH | O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isSocket() || st.ino !== file.ino || st.dev !== file.dev) {
      throw new EtltSystemError(-EEXIST, 'chmod', 'the socket file was replaced before its mode was set');
    }
    chmodSync(`/proc/self/fd/${fd}`, mode);
  } finally {
    closeSync(fd);
  }
}

/** Removes a listener's socket file if it is still the one it bound (not a successor's). */
export function removeSocketFile(file: UnixSocketFile | undefined): void {
  if (file === undefined) return;
  try {
    const st = lstatSync(file.path);
    if (st.ino === file.ino && st.dev === file.dev) unlinkSync(file.path);
  } catch {
    // Removed by someone else already: nothing to do.
  }
}

/**
 * Where a listening socket is: `{ host, port }`, or for a Unix domain socket its `path`,
 * with `host` 'unix:PATH' (an abstract name's NUL shown as '@', as ss(8) does) and port 0.
 */
export function addressOf(sock: Socket): { host: string; port: number; path?: string } {
  const name = sock.getsockname();
  if (typeof name === 'string') return { host: `unix:${name.replace(/^\0/, '@')}`, port: 0, path: name };
  return { host: name[0], port: name[1] };
}

/** A bind's error with the path as its address, as Node's net reports it. */
function addressed(err: unknown, path: string): unknown {
  if (err instanceof EtltSystemError) {
    return err.address === undefined ? new EtltSystemError(err.errno, err.syscall, undefined, { address: path }) : err;
  }
  const e = err as NodeJS.ErrnoException;
  if (typeof e.errno === 'number' && typeof e.syscall === 'string') {
    return new EtltSystemError(e.errno, e.syscall, undefined, { address: path });
  }
  return err;
}
