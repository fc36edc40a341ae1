/**
 * Content-Type from a file name's extension, through mime-types (the table of mime-db, the
 * one Express and serve-static use); text types and the others mime-db marks UTF-8 say
 * `charset=utf-8`. Unknown: application/octet-stream.
 */
import mimeTypes from 'mime-types';

/** What a file without a known extension is sent as. */
export const DEFAULT_TYPE = 'application/octet-stream';

/** By extension; only extensions the table knows are kept, so a client cannot grow it. */
const byExtension = new Map<string, string>();

/** The Content-Type value for the file `name` (a path or a base name). */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot < 0 || dot < name.lastIndexOf('/')) return DEFAULT_TYPE;
  const ext = name.slice(dot + 1).toLowerCase();
  const known = byExtension.get(ext);
  if (known !== undefined) return known;
  const type = mimeTypes.lookup(ext);
  if (type === false) return DEFAULT_TYPE;
  const full = mimeTypes.contentType(type) || type;
  byExtension.set(ext, full);
  return full;
}
