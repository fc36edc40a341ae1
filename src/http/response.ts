/**
 * The seed's response, built once and shared by every connection (each keeps an offset).
 */

/** The Date line the seed sends, kept byte for byte. */
const SEED_DATE = 'Mon, 1 Jan 1996 01:01:01 GMT';

/** The seed's body. */
export const SEED_BODY: Buffer = Buffer.from('Hello, world!');

/** A complete HTTP/1.0 200 response with the seed's headers and `body`. */
export function okResponse(body: Uint8Array = SEED_BODY): Buffer {
  const head = `HTTP/1.0 200 OK\r\nDate: ${SEED_DATE}\r\nContent-Type: text/plain\r\nContent-Length: ${body.byteLength}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** A short error response that closes the connection. */
export function errorResponse(status: 400 | 431): Buffer {
  const reason = status === 400 ? 'Bad Request' : 'Request Header Fields Too Large';
  const body = `${status} ${reason}\n`;
  return Buffer.from(
    `HTTP/1.0 ${status} ${reason}\r\nDate: ${SEED_DATE}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    'latin1',
  );
}
