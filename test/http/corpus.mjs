/**
 * The differential corpus: raw requests, valid and invalid, by name. Each value is the
 * request's bytes as a latin1 string (every char one byte), sent as is on a fresh connection.
 * Split in two modules to keep each readable; the names are unique across both.
 */
import { FRAMING } from './corpus-framing.mjs';
import { HEAD_EDGES } from './corpus-head.mjs';

for (const name of Object.keys(FRAMING))
  if (name in HEAD_EDGES) throw new Error(`corpus case ${name} is defined twice`);

/** name -> raw request (latin1). */
export const CASES = Object.freeze({ ...FRAMING, ...HEAD_EDGES });

/** The bytes of a case. */
export function bytesOf(name) {
  const raw = CASES[name];
  if (raw === undefined) throw new Error(`no corpus case ${name}`);
  return Buffer.from(raw, 'latin1');
}
