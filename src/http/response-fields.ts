/**
 * A handler's header fields, checked and written one by one (the exchange asks only when
 * the answer's fields are not those of the last answer, see ResponseMemo). Framing is the
 * server's business: a handler's Content-Length (but a stream's), Transfer-Encoding and
 * Connection fields are replaced, never trusted; a name that is no token, or a value with
 * a CR, LF or a character above U+00FF, is refused (header injection).
 */
import { TCHAR } from './head.js';

/**
 * What a field value may hold: HTAB, visible ASCII, SP and obs-text. A CR or LF would split
 * the response (header injection); anything above U+00FF has no byte of its own.
 */
function valueIsSendable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || TCHAR[c] !== 1) return false;
  }
  return true;
}

/** Fields the server frames itself. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

/** A handler's answer that cannot be sent. */
export class BadResponse extends Error {}

/** A handler's header fields, checked and serialized one by one. */
export class FieldWriter {
  fields = '';
  hasDate = false;
  /** The handler's Connection field ends the connection. */
  closes = false;
  /** A stream's Content-Length as the handler promised it, or -1. */
  declared = -1;
  /**
   * The names and values added, in order, while every value is a string or a number: what a
   * ResponseMemo may keep (null when not asked for, or once a value is a list or anything else).
   */
  names: string[] | null;
  values: (string | number)[] | null;
  readonly #streamed: boolean;

  constructor(streamed: boolean, keep: boolean) {
    this.#streamed = streamed;
    this.names = keep ? [] : null;
    this.values = keep ? [] : null;
  }

  add(name: unknown, value: unknown): void {
    if (typeof name !== 'string' || !isToken(name))
      throw new BadResponse(`header name ${JSON.stringify(String(name))} is not a token`);
    if (this.names !== null) {
      if (typeof value === 'string' || typeof value === 'number') {
        this.names.push(name);
        this.values!.push(value);
      } else this.names = this.values = null;
    }
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      // The handler may end the conversation; it may not keep one alive the client ended.
      this.closes ||= valuesOf(name, value).some((v) => /(^|,)\s*close\s*(,|$)/i.test(v));
      return;
    }
    // A stream's length is the handler's to promise; any other body's the server counts.
    if (lower === 'content-length' && this.#streamed) this.declared = lengthOf(valuesOf(name, value));
    if (FRAMING.has(lower)) return;
    if (lower === 'date') this.hasDate = true;
    if (typeof value === 'string') {
      if (!valueIsSendable(value)) throw unsendable(name);
      this.fields += `${name}: ${value}\r\n`;
      return;
    }
    for (const v of valuesOf(name, value)) this.fields += `${name}: ${v}\r\n`;
  }
}

function unsendable(name: string): BadResponse {
  return new BadResponse(`header ${name} has a control character or a character above U+00FF in its value`);
}

/** The [name, value] pairs of a handler's `headers`, whatever the container; anything else is refused. */
export function entriesOf(headers: unknown): Iterable<readonly [unknown, unknown]> {
  if (headers === undefined || headers === null) return [];
  if (typeof headers !== 'object')
    throw new BadResponse(`the response headers must be an object, a Headers or a Map, not ${typeof headers}`);
  if (headers instanceof Map || (typeof Headers === 'function' && headers instanceof Headers))
    return headers as Iterable<readonly [unknown, unknown]>;
  if (Symbol.iterator in headers) return pairs(headers as Iterable<unknown>);
  return Object.entries(headers);
}

function* pairs(list: Iterable<unknown>): Iterable<readonly [unknown, unknown]> {
  for (const pair of list) {
    if (!Array.isArray(pair) || pair.length !== 2)
      throw new BadResponse('each entry of the response headers must be a [name, value] pair');
    yield pair as [unknown, unknown];
  }
}

/** A stream's Content-Length as the handler gave it: one non-negative integer. */
function lengthOf(values: string[]): number {
  const n = values.length === 1 ? Number(values[0]) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || !/^\d+$/.test(values[0]!.trim()))
    throw new BadResponse(`Content-Length ${JSON.stringify(values.join(', '))} is not a length`);
  return n;
}

/** A header's values as text: strings and finite numbers, alone or in a list; anything else is refused. */
function valuesOf(name: string, value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  return list.map((v) => {
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw new BadResponse(`header ${name} has a value that is not a string or a number`);
    }
    const s = String(v);
    if (!valueIsSendable(s)) throw unsendable(name);
    return s;
  });
}
