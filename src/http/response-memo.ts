/**
 * The last handler answer's framing, kept by the server so that the next answer like it is
 * not written anew. Most applications answer with the same few header objects and, per
 * route, often the same text: checking that an answer equals the last one (a few string
 * comparisons, most of them of the same interned string) costs far less than checking each
 * field name and value, writing the head and encoding the body again. One memo per server,
 * used only synchronously while one answer is framed; it holds at most one small response.
 */
import { INLINE_BODY_MAX, responseHead, withText } from './response-head.js';
import type { BodyFraming, Persistence } from './response-head.js';

export class ResponseMemo {
  // ---- the header fields of the last plain-object `headers` (valid: fieldsKept) ----
  #names: string[] = [];
  #values: (string | number)[] = [];
  #fieldsKept = false;
  fields = '';
  hasDate = false;
  /** The handler's own Connection field said close. */
  closes = false;

  // ---- the last head written ----
  #status = 0;
  #http11 = false;
  #date: string | null = null;
  #fieldsOfHead = '';
  #framing: BodyFraming | -1 = -1;
  #length = -1;
  #persistence: Persistence | -1 = -1;
  #head = '';

  // ---- the last text body, its length, and the head with it encoded behind ----
  #text = '';
  #textLength = 0;
  #textHead = '';
  #textFirst: Uint8Array | null = null;

  /** Whether `record`'s fields are those kept, in the same order with the same values. */
  sameFields(record: Readonly<Record<string, unknown>>): boolean {
    if (!this.#fieldsKept) return false;
    const names = this.#names;
    const values = this.#values;
    let i = 0;
    for (const name in record) {
      if (i >= names.length || names[i] !== name || values[i] !== record[name]) return false;
      i++;
    }
    return i === names.length;
  }

  /**
   * Keeps the fields `names`/`values` serialized as `fields`; `values` hold only strings and
   * finite numbers (a list or anything else is not kept: it may change in place).
   */
  keepFields(names: string[], values: (string | number)[], fields: string, hasDate: boolean, closes: boolean): void {
    this.#names = names;
    this.#values = values;
    this.fields = fields;
    this.hasDate = hasDate;
    this.closes = closes;
    this.#fieldsKept = true;
  }

  /** Forgets the kept fields (the last plain-object headers could not be kept). */
  dropFields(): void {
    this.#fieldsKept = false;
  }

  /** The head for these arguments (see responseHead): the last one when they are the same, else written now and kept. */
  head(
    status: number,
    http11: boolean,
    date: string | null,
    fields: string,
    framing: BodyFraming,
    length: number,
    persistence: Persistence,
  ): string {
    if (
      status === this.#status &&
      http11 === this.#http11 &&
      date === this.#date &&
      fields === this.#fieldsOfHead &&
      framing === this.#framing &&
      length === this.#length &&
      persistence === this.#persistence
    )
      return this.#head;
    this.#head = responseHead(status, http11, date, fields, framing, length, persistence);
    this.#status = status;
    this.#http11 = http11;
    this.#date = date;
    this.#fieldsOfHead = fields;
    this.#framing = framing;
    this.#length = length;
    this.#persistence = persistence;
    return this.#head;
  }

  /** UTF-8 length of `text` (remembered for the last text). */
  textLength(text: string): number {
    if (text === this.#text) return this.#textLength;
    const length = Buffer.byteLength(text);
    this.#text = text;
    this.#textLength = length;
    this.#textFirst = null;
    return length;
  }

  /**
   * `head` with `text` (at most INLINE_BODY_MAX bytes) encoded behind it, in one buffer
   * shared by every response that is the same: queued buffers are never written to.
   */
  headWithText(head: string, text: string): Uint8Array {
    if (this.#textFirst !== null && text === this.#text && head === this.#textHead) return this.#textFirst;
    const length = this.textLength(text);
    if (length > INLINE_BODY_MAX) throw new RangeError('headWithText: the text is too large to go with its head');
    const first = withText(head, text, length).first;
    this.#textHead = head;
    this.#textFirst = first;
    return first;
  }
}
