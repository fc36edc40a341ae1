/**
 * What a static file response needs of a request head, read from the head's bytes while
 * they are valid (during processing): the method, the target and the six conditional and
 * range fields. Only fields of those names' lengths are decoded, so the usual head (Host,
 * User-Agent, Accept...) costs a length check per field and no string.
 */
import type { Method, RequestHead } from '../head.js';
import type { ConditionalFields } from './conditional.js';

/** A request for a file. */
export interface StaticRequest extends ConditionalFields {
  readonly method: Method;
  /** The request-target as sent. */
  readonly target: string;
}

type Mutable = { -readonly [K in keyof StaticRequest]: StaticRequest[K] };

/** Field names by length (lower case), and the StaticRequest key each fills. */
const NAMES: ReadonlyMap<string, keyof ConditionalFields> = new Map([
  ['range', 'range'],
  ['if-range', 'ifRange'],
  ['if-match', 'ifMatch'],
  ['if-none-match', 'ifNoneMatch'],
  ['if-modified-since', 'ifModifiedSince'],
  ['if-unmodified-since', 'ifUnmodifiedSince'],
] as const);
const LENGTHS = new Uint8Array(32);
for (const name of NAMES.keys()) LENGTHS[name.length] = 1;

/** The request's method, target and conditional fields (repeated ones joined with ', '). */
export function readStaticRequest(buf: Buffer, head: RequestHead): StaticRequest {
  // Every key from the start: one object shape for every request (V8 keeps its accesses monomorphic).
  const req: Mutable = {
    method: head.method,
    target: buf.toString('latin1', head.targetStart, head.targetEnd),
    range: undefined,
    ifRange: undefined,
    ifMatch: undefined,
    ifNoneMatch: undefined,
    ifModifiedSince: undefined,
    ifUnmodifiedSince: undefined,
  };
  const f = head.fields;
  for (let i = 0; i < head.fieldCount; i++) {
    const start = f[4 * i]!;
    const len = f[4 * i + 1]! - start;
    if (len >= 32 || LENGTHS[len] === 0) continue;
    const key = NAMES.get(buf.toString('latin1', start, start + len).toLowerCase());
    if (key === undefined) continue;
    const value = buf.toString('latin1', f[4 * i + 2], f[4 * i + 3]);
    const before = req[key];
    req[key] = before === undefined ? value : `${before}, ${value}`;
  }
  return req;
}
