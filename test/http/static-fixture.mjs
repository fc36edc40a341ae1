/**
 * A root for the static file tests, made in a temporary directory: plain files, an index,
 * a directory without one, dotfiles, symlinks that stay in and that lead out, a FIFO and a
 * character device; and a secret beside the root that no request may ever reach.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the file outside the root holds: a response that contains it has escaped. */
export const SECRET = 'SECRET-OUTSIDE-THE-ROOT';

/** A deterministic pattern of `n` bytes (every byte value, position-dependent). */
export function pattern(n, seed = 7) {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Makes the tree; returns { dir, root, files, remove }. */
export function makeRoot() {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-static-'));
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(dir, 'secret.txt'), SECRET);
  writeFileSync(join(dir, 'root-sibling.txt'), SECRET);
  const files = {
    'index.html': Buffer.from('<!doctype html><title>root</title><p>root index</p>\n'),
    'hello.txt': Buffer.from('Hello, static world!\n'),
    'data.bin': pattern(100_000),
    'empty.txt': Buffer.alloc(0),
    'sub/index.html': Buffer.from('<p>sub index</p>\n'),
    'sub/style.css': Buffer.from('body { color: teal; }\n'),
    'noindex/file.json': Buffer.from('{"a":1}\n'),
    'with space.txt': Buffer.from('spaced\n'),
    '.env': Buffer.from('DOTFILE\n'),
    '.git/config': Buffer.from('[core]\n'),
  };
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), bytes);
  }
  symlinkSync('hello.txt', join(root, 'link-in.txt'));
  symlinkSync('../secret.txt', join(root, 'link-out.txt'));
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync('..', join(root, 'up'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  // A character device (/dev/null's numbers): opened without blocking, never read, refused.
  // mknod needs root; any user can reach the same device through a followed symlink.
  const device = process.getuid?.() === 0;
  if (device) execFileSync('mknod', [join(root, 'null'), 'c', '1', '3']);
  symlinkSync('/dev/null', join(root, 'null-link'));
  return { dir, root, files, device, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
