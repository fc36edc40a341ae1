/**
 * The seed's print of each request, made safe for a terminal: `etlt serve` and each of its
 * workers print these.
 */

const DASHES = '-'.repeat(40);

/**
 * Control characters other than tab, CR and LF (C0, DEL and C1): a client's bytes must not
 * drive the terminal (ESC sequences can retitle it, move the cursor, rewrite earlier lines).
 * The head scanner refuses C0 in the head, but bytes past the head are printed too, and
 * UTF-8 in the head can decode to C1 (U+009B is CSI).
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

/** Shows a control character as \xNN. */
function escapeControl(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** The seed's print of a request: 40 dashes, then the request decoded, minus its last two characters. */
export function requestLines(request: Buffer): string {
  return DASHES + '\n' + request.toString('utf8').slice(0, -2).replace(CONTROLS, escapeControl);
}
