/**
 * `request.url` for the fetch adapter: the absolute URL a web `Request` would have, from the
 * request-target and the Host field (RFC 9112 section 3.3), without running the WHATWG URL
 * parser when the result is already in its normal form (the common case: a plain path on a
 * plain host). Anything else goes through `new URL()`, so the text is always what
 * `new Request(url).url` would say.
 */

/**
 * A host the URL parser leaves as it is: lower-case labels whose last one starts with a
 * letter (a last label of digits would be read as IPv4 and rewritten), or a dotted quad in
 * canonical form; a port of 1 to 5 digits without a leading zero (80, the default, is dropped
 * by the parser: checked apart). No 'xn--' (punycode is validated and may be rewritten).
 */
const PLAIN_HOST =
  /^(?:(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*|(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))(?::[1-9]\d{0,4})?$/;
/**
 * A target the URL parser leaves as it is: an origin-form path and query of characters that
 * are never percent-encoded nor rewritten ('\' becomes '/', "'" is encoded in a query, '#'
 * starts a fragment), and no dot segment in the path ('.', '..', '%2e': removed or resolved).
 */
const PLAIN_TARGET = /^\/[-A-Za-z0-9._~!$&()*+,;=:@/?%]*$/;
const DOT_SEGMENT = /\/(?:\.|%2e)/i;

/** Thrown for a target or Host that makes no URL: the adapter answers 400. */
export class BadTarget extends Error {}

/** The last plain Host and its URL prefix: one Host serves a whole keep-alive connection, usually a whole server. */
export class UrlPrefix {
  /** Never a Host's value before the first: '' must take the slow path (it makes no URL). */
  host: string | undefined = undefined;
  prefix = '';
  /** The last target answered with this prefix, and its URL (a client repeating a request costs no test). */
  target = '';
  url = '';
}

/**
 * The absolute URL of a request, as `Request.url` would give it, from its target and its Host
 * (or, for a request without one, the address it reached); throws BadTarget. `last`: the
 * adapter's memo of its last plain Host.
 */
export function requestUrl(target: string, host: string, last: UrlPrefix = new UrlPrefix()): string {
  if (target === last.target && host === last.host) return last.url;
  if (PLAIN_TARGET.test(target)) {
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    if (!DOT_SEGMENT.test(path)) {
      if (host !== last.host) {
        if (!PLAIN_HOST.test(host) || host.endsWith(':80') || host.includes('xn--') || !portOk(host))
          return parsedUrl(target, host);
        last.host = host;
        last.prefix = `http://${host}`;
      }
      last.target = target;
      return (last.url = last.prefix + target);
    }
  }
  return parsedUrl(target, host);
}

function portOk(host: string): boolean {
  const colon = host.lastIndexOf(':');
  return colon < 0 || Number(host.slice(colon + 1)) <= 65535;
}

/**
 * The same through the URL parser. The absolute form names its own authority, which wins
 * over Host (RFC 9112 section 3.2.2); only http and https are URLs an origin server answers.
 * '*' (OPTIONS) becomes the path '/*', as Deno and srvx do.
 */
function parsedUrl(raw: string, host: string): string {
  // The target is the bytes sent, one char each (latin1): a byte above 0x7f is a byte of
  // UTF-8 (or of anything), percent-encoded as that byte, never as the char's own UTF-8.
  const target = /[\x80-\xff]/.test(raw)
    ? raw.replace(/[\x80-\xff]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    : raw;
  if (target.charCodeAt(0) !== 0x2f && target !== '*') {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new BadTarget(`the request-target ${JSON.stringify(target)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new BadTarget(`the request-target ${JSON.stringify(target)} is not an http or https URL`);
    if (url.username !== '' || url.password !== '')
      throw new BadTarget('the request-target carries credentials, which a Request cannot have');
    url.hash = '';
    return url.href;
  }
  // The Host field must be an authority and nothing more: a '/', '?', '#', '@' or '\' in it
  // would make the path, query or user part of the URL the client's to choose.
  if (!/^(?:\[[0-9A-Fa-f:.]+\]|[-A-Za-z0-9._~!$&'()*+,;=%]+)(?::\d*)?$/.test(host))
    throw new BadTarget(`the Host field ${JSON.stringify(host)} is not a host`);
  let url: URL;
  try {
    url = new URL(`http://${host}${target === '*' ? '/*' : target}`);
  } catch {
    throw new BadTarget(`no URL can be made of Host ${JSON.stringify(host)} and the target ${JSON.stringify(target)}`);
  }
  url.hash = '';
  return url.href;
}
