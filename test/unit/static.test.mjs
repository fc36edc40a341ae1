/**
 * The static file server's pure parts: the target resolver (what may reach the file
 * system), the Range parser, the conditional-request evaluator and the MIME lookup.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { resolveTarget } from '../../dist/src/http/static/path.js';
import { UNSATISFIABLE, WHOLE, parseRange } from '../../dist/src/http/static/range.js';
import { evaluate, matches } from '../../dist/src/http/static/conditional.js';
import { DEFAULT_TYPE, contentTypeOf } from '../../dist/src/http/static/mime.js';

describe('resolveTarget', () => {
  test('origin-form and absolute-form targets name paths under the root', () => {
    const cases = [
      ['/', '', true, ''],
      ['/a/b.txt', 'a/b.txt', false, ''],
      ['/dir/', 'dir', true, ''],
      ['/a%20b.txt?x=1&y=%2f', 'a b.txt', false, '?x=1&y=%2f'],
      ['/caf%C3%A9', 'café', false, ''],
      ['http://example.com/a/b', 'a/b', false, ''],
      ['HTTP://example.com', '', true, ''],
      ['http://example.com?q', '', true, '?q'],
      ['/a..b/c.', 'a..b/c.', false, ''],
    ];
    for (const [target, path, directory, query] of cases) {
      const r = resolveTarget(target, false);
      assert.deepEqual(r, { ok: true, path, directory, rawPath: r.rawPath, query }, target);
    }
    assert.equal(resolveTarget('/a%20b/?q', false).rawPath, '/a%20b/');
  });

  test('every way of climbing out, or of hiding a separator, is 400', () => {
    const bad = [
      '/../etc/passwd',
      '/a/../../etc/passwd',
      '/..',
      '/.',
      '/a/./b',
      '/%2e%2e/etc/passwd',
      '/%2E%2E/x',
      '/.%2e/x',
      '/a/%2e/b',
      '/a%2fb',
      '/..%2f..%2fetc%2fpasswd',
      '/a%5cb',
      '/a\\b',
      '/..\\..\\etc\\passwd',
      '/a%00b',
      '/a%00',
      '/a%0ab',
      '/a%7f',
      '//etc/passwd',
      '/a//b',
      '/a%',
      '/a%2',
      '/a%zz',
      '/%c0%ae%c0%ae/x',
      '/%ff',
      '/a#b',
      '/é',
      '*',
      'etc/passwd',
      'file:///etc/passwd',
      'http://x/../etc/passwd',
      'http://x//etc/passwd',
      'http:/etc/passwd',
      '',
    ];
    for (const target of bad) assert.deepEqual(resolveTarget(target, true), { ok: false, status: 400 }, target);
  });

  test('dotfiles and dot-directories are 404 unless allowed', () => {
    for (const target of ['/.env', '/.git/config', '/a/.hidden/b', '/%2egit/HEAD', '/.well-known/x']) {
      assert.deepEqual(resolveTarget(target, false), { ok: false, status: 404 }, target);
      assert.equal(resolveTarget(target, true).ok, true, target);
    }
    // Climbing is 400 even through a dot-directory.
    assert.deepEqual(resolveTarget('/.git/../x', false), { ok: false, status: 400 });
  });
});

describe('parseRange', () => {
  test('single ranges, open and suffix ranges, cut to the size', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { first: 0, last: 99 });
    assert.deepEqual(parseRange('bytes=500-', 1000), { first: 500, last: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { first: 900, last: 999 });
    assert.deepEqual(parseRange('bytes=-5000', 1000), { first: 0, last: 999 });
    assert.deepEqual(parseRange('bytes=990-5000', 1000), { first: 990, last: 999 });
    assert.deepEqual(parseRange('Bytes = 1 - 2 ', 10), { first: 1, last: 2 });
    assert.deepEqual(parseRange('bytes=0-0', 1), { first: 0, last: 0 });
  });

  test('unsatisfiable: past the end, a zero suffix, anything of an empty file', () => {
    assert.equal(parseRange('bytes=1000-', 1000), UNSATISFIABLE);
    assert.equal(parseRange('bytes=1000-2000', 1000), UNSATISFIABLE);
    assert.equal(parseRange('bytes=-0', 1000), UNSATISFIABLE);
    assert.equal(parseRange('bytes=0-', 0), UNSATISFIABLE);
    assert.equal(parseRange('bytes=-1', 0), UNSATISFIABLE);
  });

  test('ignored (the whole file): absent, other units, malformed, reversed, several ranges', () => {
    for (const v of [
      undefined,
      'items=0-1',
      'bytes=',
      'bytes=a-b',
      'bytes=5-1',
      'bytes=-',
      'bytes=0-1,5-6',
      'bytes=0-1,',
      'bytes=1.5-2',
      'bytes 0-1',
      'bytes=--1',
    ]) {
      assert.equal(parseRange(v, 1000), WHOLE, String(v));
    }
  });
});

describe('evaluate (RFC 9110 section 13.2.2)', () => {
  const v = { etag: '"abc-10"', mtimeS: 1_700_000_000 };
  const at = (s) => new Date(s * 1000).toUTCString();

  test('If-None-Match and If-Modified-Since: 304 when the copy is current', () => {
    assert.deepEqual(evaluate({ ifNoneMatch: '"abc-10"' }, v, 16, true), { status: 304 });
    assert.deepEqual(evaluate({ ifNoneMatch: 'W/"abc-10"' }, v, 16, true), { status: 304 });
    assert.deepEqual(evaluate({ ifNoneMatch: '"x", "abc-10"' }, v, 16, false), { status: 304 });
    assert.deepEqual(evaluate({ ifNoneMatch: '*' }, v, 16, true), { status: 304 });
    assert.deepEqual(evaluate({ ifNoneMatch: '"other"' }, v, 16, true), { status: 200 });
    assert.deepEqual(evaluate({ ifModifiedSince: at(v.mtimeS) }, v, 16, true), { status: 304 });
    assert.deepEqual(evaluate({ ifModifiedSince: at(v.mtimeS - 1) }, v, 16, true), { status: 200 });
    assert.deepEqual(evaluate({ ifModifiedSince: 'not a date' }, v, 16, true), { status: 200 });
    // If-None-Match wins over If-Modified-Since.
    assert.deepEqual(evaluate({ ifNoneMatch: '"other"', ifModifiedSince: at(v.mtimeS) }, v, 16, true), {
      status: 200,
    });
  });

  test('If-Match and If-Unmodified-Since: 412 when they fail', () => {
    assert.deepEqual(evaluate({ ifMatch: '"other"' }, v, 16, true), { status: 412 });
    assert.deepEqual(evaluate({ ifMatch: 'W/"abc-10"' }, v, 16, true), { status: 412 });
    assert.deepEqual(evaluate({ ifMatch: '"abc-10"' }, v, 16, true), { status: 200 });
    assert.deepEqual(evaluate({ ifMatch: '*' }, v, 16, true), { status: 200 });
    assert.deepEqual(evaluate({ ifUnmodifiedSince: at(v.mtimeS - 1) }, v, 16, true), { status: 412 });
    assert.deepEqual(evaluate({ ifUnmodifiedSince: at(v.mtimeS) }, v, 16, true), { status: 200 });
    // If-Match wins over If-Unmodified-Since.
    assert.deepEqual(evaluate({ ifMatch: '"abc-10"', ifUnmodifiedSince: at(0) }, v, 16, true), { status: 200 });
  });

  test('Range on GET only; If-Range needs a strong match or the exact date', () => {
    assert.deepEqual(evaluate({ range: 'bytes=2-3' }, v, 16, true), { status: 206, first: 2, last: 3 });
    assert.deepEqual(evaluate({ range: 'bytes=2-3' }, v, 16, false), { status: 200 });
    assert.deepEqual(evaluate({ range: 'bytes=20-' }, v, 16, true), { status: 416 });
    assert.deepEqual(evaluate({ range: 'bytes=2-3', ifRange: '"abc-10"' }, v, 16, true), {
      status: 206,
      first: 2,
      last: 3,
    });
    assert.deepEqual(evaluate({ range: 'bytes=2-3', ifRange: '"old"' }, v, 16, true), { status: 200 });
    assert.deepEqual(evaluate({ range: 'bytes=2-3', ifRange: 'W/"abc-10"' }, v, 16, true), { status: 200 });
    assert.deepEqual(evaluate({ range: 'bytes=2-3', ifRange: at(v.mtimeS) }, v, 16, true), {
      status: 206,
      first: 2,
      last: 3,
    });
    assert.deepEqual(evaluate({ range: 'bytes=2-3', ifRange: at(v.mtimeS + 1) }, v, 16, true), { status: 200 });
    // A 304 or 412 comes before any range.
    assert.deepEqual(evaluate({ range: 'bytes=20-', ifNoneMatch: '"abc-10"' }, v, 16, true), { status: 304 });
  });

  test('matches: strong and weak comparison', () => {
    assert.equal(matches('"a", W/"b"', '"b"', false), true);
    assert.equal(matches('"a", W/"b"', '"b"', true), false);
    assert.equal(matches(' * ', '"q"', true), true);
    assert.equal(matches('"a"', '"b"', false), false);
  });
});

test('contentTypeOf: from the MIME table, charset=utf-8 on text, octet-stream when unknown', () => {
  assert.equal(contentTypeOf('index.html'), 'text/html; charset=utf-8');
  assert.equal(contentTypeOf('a/b/style.CSS'), 'text/css; charset=utf-8');
  assert.equal(contentTypeOf('app.js'), 'text/javascript; charset=utf-8');
  assert.equal(contentTypeOf('x.png'), 'image/png');
  assert.equal(contentTypeOf('data.json'), 'application/json; charset=utf-8');
  assert.equal(contentTypeOf('README'), DEFAULT_TYPE);
  assert.equal(contentTypeOf('x.unknownext'), DEFAULT_TYPE);
  assert.equal(contentTypeOf('dir.d/file'), DEFAULT_TYPE);
});
