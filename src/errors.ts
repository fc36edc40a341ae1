/**
 * Every error etlt throws: one family, each class with a literal `code` and a default
 * message (after undici's `lib/core/errors.js`). `err instanceof EtltError` is true for all
 * of them, the TypeError and RangeError subclasses for wrong arguments included.
 * docs/errors.md lists the codes; a table test covers every class.
 *
 * Failed syscalls become {@link EtltSystemError}, shaped like Node's own system errors:
 * `code` ('EAGAIN'), `errno` (negative, as Node reports it: -11), `syscall` ('recv').
 */
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** Marks every etlt error, whatever built-in class it extends. */
const BRAND = Symbol.for('etlt.error');

function brand(err: Error, name: string): void {
  Object.defineProperty(err, BRAND, { value: true });
  // Node's own errors are named after their built-in class, with the code in the stack.
  err.name = name;
}

/**
 * The base of the family. Its `instanceof` recognises every etlt error, including the
 * argument errors, which must extend TypeError and RangeError as Node's own do.
 */
export class EtltError extends Error {
  /** The error's literal code: an `ERR_ETLT_*` or `ERR_*` name, or an errno name for system errors. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    brand(this, new.target.name);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses inherit this method: they answer as ordinary classes do.
    if (this !== EtltError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

// ---------------------------------------------------------------------------------------
// Arguments and options
// ---------------------------------------------------------------------------------------

/** An argument or option of the wrong type (Node's ERR_INVALID_ARG_TYPE). */
export class EtltArgTypeError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_TYPE' as const;
  constructor(message = 'An argument is of the wrong type') {
    super(message);
    brand(this, 'TypeError');
  }
}

/** An argument or option whose value is outside what it may be (Node's ERR_OUT_OF_RANGE). */
export class EtltOutOfRangeError extends RangeError {
  readonly code = 'ERR_OUT_OF_RANGE' as const;
  constructor(message = 'A value is out of range') {
    super(message);
    brand(this, 'RangeError');
  }
}

/** An options object with a key etlt does not know (a typo, or an option of another version). */
export class EtltUnknownOptionError extends TypeError {
  readonly code = 'ERR_ETLT_UNKNOWN_OPTION' as const;
  constructor(message = 'Unknown option') {
    super(message);
    brand(this, 'TypeError');
  }
}

// ---------------------------------------------------------------------------------------
// The binding
// ---------------------------------------------------------------------------------------

/** The platform has no epoll: etlt runs on Linux only. */
export class EtltUnsupportedPlatformError extends EtltError {
  declare readonly code: 'ERR_ETLT_UNSUPPORTED_PLATFORM';
  constructor(message = `etlt needs Linux epoll; this platform is ${process.platform}`) {
    super('ERR_ETLT_UNSUPPORTED_PLATFORM', message);
  }
}

/** The native addon was not built (or not found) where the package expects it. */
export class EtltNotBuiltError extends EtltError {
  declare readonly code: 'ERR_ETLT_NOT_BUILT';
  constructor(message = 'etlt: the native addon is not built; run `npm rebuild etlt`') {
    super('ERR_ETLT_NOT_BUILT', message);
  }
}

/** An epoll object or a selector used after `close()`. */
export class EtltClosedError extends EtltError {
  declare readonly code: 'ERR_ETLT_CLOSED';
  constructor(what = 'object', operation = 'operation') {
    super('ERR_ETLT_CLOSED', `${operation}: I/O operation on a closed ${what}`);
  }
}

/** A host name that is not a numeric address nor `localhost` (etlt does no DNS look-ups). */
export class EtltAddressError extends EtltError {
  declare readonly code: 'ERR_ETLT_ADDRESS';
  constructor(message = 'not a numeric address (etlt does no DNS look-ups)') {
    super('ERR_ETLT_ADDRESS', message);
  }
}

/**
 * A file object or fd that is not registered with a `Poll` or a selector (Python's
 * KeyError from `unregister`, `modify`, `getKey`).
 */
export class EtltNotRegisteredError extends EtltError {
  declare readonly code: 'ERR_ETLT_NOT_REGISTERED';
  constructor(message = 'the file object is not registered') {
    super('ERR_ETLT_NOT_REGISTERED', message);
  }
}

/** A file object (or its fd) registered a second time with a selector (Python's KeyError). */
export class EtltAlreadyRegisteredError extends EtltError {
  declare readonly code: 'ERR_ETLT_ALREADY_REGISTERED';
  constructor(message = 'the file object is already registered') {
    super('ERR_ETLT_ALREADY_REGISTERED', message);
  }
}

let errorMap: Map<number, [string, string]> | undefined;

/*
 * libuv's table (getSystemErrorMap) has no entry for some Linux errnos, EINPROGRESS among
 * them (a non-blocking connect's result), so those codes come from os.constants.errno and
 * their messages (strerror's, lower-cased as libuv writes them) from here.
 */
const MISSING_FROM_LIBUV: Record<string, string> = {
  EBADMSG: 'bad message',
  ECHILD: 'no child processes',
  EDEADLK: 'resource deadlock avoided',
  EDOM: 'numerical argument out of domain',
  EDQUOT: 'disk quota exceeded',
  EIDRM: 'identifier removed',
  EINPROGRESS: 'operation now in progress',
  EMULTIHOP: 'multihop attempted',
  ENETRESET: 'network dropped connection on reset',
  ENOEXEC: 'exec format error',
  ENOLCK: 'no locks available',
  ENOLINK: 'link has been severed',
  ENOMSG: 'no message of desired type',
  ENOSR: 'out of streams resources',
  ENOSTR: 'device not a stream',
  ESTALE: 'stale file handle',
  ETIME: 'timer expired',
};

function describeErrno(errno: number): [string, string] {
  errorMap ??= getSystemErrorMap();
  const known = errorMap.get(errno);
  if (known) return known;
  const code = Object.keys(constants.errno).find(
    (name) => (constants.errno as Record<string, number>)[name] === -errno,
  );
  if (code) return [code, MISSING_FROM_LIBUV[code] ?? code];
  return [`Unknown system error ${errno}`, `unknown error ${-errno}`];
}

/**
 * A failed syscall: `code`, `errno` (negative) and `syscall`, like Node's system errors;
 * `address` and `port` when the call was about one (bind, connect), as Node's are.
 */
export class EtltSystemError extends EtltError {
  readonly errno: number;
  readonly syscall: string;
  readonly address?: string;
  readonly port?: number;

  constructor(errno: number, syscall: string, detail?: string, where?: { address: string; port?: number }) {
    const negative = errno > 0 ? -errno : errno;
    const [code, message] = describeErrno(negative);
    // Node's own form: "listen EADDRINUSE: address already in use 0.0.0.0:8080".
    // An IPv6 address in brackets; a Unix socket's path (a '/' in it) as it is.
    const host = where?.address.includes(':') && !where.address.includes('/') ? `[${where.address}]` : where?.address;
    const at = where ? ` ${host}${where.port === undefined ? '' : `:${where.port}`}` : '';
    super(code, `${syscall} ${code}: ${message}${at}${detail ? ` (${detail})` : ''}`);
    this.errno = negative;
    this.syscall = syscall;
    if (where) {
      this.address = where.address;
      if (where.port !== undefined) this.port = where.port;
    }
  }
}

/** Throws an {@link EtltSystemError} when a native call returned `-errno`; returns it otherwise. */
export function check(result: number, syscall: string): number {
  if (result < 0) throw new EtltSystemError(result, syscall);
  return result;
}

// ---------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------

/** `listen()` on a server that is already listening (Node's net.Server uses the same code). */
export class EtltAlreadyListeningError extends EtltError {
  declare readonly code: 'ERR_SERVER_ALREADY_LISTEN';
  constructor(message = 'listen(): the server is already listening') {
    super('ERR_SERVER_ALREADY_LISTEN', message);
  }
}

/** A call that needs a listening server, made before `listen()` (Node's code for it). */
export class EtltNotListeningError extends EtltError {
  declare readonly code: 'ERR_SERVER_NOT_RUNNING';
  constructor(message = 'the server is not listening') {
    super('ERR_SERVER_NOT_RUNNING', message);
  }
}

/** `listen()` after `close()`: a server serves one life; make a new one to listen again. */
export class EtltServerClosedError extends EtltError {
  declare readonly code: 'ERR_ETLT_SERVER_CLOSED';
  constructor(message = 'listen(): the server was closed; create a new HttpServer to listen again') {
    super('ERR_ETLT_SERVER_CLOSED', message);
  }
}

/** Why a request's `signal` aborted. */
export type RequestAbortCause = 'reset' | 'peer-closed' | 'timeout' | 'shutdown';

/**
 * The reason of an aborted `req.signal`: the client reset or closed the connection before
 * its response was sent, the idle timeout cut it off, or `close()`'s deadline did; `cause`
 * says which.
 */
export class EtltRequestAbortedError extends EtltError {
  declare readonly code: 'ERR_ETLT_REQUEST_ABORTED';
  /** What ended the request. */
  readonly why: RequestAbortCause;
  constructor(why: RequestAbortCause = 'reset', message = ABORT_MESSAGES[why]) {
    super('ERR_ETLT_REQUEST_ABORTED', message);
    this.why = why;
  }
}

/**
 * A request body larger than `maxBodyBytes`, refused by a reader that collects it whole
 * (the fetch adapter's `text()`, `json()`, `formData()`...; a stream read piece by piece has
 * only `maxStreamBodyBytes`). `status` is 413, and `getResponse()` makes that answer, which
 * frameworks that know HTTP exceptions by that method (Hono's `onError`) send as it is.
 */
export class EtltBodyTooLargeError extends EtltError {
  declare readonly code: 'ERR_ETLT_BODY_TOO_LARGE';
  readonly status = 413;
  /** The limit that was passed, in bytes. */
  readonly limit: number;
  constructor(limit = 0, message = `the request body is larger than maxBodyBytes (${limit} bytes)`) {
    super('ERR_ETLT_BODY_TOO_LARGE', message);
    this.limit = limit;
  }

  /** The 413 answer, as a web Response. */
  getResponse(): Response {
    return new Response('413 Content Too Large\n', { status: 413, headers: { 'content-type': 'text/plain' } });
  }
}

const ABORT_MESSAGES: Record<RequestAbortCause, string> = {
  reset: 'the client reset the connection before the response was sent',
  'peer-closed': 'the client closed the connection before the request was complete',
  timeout: 'the idle timeout ran out before the response was sent',
  shutdown: "the server's close() deadline ran out before the response was sent",
};

// ---------------------------------------------------------------------------------------
// The command line and the lab
// ---------------------------------------------------------------------------------------

/** A command line etlt cannot run: the CLI prints it with a pointer to `--help` and exits 2. */
export class EtltUsageError extends EtltError {
  declare readonly code: 'ERR_ETLT_USAGE';
  constructor(message = 'invalid command line') {
    super('ERR_ETLT_USAGE', message);
  }
}

/** Output that could not be written in full (a report on a closed pipe, a full disk). */
export class EtltOutputError extends EtltError {
  declare readonly code: 'ERR_ETLT_OUTPUT';
  constructor(message = 'output could not be written in full') {
    super('ERR_ETLT_OUTPUT', message);
  }
}

/** A lab run that could not go on: a server or load generator that failed or did not start. */
export class EtltLabError extends EtltError {
  declare readonly code: 'ERR_ETLT_LAB';
  constructor(message = 'the lab could not run') {
    super('ERR_ETLT_LAB', message);
  }
}

/** A lab run stopped by a signal before it finished. */
export class EtltAbortedError extends EtltError {
  declare readonly code: 'ABORT_ERR';
  constructor(message = 'the operation was aborted') {
    super('ABORT_ERR', message);
  }
}

// ---------------------------------------------------------------------------------------
// Worker processes
// ---------------------------------------------------------------------------------------

/** A worker process that could not start serving (it exited, or failed, before its first 'ready'). */
export class EtltWorkerError extends EtltError {
  declare readonly code: 'ERR_ETLT_WORKER';
  constructor(message = 'a worker process could not start serving') {
    super('ERR_ETLT_WORKER', message);
  }
}

/**
 * An application module (`etlt serve --app`, `WorkerPool`'s `app`) that cannot be served:
 * missing, not importable (TypeScript on Node 20), or without a function as its default export.
 */
export class EtltAppError extends EtltError {
  declare readonly code: 'ERR_ETLT_APP';
  constructor(message = 'the application module cannot be served') {
    super('ERR_ETLT_APP', message);
  }
}
