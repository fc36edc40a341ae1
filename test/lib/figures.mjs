/**
 * A lab figure must be true: every figure of an experiment's JSON is checked here against
 * what is physically possible, independently of the lab's own check (src/lab/plausible.ts).
 */
import assert from 'node:assert/strict';

/**
 * The impossible figures of `value` (an experiment's result or row): numbers below zero or
 * not a number, shares (a key ending in `Percent` or `share`) above 100, and events per wait
 * above the connections the server could hold. `skip` names keys that are not figures.
 */
export function impossible(value, skip = [], path = '') {
  const found = [];
  if (typeof value === 'number') {
    if (Number.isNaN(value) || value < 0) found.push(`${path} = ${value}`);
    if (/(percent|share)$/i.test(path) && value > 100) found.push(`${path} = ${value} (above 100%)`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => found.push(...impossible(v, skip, `${path}[${i}]`)));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value))
      if (!skip.includes(k)) found.push(...impossible(v, skip, path === '' ? k : `${path}.${k}`));
  }
  return found;
}

/** Asserts that no figure of `rows` is impossible (rows are named by `name(row)`). */
export function assertPossible(rows, name, skip = []) {
  for (const row of rows) assert.deepEqual(impossible(row, skip), [], `${name(row)}: figures that cannot be`);
}
