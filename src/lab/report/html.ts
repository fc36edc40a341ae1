/**
 * The report's only escaping: a tagged template that escapes what it interpolates.
 *
 * Hand calls to an escape function fail open: forget one and the report's own data (a
 * strategy name, a counter, a kernel string) becomes markup. Here the default is the safe
 * one. Everything interpolated into {@link html} is escaped unless it is already a
 * {@link SafeHtml}, and a SafeHtml can only come from this module (`html` itself,
 * {@link joinHtml}, {@link scriptJson}, or the explicit {@link raw}), so every unescaped
 * byte of the page is literal template text, JSON made inert, or a visible `raw`.
 *
 * The escaping covers element content and double- or single-quoted attribute values
 * (HTML and SVG alike). It does not make unquoted attributes, URLs, `<script>` or
 * `<style>` content safe: the report quotes every attribute, and its one script block and
 * one style sheet go through {@link scriptJson} and `raw`.
 */

/** Proof that a SafeHtml was made here; module-private, so no caller can forge one. */
const TRUSTED: unique symbol = Symbol('SafeHtml');

/**
 * Markup that is already safe to place in a page: the result of {@link html},
 * {@link joinHtml}, {@link scriptJson} or {@link raw}. `html` inserts it verbatim.
 */
export class SafeHtml {
  readonly #markup: string;

  /** Not for callers: use {@link html}, or {@link raw} for trusted generated markup. */
  constructor(token: typeof TRUSTED, markup: string) {
    // A runtime check too, because JavaScript callers do not see the parameter's type.
    if (token !== TRUSTED) throw new TypeError('SafeHtml is made by html`…` or raw(), not by new');
    this.#markup = markup;
  }

  /** The markup itself, so a SafeHtml can be written out, compared or measured as a string. */
  toString(): string {
    return this.#markup;
  }
}

/**
 * What {@link html} accepts between `${` and `}`: text and numbers (escaped), SafeHtml
 * (verbatim), arrays of these (concatenated), and `null`, `undefined` or `false`
 * (nothing, so `${cond && html\`…\`}` reads naturally). `true` is text, like any value.
 */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * `text` with `& < > " '` replaced by entities: safe as element content and inside a
 * double- or single-quoted attribute value. Exported for tests and for the rare caller
 * that needs a plain string; markup should be built with {@link html}.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  // Values typed as text may hold anything at run time (the report is JSON from disk):
  // whatever it is, it is escaped as text, never trusted.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- anything at all, shown as text
  return escapeHtml(String(value));
}

/**
 * A tagged template for markup: the literal parts are kept as written, every interpolated
 * value is escaped (see {@link HtmlValue}). Attribute values must be quoted in the
 * template, as in `` html`<rect fill="${color}"/>` ``.
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(TRUSTED, out);
}

/**
 * Markup joined with `separator` between the parts, each part rendered as in
 * {@link html}. The page puts its top-level parts on lines of their own with `'\n'`.
 */
export function joinHtml(parts: readonly HtmlValue[], separator: string | SafeHtml = ''): SafeHtml {
  return new SafeHtml(TRUSTED, parts.map(render).join(render(separator)));
}

/**
 * Trusts `markup` as it is, unescaped. Only for markup the program generates and a reader
 * can check at a glance, such as the report's style sheet (which must not be escaped:
 * `<style>` content is not entity-decoded). Never for anything read from a report.
 */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(TRUSTED, markup);
}

/**
 * `value` as JSON for an inert `<script type="application/json">` block. Script content
 * is not entity-decoded, so HTML escaping would corrupt it; instead `<` is written
 * `\u003c`, so no `</script>` or `<!--` in the data can end the block early, and U+2028
 * and U+2029 are escaped for readers that parse the block as JavaScript. `undefined`
 * (which JSON cannot spell) gives `null`.
 */
export function scriptJson(value: unknown): SafeHtml {
  const json = JSON.stringify(value) ?? 'null';
  return new SafeHtml(
    TRUSTED,
    json
      .replace(/</g, '\\u003c')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029'),
  );
}
