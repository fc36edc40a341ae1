/**
 * The one writer of response heads: the status line, Date, the fields given, the framing
 * (Content-Length, chunked, or nothing) and Connection, in that order, for every response
 * the server sends (fixed, error, handler, static file). A field every response must carry
 * (a `Server:` line, say) is one edit here. Pure strings; imports nothing.
 */

/** How a response ends its exchange: what its Connection field says (or leaves unsaid). */
export const enum Persistence {
  /** The connection closes after it: `Connection: close`. */
  Close = 0,
  /** HTTP/1.0 kept alive: `Connection: keep-alive`. */
  KeepAlive10 = 1,
  /** HTTP/1.1, persistent: no Connection field. */
  Persistent11 = 2,
  /** Closes, as HTTP/1.0 without keep-alive implies, without saying so (the seed's own bytes). */
  CloseUnsaid = 3,
}

/** How the response's content is delimited (RFC 9112 section 6.3). */
export const enum BodyFraming {
  /** `Content-Length: length`. */
  Length = 0,
  /** No length at all: 1xx, 204 and 304, whose content is empty by definition. */
  None = 1,
  /** `Transfer-Encoding: chunked` (HTTP/1.1 only). */
  Chunked = 2,
  /** No length: the content ends when the connection closes (HTTP/1.0 streaming). */
  UntilClose = 3,
}

/** Bodies up to this size are copied after their head (one segment, one send); larger stay apart. */
export const INLINE_BODY_MAX = 16 * 1024;

/** Reason phrases of the statuses the server sends itself, and common ones a handler may. */
export const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  511: 'Network Authentication Required',
};

const CONNECTION_LINE = ['Connection: close\r\n', 'Connection: keep-alive\r\n', '', ''] as const;

/**
 * A response head as latin1 text. `date`: the Date value, or null when `fields` carry one
 * already; `fields`: complete field lines (each ending in CRLF), in the order they go out;
 * `length`: the content's length, for `BodyFraming.Length`.
 */
export function responseHead(
  status: number,
  http11: boolean,
  date: string | null,
  fields: string,
  framing: BodyFraming,
  length: number,
  persistence: Persistence,
): string {
  let text = `HTTP/1.${http11 ? 1 : 0} ${status} ${REASONS[status] ?? 'Unknown'}\r\n`;
  if (date !== null) text += `Date: ${date}\r\n`;
  text += fields;
  if (framing === BodyFraming.Length) text += `Content-Length: ${length}\r\n`;
  else if (framing === BodyFraming.Chunked) text += 'Transfer-Encoding: chunked\r\n';
  return `${text}${CONNECTION_LINE[persistence]}\r\n`;
}

/** A response as the segments to send: a head (perhaps with its body), and a large body apart. */
export interface Segments {
  readonly first: Uint8Array;
  readonly body: Uint8Array | null;
}

/** The head's bytes with `body` after them: copied in when small (one segment), apart when large. */
export function withBody(head: string, body: Uint8Array | null): Segments {
  if (body === null || body.byteLength === 0) return { first: Buffer.from(head, 'latin1'), body: null };
  if (body.byteLength > INLINE_BODY_MAX) return { first: Buffer.from(head, 'latin1'), body };
  const len = Buffer.byteLength(head, 'latin1');
  const first = Buffer.allocUnsafe(len + body.byteLength);
  first.write(head, 0, len, 'latin1');
  first.set(body, len);
  return { first, body: null };
}

/** The head with a text body of `length` UTF-8 bytes: encoded straight after it when small (one allocation, one segment). */
export function withText(head: string, body: string, length: number): Segments {
  if (length > INLINE_BODY_MAX) return { first: Buffer.from(head, 'latin1'), body: Buffer.from(body) };
  // The head is latin1 (one byte a character: field values were checked to be).
  const first = Buffer.allocUnsafe(head.length + length);
  first.write(head, 0, 'latin1');
  first.write(body, head.length, 'utf8');
  return { first, body: null };
}

/** A short plain-text response: `<status> <reason>\n` as its body (empty for a HEAD request). */
export function textResponse(
  status: number,
  http11: boolean,
  date: string,
  fields: string,
  persistence: Persistence,
  head: boolean,
  contentType = 'text/plain',
): Buffer {
  const body = `${status} ${REASONS[status] ?? 'Error'}\n`;
  const text = responseHead(
    status,
    http11,
    date,
    `${fields}Content-Type: ${contentType}\r\n`,
    BodyFraming.Length,
    body.length,
    persistence,
  );
  return Buffer.from(head ? text : text + body, 'latin1');
}
