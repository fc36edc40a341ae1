/**
 * The Range field (RFC 9110 section 14.2), pure: one byte range of a representation of a
 * known size. Several ranges are not served as multipart/byteranges: such a request gets
 * the whole representation (200), which RFC 9110 section 14.2 allows ("a server MAY
 * ignore the Range header field").
 */

/** A satisfiable range: bytes `first` to `last`, both included (`last` < size). */
export interface ByteRange {
  readonly first: number;
  readonly last: number;
}

/** No range: send the whole representation (no field, not `bytes`, malformed, or several ranges). */
export const WHOLE = 'whole';
/** Nothing of the representation is in the range: 416 with `Content-Range: bytes *\/SIZE`. */
export const UNSATISFIABLE = 'unsatisfiable';

/** What {@link parseRange} decides. */
export type RangeResult = ByteRange | typeof WHOLE | typeof UNSATISFIABLE;

/** `bytes=first-last`, `bytes=first-` or `bytes=-suffix`, with optional whitespace around the range. */
const SINGLE = /^bytes[ \t]*=[ \t]*(?:([0-9]+)[ \t]*-[ \t]*([0-9]*)|-[ \t]*([0-9]+))[ \t]*$/i;

/**
 * Evaluates a Range field's value against a representation of `size` bytes. A last
 * position past the end is cut to the end; a suffix longer than the representation is the
 * whole of it (as a 206). A range starting at or past the end, or a zero suffix, is
 * unsatisfiable; so is every range of an empty representation.
 */
export function parseRange(value: string | undefined, size: number): RangeResult {
  if (value === undefined) return WHOLE;
  const m = SINGLE.exec(value);
  if (m === null) return WHOLE;
  if (m[3] !== undefined) {
    const suffix = Number(m[3]);
    if (suffix === 0 || size === 0) return UNSATISFIABLE;
    return { first: Math.max(0, size - suffix), last: size - 1 };
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  // first > last is a syntactically invalid range-spec: the field is ignored.
  if (last < first) return WHOLE;
  if (first >= size) return UNSATISFIABLE;
  return { first, last: Math.min(last, size - 1) };
}
