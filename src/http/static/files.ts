/**
 * Static files from a root directory: a request becomes a response head and, for its
 * content, a FileSegment that the connection sends with sendfile(2). Files are opened per
 * request (openat2 beneath the root's fd, non-blocking, close-on-exec) and closed once
 * sent or when the connection ends; nothing is cached (see the README: an open-fd cache
 * would save the openat2 and fstat, two of the seven syscalls of a small file).
 */
import {
  AT_FDCWD,
  EACCES,
  EMFILE,
  ENFILE,
  ENOMEM,
  ENOSYS,
  ENXIO,
  EPERM,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOCTTY,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  RESOLVE_BENEATH,
  RESOLVE_NO_MAGICLINKS,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
} from '../../constants.js';
import { EtltSystemError } from '../../errors.js';
import { sys } from '../../sys.js';
import { FileSegment } from '../file-output.js';
import { Method } from '../head.js';
import { BodyFraming, responseHead, textResponse } from '../response-head.js';
import type { Persistence } from '../response-head.js';
import { httpDate } from '../responses.js';
import { evaluate } from './conditional.js';
import { contentTypeOf } from './mime.js';
import { resolveTarget } from './path.js';
import type { StaticRequest } from './request.js';

/** How a root is served. */
export interface StaticOptions {
  /** The directory served. */
  readonly root: string;
  /** The file a directory request gets ('' for none: 404). */
  readonly index: string;
  /** Whether names starting with '.' are served (otherwise 404). */
  readonly dotfiles: boolean;
  /** Whether a symlink may lead outside the root. */
  readonly followSymlinks: boolean;
}

/** A response to a file request: its head, and the file's bytes to send after it (null for none). */
export interface StaticResponse {
  readonly first: Uint8Array;
  readonly body: FileSegment | null;
}

/** Opened so that nothing blocks: a FIFO opens at once (and is refused), a tty is never made ours. */
const OPEN_FLAGS = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
/** Beneath the root fd, and no /proc magic links (they could name any open file). */
const RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

const ALLOW = 'Allow: GET, HEAD\r\n';

/** The files of one root, served. `open` opens the root; `close` lets it go. */
export class StaticFiles {
  readonly root: string;
  readonly #index: string;
  readonly #dotfiles: boolean;
  readonly #follow: boolean;
  #rootFd = -1;
  /** One fstat result, reused by every request (fstat fills it; nothing allocates). */
  readonly #stat = new Float64Array(6);
  /** The Last-Modified text of the last mtime formatted (most requests are for a few files). */
  #lastMtime = -1;
  #lastModified = '';

  constructor(options: StaticOptions) {
    this.root = options.root;
    this.#index = options.index;
    this.#dotfiles = options.dotfiles;
    this.#follow = options.followSymlinks;
  }

  /** Opens the root (O_PATH); throws an EtltSystemError naming it when it cannot be served. */
  open(): void {
    if (this.#rootFd >= 0) return;
    const fd = sys.openat(AT_FDCWD, this.root, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) throw new EtltSystemError(fd, 'open', `root ${this.root}`);
    if (!this.#follow) {
      // openat2 came with Linux 5.6; without it nothing here can promise "beneath the root".
      const probe = sys.openat2(fd, '.', OPEN_FLAGS, 0, RESOLVE);
      if (probe < 0) {
        sys.close(fd);
        const hint = probe === -ENOSYS ? 'Linux 5.6 or later is needed, or --follow-symlinks' : `root ${this.root}`;
        throw new EtltSystemError(probe, 'openat2', hint);
      }
      sys.close(probe);
    }
    this.#rootFd = fd;
  }

  /** Closes the root; safe twice. */
  close(): void {
    const fd = this.#rootFd;
    this.#rootFd = -1;
    if (fd >= 0) sys.close(fd);
  }

  /**
   * The response to `req`, in the request's version, ending as `persistence` says; `head`:
   * a HEAD request (no content, its file closed at once). `date` is the Date value.
   * `fallThrough`: a handler answers what is not here, so a 404 is null instead.
   */
  respond(
    req: StaticRequest,
    http11: boolean,
    persistence: Persistence,
    head: boolean,
    date: string,
    fallThrough = false,
  ): StaticResponse | null {
    const r = this.#respond(req, { http11, persistence, head, date, fallThrough });
    return r === NOT_HERE ? null : r;
  }

  #respond(req: StaticRequest, how: Answer): StaticResponse {
    if (req.method !== Method.GET && req.method !== Method.HEAD) return simple(how, 405, ALLOW);
    const target = resolveTarget(req.target, this.#dotfiles);
    if (!target.ok) return simple(how, target.status, '');
    let name = target.path;
    let fd = this.#open(name === '' ? '.' : name);
    if (fd < 0) return simple(how, statusOf(fd), '');
    const st = this.#stat;
    if (sys.fstat(fd, st) < 0) return closed(fd, simple(how, 500, ''));
    if ((st[0]! & S_IFMT) === S_IFDIR) {
      sys.close(fd);
      if (!target.directory) {
        const location = `Location: ${target.rawPath}/${target.query}\r\n`;
        return simple(how, 301, location);
      }
      if (this.#index === '') return simple(how, 404, '');
      name = name === '' ? this.#index : `${name}/${this.#index}`;
      fd = this.#open(name);
      if (fd < 0) return simple(how, statusOf(fd), '');
      if (sys.fstat(fd, st) < 0) return closed(fd, simple(how, 500, ''));
      if ((st[0]! & S_IFMT) !== S_IFREG) return closed(fd, simple(how, 404, ''));
    } else if (target.directory) {
      // '/file.txt/' names a directory that is not there.
      return closed(fd, simple(how, 404, ''));
    } else if ((st[0]! & S_IFMT) !== S_IFREG) {
      // A FIFO, socket or device under the root: opened without blocking, never read.
      return closed(fd, simple(how, 403, ''));
    }
    return this.#file(req, fd, name, how);
  }

  /** A regular file, open as `fd`, of the size and mtime in #stat. */
  #file(req: StaticRequest, fd: number, name: string, how: Answer): StaticResponse {
    const size = this.#stat[1]!;
    const mtimeS = this.#stat[2]!;
    const etag = `"${mtimeS.toString(16)}-${size.toString(16)}"`;
    if (mtimeS !== this.#lastMtime) {
      this.#lastMtime = mtimeS;
      this.#lastModified = httpDate(mtimeS * 1000);
    }
    const validators = `Last-Modified: ${this.#lastModified}\r\nETag: ${etag}\r\n`;
    const outcome = evaluate(req, { etag, mtimeS }, size, req.method === Method.GET);
    const status = outcome.status;
    if (status === 304) {
      sys.close(fd);
      return { first: latin1(headOf(how, 304, validators, BodyFraming.None, 0)), body: null };
    }
    if (status === 412) return closed(fd, simple(how, 412, ''));
    if (status === 416) return closed(fd, simple(how, 416, `Content-Range: bytes */${size}\r\n`));
    let first = 0;
    let last = size - 1;
    let fields = '';
    if (status === 206) {
      first = outcome.first;
      last = outcome.last;
      fields = `Content-Range: bytes ${first}-${last}/${size}\r\n`;
    }
    const length = last - first + 1;
    fields += `Content-Type: ${contentTypeOf(name)}\r\n${validators}Accept-Ranges: bytes\r\n`;
    const text = headOf(how, status === 206 ? 206 : 200, fields, BodyFraming.Length, length);
    if (how.head || length === 0) {
      sys.close(fd);
      return { first: latin1(text), body: null };
    }
    return { first: latin1(text), body: new FileSegment(fd, first, last + 1) };
  }

  #open(path: string): number {
    // A normalised path has no '..' and no leading '/': with --follow-symlinks only a
    // symlink can lead out, and that is what the option allows.
    return this.#follow
      ? sys.openat(this.#rootFd, path, OPEN_FLAGS, 0)
      : sys.openat2(this.#rootFd, path, OPEN_FLAGS, 0, RESOLVE);
  }
}

/** The status for a failed open: absent or outside (EXDEV, ELOOP...) 404; not allowed 403; out of fds 503. */
function statusOf(errno: number): number {
  if (errno === -EACCES || errno === -EPERM || errno === -ENXIO) return 403;
  if (errno === -EMFILE || errno === -ENFILE || errno === -ENOMEM) return 503;
  return 404;
}

/** Not a file of the root: the handler's to answer (see `fallThrough`). */
const NOT_HERE = { first: new Uint8Array(0), body: null } as const;

/** How a response to this request is written: its version, persistence, HEAD or not, and Date. */
interface Answer {
  readonly http11: boolean;
  readonly persistence: Persistence;
  readonly head: boolean;
  readonly date: string;
  /** A handler answers what is not a file: a 404 here is null, for it to answer. */
  readonly fallThrough: boolean;
}

function headOf(how: Answer, status: number, fields: string, framing: BodyFraming, length: number): string {
  return responseHead(status, how.http11, how.date, fields, framing, length, how.persistence);
}

/** A short text response that keeps the connection as the request asked (a 404 is no reason to close). */
function simple(how: Answer, status: number, fields: string): StaticResponse {
  if (status === 404 && how.fallThrough) return NOT_HERE;
  const first = textResponse(
    status,
    how.http11,
    how.date,
    fields,
    how.persistence,
    how.head,
    'text/plain; charset=utf-8',
  );
  return { first, body: null };
}

function closed(fd: number, r: StaticResponse): StaticResponse {
  sys.close(fd);
  return r;
}

function latin1(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
