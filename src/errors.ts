/**
 * Every error class etlt throws, each with a literal `code`.
 *
 * Failed syscalls become {@link EtltSystemError}, shaped like Node's own system errors:
 * `code` ('EAGAIN'), `errno` (negative, as Node reports it: -11), `syscall` ('recv').
 */
import { getSystemErrorMap } from 'node:util';

let errorMap: Map<number, [string, string]> | undefined;

function describe(errno: number): [string, string] {
  errorMap ??= getSystemErrorMap();
  return errorMap.get(errno) ?? [`Unknown system error ${errno}`, `unknown error ${-errno}`];
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
