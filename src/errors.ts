/**
 * Every error class etlt throws, each with a literal `code`.
 *
 * Failed syscalls become {@link EtltSystemError}, shaped like Node's own system errors:
 * `code` ('EAGAIN'), `errno` (negative, as Node reports it: -11), `syscall` ('recv').
 */
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

let errorMap: Map<number, [string, string]> | undefined;

/*
 * libuv's table (getSystemErrorMap) has no entry for some Linux errnos, EINPROGRESS among
 * them (a non-blocking connect's result), so those codes come from os.constants.errno and
 * their messages (strerror's, lower-cased as libuv writes them) from here.
 */
const MISSING_FROM_LIBUV: Record<string, string> = {
  EBADMSG: 'bad message', ECHILD: 'no child processes', EDEADLK: 'resource deadlock avoided',
  EDOM: 'numerical argument out of domain', EDQUOT: 'disk quota exceeded', EIDRM: 'identifier removed',
  EINPROGRESS: 'operation now in progress', EMULTIHOP: 'multihop attempted',
  ENETRESET: 'network dropped connection on reset', ENOEXEC: 'exec format error', ENOLCK: 'no locks available',
  ENOLINK: 'link has been severed', ENOMSG: 'no message of desired type', ENOSR: 'out of streams resources',
  ENOSTR: 'device not a stream', ESTALE: 'stale file handle', ETIME: 'timer expired',
};

function describe(errno: number): [string, string] {
  errorMap ??= getSystemErrorMap();
  const known = errorMap.get(errno);
  if (known) return known;
  const code = Object.keys(constants.errno).find((name) => (constants.errno as Record<string, number>)[name] === -errno);
  if (code) return [code, MISSING_FROM_LIBUV[code] ?? code];
  return [`Unknown system error ${errno}`, `unknown error ${-errno}`];
}

/** A failed syscall: `code`, `errno` (negative) and `syscall`, like Node's system errors. */
export class EtltSystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;

  constructor(errno: number, syscall: string, detail?: string) {
    const negative = errno > 0 ? -errno : errno;
    const [code, message] = describe(negative);
    super(`${syscall} ${code}: ${message}${detail ? ` (${detail})` : ''}`);
    this.name = 'EtltSystemError';
    this.code = code;
    this.errno = negative;
    this.syscall = syscall;
  }
}

/** An epoll or socket used after `close()`. */
export class EtltClosedError extends Error {
  readonly code = 'ERR_ETLT_CLOSED' as const;
  constructor(what: string, operation: string) {
    super(`${operation}: I/O operation on a closed ${what}`);
    this.name = 'EtltClosedError';
  }
}

/** A host name that is not a numeric address nor `localhost` (etlt does no DNS look-ups). */
export class EtltAddressError extends Error {
  readonly code = 'ERR_ETLT_ADDRESS' as const;
  constructor(message: string) {
    super(message);
    this.name = 'EtltAddressError';
  }
}

/** Throws an {@link EtltSystemError} when a native call returned `-errno`; returns it otherwise. */
export function check(result: number, syscall: string): number {
  if (result < 0) throw new EtltSystemError(result, syscall);
  return result;
}
