/**
 * The README's WorkerPool example, run as printed (issue 18 item 13): a normal stop prints
 * no "replaced in undefined ms", and what it prints is what the README says it does.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

import { ROOT, runNode } from '../lib/util.mjs';

test(
  "the README's WorkerPool example runs and a normal stop prints no undefined figure",
  { timeout: 30_000 },
  async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    const example = blocks.find((b) => b.includes('new WorkerPool('));
    assert.ok(example, 'the README has a WorkerPool example');
    const index = pathToFileURL(join(ROOT, 'dist', 'src', 'index.js')).href;
    const source = example.replace("from 'etlt'", `from ${JSON.stringify(index)}`);
    const r = await runNode(source, { timeout: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr + r.stdout, /undefined/);
    // `console.log(pool.pids, total requests)`: two pids and a count.
    assert.match(r.stdout, /^\[ \d+, \d+ \] \d+$/m);
  },
);
