/**
 * The file wrappers over real files and a real loopback TCP pair: openat, openat2 (its
 * RESOLVE_BENEATH refusing an escape the path itself never spells), fstat and sendfile.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  sys,
  AT_FDCWD,
  O_RDONLY,
  O_CLOEXEC,
  O_NONBLOCK,
  O_NOCTTY,
  O_DIRECTORY,
  O_PATH,
  RESOLVE_BENEATH,
  RESOLVE_NO_MAGICLINKS,
  S_IFMT,
  S_IFREG,
  S_IFDIR,
  ENOENT,
  EXDEV,
  EINVAL,
  EBADF,
  ENAMETOOLONG,
} from '../../dist/src/index.js';
import { drain, isCloexec, tcpPair, throwsArg } from '../lib/util.mjs';

const FLAGS = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

function tree(t) {
  const dir = mkdtempSync(join(tmpdir(), 'etlt-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'root'));
  writeFileSync(join(dir, 'root', 'a.txt'), 'hello file\n');
  writeFileSync(join(dir, 'secret'), 'outside\n');
  symlinkSync('../secret', join(dir, 'root', 'out'));
  symlinkSync('a.txt', join(dir, 'root', 'in'));
  execFileSync('mkfifo', [join(dir, 'root', 'fifo')]);
  return dir;
}

test('openat and fstat: a regular file, its size and mode; CLOEXEC as asked', (t) => {
  const dir = tree(t);
  const fd = sys.openat(AT_FDCWD, join(dir, 'root', 'a.txt'), FLAGS, 0);
  assert.ok(fd >= 0, `openat returned ${fd}`);
  t.after(() => sys.close(fd));
  assert.ok(isCloexec(fd));
  const st = new Float64Array(6);
  assert.equal(sys.fstat(fd, st), 0);
  assert.equal(st[0] & S_IFMT, S_IFREG);
  assert.equal(st[1], 11);
  assert.ok(st[2] > 1.6e9, 'mtime seconds');
  assert.equal(sys.openat(AT_FDCWD, join(dir, 'nope'), FLAGS, 0), -ENOENT);
  assert.equal(sys.fstat(-1, st), -EBADF);
});

test('openat2 with RESOLVE_BENEATH: inside symlinks resolve, escaping ones are EXDEV', (t) => {
  const dir = tree(t);
  const root = sys.openat(AT_FDCWD, join(dir, 'root'), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  assert.ok(root >= 0);
  t.after(() => sys.close(root));
  const resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const fd = sys.openat2(root, 'in', FLAGS, 0, resolve);
  assert.ok(fd >= 0, `openat2 returned ${fd}`);
  sys.close(fd);
  assert.equal(sys.openat2(root, 'out', FLAGS, 0, resolve), -EXDEV);
  assert.equal(sys.openat2(root, '../secret', FLAGS, 0, resolve), -EXDEV);
  assert.equal(sys.openat2(root, '/etc/passwd', FLAGS, 0, resolve), -EXDEV);
  const st = new Float64Array(6);
  const d = sys.openat2(root, '.', FLAGS, 0, resolve);
  assert.ok(d >= 0);
  assert.equal(sys.fstat(d, st), 0);
  assert.equal(st[0] & S_IFMT, S_IFDIR);
  sys.close(d);
  // O_NONBLOCK: a FIFO with no writer opens at once instead of blocking the loop.
  const f = sys.openat2(root, 'fifo', FLAGS, 0, resolve);
  assert.ok(f >= 0);
  assert.equal(sys.fstat(f, st), 0);
  assert.notEqual(st[0] & S_IFMT, S_IFREG);
  sys.close(f);
});

test('paths the kernel must never see cut short: an embedded NUL is EINVAL, an overlong one ENAMETOOLONG', () => {
  assert.equal(sys.openat(AT_FDCWD, '/etc/passwd\0/x', FLAGS, 0), -EINVAL);
  assert.equal(sys.openat2(AT_FDCWD, 'a\0b', FLAGS, 0, 0), -EINVAL);
  assert.equal(sys.openat(AT_FDCWD, 'x'.repeat(5000), FLAGS, 0), -ENAMETOOLONG);
  throwsArg(() => sys.openat(AT_FDCWD, 42, FLAGS, 0), TypeError, 'path');
  throwsArg(() => sys.fstat(0, new Uint8Array(48)), TypeError, 'out');
  throwsArg(() => sys.fstat(0, new Float64Array(2)), RangeError, 'out');
  throwsArg(() => sys.sendfile(0, 0, -1, 1), RangeError, 'offset');
});

test('sendfile: a range of the file onto a socket, the file position untouched; 0 at the end', (t) => {
  const dir = tree(t);
  const big = join(dir, 'big');
  execFileSync('truncate', ['-s', '300000', big]);
  writeFileSync(big, 'BEGIN', { flag: 'r+' });
  const fd = sys.openat(AT_FDCWD, big, FLAGS, 0);
  t.after(() => sys.close(fd));
  const { client, server } = tcpPair(t, { nonBlocking: true });
  assert.equal(sys.sendfile(server.fileno(), fd, 1, 4), 4);
  assert.equal(drain(client).toString(), 'EGIN');
  assert.equal(sys.sendfile(server.fileno(), fd, 300000, 10), 0);
  assert.equal(sys.sendfile(server.fileno(), fd, 299990, 100), 10);
  assert.equal(drain(client).length, 10);
  assert.ok(sys.sendfile(-1, fd, 0, 1) < 0);
});
