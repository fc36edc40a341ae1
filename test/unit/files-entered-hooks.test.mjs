/**
 * scripts/files-entered/hooks.mjs's `instrument`: every function of a module gets one
 * counter call at its start and nothing else changes. Checked by running instrumented
 * code: its results are the original's, and the counter sees exactly the calls made.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { instrument } from '../../scripts/files-entered/hooks.mjs';

/** Runs `source` (a function body returning a value) instrumented; the result and the counter's calls. */
function runInstrumented(source) {
  const calls = [];
  const saved = globalThis.__etltEnter;
  globalThis.__etltEnter = (file) => calls.push(file);
  try {
    const code = instrument(`export const run = () => {${source}};`, 'x.js')
      .replace('export const run', 'const run')
      .concat('\nreturn run;');
    const run = new Function(code)();
    calls.length = 0; // the outer arrow's own entry is counted below, from here
    const value = run();
    return { value, calls: calls.length, code };
  } finally {
    globalThis.__etltEnter = saved;
  }
}

test('every kind of function counts once per call, results unchanged', () => {
  const { value, calls } = runInstrumented(`
    function decl(a) { return a + 1; }
    const expr = function (a) { return a * 2; };
    const arrowExpr = (a) => a - 1;
    const curried = (a) => (b) => ({ sum: a + b });
    class Base { constructor(x) { this.x = x; } get twice() { return this.x * 2; } set value(v) { this.x = v; } }
    class Derived extends Base { constructor() { super(5); } method() { return this.twice; } static s() { return 7; } }
    function* gen() { yield 1; yield 2; }
    const d = new Derived();
    d.value = 6;
    return [decl(1), expr(2), arrowExpr(3), curried(1)(2).sum, d.method(), Derived.s(), [...gen()].length];
  `);
  assert.deepEqual(value, [2, 4, 2, 3, 12, 7, 2]);
  // run 1, decl 1, expr 1, arrowExpr 1, curried 2, Derived ctor 1, Base ctor 1, setter 1,
  // method 1, getter 1, s 1, gen 1 (a generator is entered once, at its first next())
  assert.equal(calls, 13);
});

test('an arrow returning an object literal or a sequence keeps its value', () => {
  const { value, calls } = runInstrumented(`
    const obj = () => ({ a: 1 });
    const seq = (x) => (x, x + 1);
    const nested = () => () => () => 3;
    return [obj().a, seq(1), nested()()()];
  `);
  assert.deepEqual(value, [1, 2, 3]);
  assert.equal(calls, 1 + 1 + 1 + 3);
});

test('the counter is the first statement of a block body and wraps an expression body', () => {
  const out = instrument('function f() { return 1; }\nconst g = (a) => a;\n', 'dir/file.js');
  assert.equal(
    out,
    'function f() {globalThis.__etltEnter("dir/file.js"); return 1; }\n' +
      'const g = (a) => (globalThis.__etltEnter("dir/file.js"), a);\n',
  );
});
