/**
 * What the property tests (test/unit/fuzz-*.test.mjs) share: fast-check's settings, and
 * arbitraries that cut and damage well-shaped input.
 *
 * Seeded and reproducible: `npm test` runs a fixed seed with a bounded number of runs;
 * `npm run fuzz` runs many more from a fresh seed. Either way each property prints its
 * seed, and a failure prints fast-check's seed and path; to replay it:
 *   FUZZ_SEED=<seed> FUZZ_PATH=<path> node --test test/unit/fuzz-head.test.mjs
 */
import fc from 'fast-check';

/** The seed `npm test` uses, so that its runs are the same every time. */
const DEFAULT_SEED = 1402;
/** Runs per property in `npm test`: a few seconds per file on a busy machine. */
const DEFAULT_RUNS = 1000;

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${name} must be an integer, not ${JSON.stringify(raw)}`);
  return n;
}

export const SEED = envInt('FUZZ_SEED', DEFAULT_SEED);
export const RUNS = envInt('FUZZ_RUNS', DEFAULT_RUNS);

/** Asserts `property` for RUNS inputs from SEED (FUZZ_PATH: only the one it names), telling the test's output the seed. */
export function check(t, property) {
  t.diagnostic(`fast-check seed ${SEED}, ${RUNS} runs`);
  const path = process.env.FUZZ_PATH;
  fc.assert(property, { seed: SEED, numRuns: RUNS, ...(path ? { path } : {}) });
}

/** Mostly `common`, now and then one of `rare`: for parts that should usually be well-formed. */
export function usually(common, ...rare) {
  return fc.oneof({ weight: 6, arbitrary: fc.constant(common) }, fc.constantFrom(...rare));
}

/** Bytes a parser treats specially: controls, delimiters, the high half. */
const SPECIAL = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x3a, 0x3b, 0x3d, 0x5c, 0x7f, 0x80, 0xc3, 0xff];
const mutationByte = fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 }));

/** A position as a fraction of a length, unbiased (fast-check's numbers lean to the ends of their range). */
const fraction = fc.noBias(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }));
/** One edit at a relative position: insert, delete or replace a byte. */
const mutation = fc.record({
  at: fraction,
  kind: fc.constantFrom('insert', 'delete', 'replace'),
  byte: mutationByte,
});

function applyMutations(bytes, edits) {
  const out = [...bytes];
  for (const { at, kind, byte } of edits) {
    const i = Math.floor(at * (out.length + (kind === 'insert' ? 1 : 0)));
    if (kind === 'insert') out.splice(i, 0, byte);
    else if (out.length === 0) continue;
    else if (kind === 'delete') out.splice(i, 1);
    else out[i] = byte;
  }
  return Buffer.from(out);
}

/**
 * Buffers from `shaped` (an arbitrary of latin1 strings), most left whole, the others with
 * one to three bytes inserted, deleted or replaced: deep enough to reach the parser's late
 * branches, damaged enough to find what they miss. A few are plain random bytes.
 */
export function damaged(shaped) {
  const edits = fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, fc.array(mutation, { minLength: 1, maxLength: 3 }));
  return fc.oneof(
    { weight: 9, arbitrary: fc.tuple(shaped, edits).map(([s, e]) => applyMutations(Buffer.from(s, 'latin1'), e)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
  );
}

/**
 * The ends of the reads a connection might see for `length` bytes, ascending, the last
 * `length`: from `fractions` (of cutFractions), or one byte a read.
 */
export function cutsOf(length, fractions) {
  if (fractions === 'bytes') return Array.from({ length }, (_, i) => i + 1);
  const cuts = [...new Set(fractions.map((f) => Math.floor(f * length)))].filter((c) => c > 0 && c < length);
  return [...cuts.sort((a, b) => a - b), length];
}

/** How to cut for cutsOf: up to 9 reads, cut anywhere, or (one time in five) a byte a read. */
export const cutFractions = fc.oneof(
  { weight: 4, arbitrary: fc.array(fraction, { minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constant('bytes') },
);

export { fc };
