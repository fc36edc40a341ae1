/**
 * ETLT_ADDON, the loader's override (the sanitized build of `npm run test:asan` is loaded so):
 * the file it names is the one loaded, and a name that is not there is an error, never a
 * quiet fallback to build/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { ROOT } from '../lib/util.mjs';

/** Imports etlt in a child with ETLT_ADDON=`addon`; prints the .node files it has mapped. */
function loadWith(addon) {
  const source =
    "import { readFileSync } from 'node:fs'; const { Epoll } = await import('etlt'); new Epoll().close();" +
    "process.stdout.write(readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith('.node')).join('\\n'));";
  return spawnSync(process.execPath, ['--input-type=module', '-e', source], {
    cwd: ROOT,
    env: { ...process.env, ETLT_ADDON: addon },
    encoding: 'utf8',
    timeout: 30000,
  });
}

test('ETLT_ADDON names the addon that is loaded', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-addon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'etlt.node');
  copyFileSync(join(ROOT, 'build', 'Release', 'etlt.node'), copy);
  const r = loadWith(copy);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${copy.replaceAll('.', '\\.')}$`, 'm'));
  assert.doesNotMatch(r.stdout, /build\/Release\/etlt\.node/);
});

test('an ETLT_ADDON that names no file is ERR_ETLT_NOT_BUILT, naming it', () => {
  const missing = join(tmpdir(), 'etlt-no-such-addon', 'etlt.node');
  const r = loadWith(missing);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /ERR_ETLT_NOT_BUILT/);
  assert.ok(r.stderr.includes(`ETLT_ADDON names no file: ${missing}`), r.stderr);
});
