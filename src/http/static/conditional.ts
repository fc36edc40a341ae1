/**
 * Conditional requests (RFC 9110 section 13) and ranges together, pure: given a file's
 * validators and the request's fields, what the response is. The preconditions are
 * evaluated in the order of section 13.2.2: If-Match, else If-Unmodified-Since (412 when
 * they fail); If-None-Match, else If-Modified-Since (304 when the client's copy is
 * current); then If-Range decides whether Range applies.
 */
import { parseHttpDate } from './http-date.js';
import { UNSATISFIABLE, WHOLE, parseRange } from './range.js';

/** The request fields that matter, as sent (repeated fields joined with ', '). */
export interface ConditionalFields {
  readonly range?: string | undefined;
  readonly ifRange?: string | undefined;
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
  readonly ifUnmodifiedSince?: string | undefined;
}

/** A file's validators: its strong entity-tag ('"..."') and its modification time in whole seconds. */
export interface Validators {
  readonly etag: string;
  readonly mtimeS: number;
}

/** The response to send: its status and, for 206, the range. */
export type Outcome =
  { readonly status: 200 | 304 | 412 | 416 } | { readonly status: 206; readonly first: number; readonly last: number };

const OK = { status: 200 } as const;
const NOT_MODIFIED = { status: 304 } as const;
const FAILED = { status: 412 } as const;
const UNSATISFIABLE_416 = { status: 416 } as const;

/**
 * Decides the response to a GET (`get`: true) or HEAD of a file of `size` bytes. Range and
 * If-Range apply to GET only; a field that is not a valid HTTP-date (http-date.ts) is
 * ignored, as the RFC says, and so is an If-Modified-Since later than `nowS` (the server's
 * clock, in seconds): a client cannot know the file will not change before then.
 */
export function evaluate(
  fields: ConditionalFields,
  v: Validators,
  size: number,
  get: boolean,
  nowS: number = Date.now() / 1000,
): Outcome {
  if (fields.ifMatch !== undefined) {
    if (!matches(fields.ifMatch, v.etag, true)) return FAILED;
  } else if (fields.ifUnmodifiedSince !== undefined) {
    const since = parseHttpDate(fields.ifUnmodifiedSince, nowS);
    if (since !== null && v.mtimeS > since) return FAILED;
  }
  if (fields.ifNoneMatch !== undefined) {
    if (matches(fields.ifNoneMatch, v.etag, false)) return NOT_MODIFIED;
  } else if (fields.ifModifiedSince !== undefined) {
    // RFC 9110 section 13.1.3; RFC 7232 section 3.3 named the future date invalid outright.
    const since = parseHttpDate(fields.ifModifiedSince, nowS);
    if (since !== null && since <= nowS && v.mtimeS <= since) return NOT_MODIFIED;
  }
  if (!get || fields.range === undefined) return OK;
  if (fields.ifRange !== undefined && !ifRangeHolds(fields.ifRange, v)) return OK;
  const r = parseRange(fields.range, size);
  if (r === WHOLE) return OK;
  if (r === UNSATISFIABLE) return UNSATISFIABLE_416;
  return { status: 206, first: r.first, last: r.last };
}

/**
 * Whether a list of entity-tags (If-Match, If-None-Match) holds `etag`: '*' holds any;
 * `strong`: a weak tag (W/"...") never matches (section 8.8.3.2).
 */
export function matches(list: string, etag: string, strong: boolean): boolean {
  const trimmed = list.trim();
  if (trimmed === '*') return true;
  for (const item of trimmed.split(',')) {
    let tag = item.trim();
    if (tag.startsWith('W/')) {
      if (strong) continue;
      tag = tag.slice(2);
    }
    if (tag === etag) return true;
  }
  return false;
}

/** If-Range: an entity-tag must match strongly; a date must be the file's own modification time. */
function ifRangeHolds(value: string, v: Validators): boolean {
  const t = value.trim();
  if (t.startsWith('"') || t.startsWith('W/')) return t === v.etag;
  const date = parseHttpDate(t);
  return date !== null && date === v.mtimeS;
}
