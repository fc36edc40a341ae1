/**
 * From a request-target to a path under the root, or a refusal: pure, no file system. The
 * result names only segments that exist under any root (no `.`, no `..`, no empty segment,
 * no separator hidden in an escape), so joining it to the root can never leave the root,
 * whatever the file system holds; symlinks are the opener's business (openat2's
 * RESOLVE_BENEATH). Clients normalise `.` and `..` away before sending, so one that arrives
 * is hostile or broken: 400, as for anything that does not decode cleanly.
 */

/** A target that names a path under the root. */
export interface ResolvedTarget {
  readonly ok: true;
  /** The decoded segments joined by '/', without a leading '/': '' is the root itself. */
  readonly path: string;
  /** The target's path ended in '/' (a directory is asked for). */
  readonly directory: boolean;
  /** The path as sent (still percent-encoded), for a redirect's Location. */
  readonly rawPath: string;
  /** '?' and the query as sent, or ''. */
  readonly query: string;
}

/** A target refused: 400 (malformed, or an attempt to climb out), 404 (a dotfile, hidden). */
export interface RefusedTarget {
  readonly ok: false;
  readonly status: 400 | 404;
}

/** What {@link resolveTarget} decides. */
export type TargetResult = ResolvedTarget | RefusedTarget;

const BAD: RefusedTarget = { ok: false, status: 400 };
const HIDDEN: RefusedTarget = { ok: false, status: 404 };

/** Visible ASCII but '\\' and '#': what may stand raw in a path here. */
const RAW_OK = /^[\x21-\x22\x24-\x5b\x5d-\x7e]*$/;
/** A '%' followed by two hex digits, and nothing else after a '%'. */
const ESCAPES = /%(?![0-9A-Fa-f]{2})/;
/** What a decoded segment may not hold: separators, NUL and other control characters. */
// eslint-disable-next-line no-control-regex
const DECODED_BAD = /[/\\\x00-\x1f\x7f]/;
/** The scheme and authority of an absolute-form target (RFC 9112 section 3.2.2). */
const ABSOLUTE = /^https?:\/\/[^/?#]*/i;

/**
 * Resolves `target` (as sent: origin-form '/a/b?q', or absolute-form 'http://host/a/b').
 * `dotfiles`: whether a segment starting with '.' may be served (otherwise 404, as if it
 * were not there). Refuses with 400: other forms ('*', 'a/b'), a backslash, '#', a byte
 * outside visible ASCII, a bad or overlong escape, an escaped '/', '\\' or control
 * character (NUL included), an empty segment ('//'), and '.' or '..' however encoded.
 */
export function resolveTarget(target: string, dotfiles: boolean): TargetResult {
  let t = target;
  if (t.charCodeAt(0) !== 0x2f) {
    const abs = ABSOLUTE.exec(t);
    if (abs === null) return BAD;
    t = t.slice(abs[0].length);
    if (t === '' || t.charCodeAt(0) === 0x3f) t = '/' + t;
    if (t.charCodeAt(0) !== 0x2f) return BAD;
  }
  const q = t.indexOf('?');
  const rawPath = q < 0 ? t : t.slice(0, q);
  const query = q < 0 ? '' : t.slice(q);
  if (!RAW_OK.test(rawPath)) return BAD;
  const directory = rawPath.endsWith('/');
  const raw = rawPath.slice(1, directory ? -1 : undefined);
  if (raw === '') return { ok: true, path: '', directory, rawPath, query };
  const segments = raw.split('/');
  let hidden = false;
  for (let i = 0; i < segments.length; i++) {
    let seg = segments[i]!;
    if (seg === '') return BAD;
    if (seg.includes('%')) {
      if (ESCAPES.test(seg)) return BAD;
      try {
        seg = decodeURIComponent(seg);
      } catch {
        return BAD;
      }
      if (DECODED_BAD.test(seg)) return BAD;
      segments[i] = seg;
    }
    if (seg === '.' || seg === '..') return BAD;
    if (seg.charCodeAt(0) === 0x2e && !dotfiles) hidden = true;
  }
  // Every segment is checked first: '/.git/../x' is 400 (climbing), not 404 (hidden).
  if (hidden) return HIDDEN;
  return { ok: true, path: segments.join('/'), directory, rawPath, query };
}
