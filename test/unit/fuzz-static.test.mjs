/**
 * Properties of the static files' pure parts: the target resolver (what may reach the file
 * system) and the Range parser, over targets built from the segments that try to climb out
 * or hide a separator, and Range values built from the grammar's parts, both also damaged
 * by a few byte edits. Seeds: test/lib/fuzz.mjs.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';

import { resolveTarget } from '../../dist/src/http/static/path.js';
import { UNSATISFIABLE, WHOLE, parseRange } from '../../dist/src/http/static/range.js';
import { check, damaged, fc, usually } from '../lib/fuzz.mjs';

const ROOT = '/srv/www';

/** Segments: plain names mostly; now and then one that climbs, hides a separator or is not UTF-8. */
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{1,8}$/) },
  fc.constantFrom('a', 'b.txt', '.git', '%2ehidden', 'caf%C3%A9', '%25', '%3F', 'a%20b', '~x', '%c0%ae'),
  fc.constantFrom('.', '..', '%2e', '%2E%2e', '.%2e', '%2f', '%5c', '\\', '%00', '%0a', '', '%', '%zz', '%C3'),
);
/** Targets as latin1 strings: origin-form mostly, absolute-form and others now and then. */
const shapedTarget = fc
  .record({
    prefix: usually('', 'http://h', 'HTTPS://h:8080', 'ftp://h', 'h', '*'),
    segments: fc.array(segment, { maxLength: 4 }),
    slash: fc.boolean(),
    query: usually('', '?q', '?a=/../b', '#f'),
  })
  .map(({ prefix, segments, slash, query }) => `${prefix}/${segments.join('/')}${slash ? '/' : ''}${query}`);
const target = damaged(shapedTarget).map((b) => b.toString('latin1'));

test('a resolved target never leaves the root, and names only real segments', (t) => {
  check(
    t,
    fc.property(target, fc.boolean(), (raw, dotfiles) => {
      const r = resolveTarget(raw, dotfiles);
      if (!r.ok) return assert.ok(r.status === 400 || r.status === 404, `status ${r.status}`);
      const full = resolve(ROOT, r.path);
      assert.ok(full === ROOT || full.startsWith(`${ROOT}/`), `${JSON.stringify(raw)} resolved to ${full}`);
      if (r.path === '') return;
      for (const seg of r.path.split('/')) {
        assert.ok(
          seg !== '' && seg !== '.' && seg !== '..',
          `segment ${JSON.stringify(seg)} of ${JSON.stringify(raw)}`,
        );
        assert.doesNotMatch(seg, /[\\\x00-\x1f\x7f]/); // eslint-disable-line no-control-regex
        if (!dotfiles) assert.notEqual(seg[0], '.');
      }
    }),
  );
});

test('a resolved path, encoded again, resolves to itself', (t) => {
  check(
    t,
    fc.property(target, fc.boolean(), (raw, dotfiles) => {
      const r = resolveTarget(raw, dotfiles);
      if (!r.ok) return;
      const encoded =
        r.path === '' ? '/' : `/${r.path.split('/').map(encodeURIComponent).join('/')}${r.directory ? '/' : ''}`;
      const again = resolveTarget(encoded + r.query, dotfiles);
      assert.deepEqual({ ...again, rawPath: '' }, { ...r, rawPath: '' }, `${JSON.stringify(raw)} as ${encoded}`);
    }),
  );
});

test('dotfiles allowed serve a superset: the same answer, or a hidden path instead of 404', (t) => {
  check(
    t,
    fc.property(target, (raw) => {
      const hidden = resolveTarget(raw, false);
      const shown = resolveTarget(raw, true);
      if (hidden.ok || hidden.status === 400) return assert.deepEqual(shown, hidden);
      assert.ok(shown.ok && shown.path.split('/').some((s) => s.startsWith('.')), JSON.stringify(raw));
    }),
  );
});

const number = fc.oneof(fc.nat({ max: 2000 }), fc.constantFrom(0, 2 ** 53 - 1, 2 ** 53 + 2, 1e21));
const digits = (n, zeros) => '0'.repeat(zeros) + BigInt(n).toString();
const shapedRange = fc
  .record({
    unit: usually('bytes', 'BYTES', 'items', ' bytes'),
    ows: usually('', ' ', '\t'),
    first: fc.option(number, { freq: 4 }),
    last: fc.option(number, { freq: 3 }),
    zeros: usually(0, 1, 30),
    more: usually('', ',0-1', ', 5-', 'x', '-'),
  })
  .map(({ unit, ows, first, last, zeros, more }) => {
    const f = first === null ? '' : digits(first, zeros);
    const l = last === null ? '' : digits(last, zeros);
    return `${unit}${ows}=${ows}${f}${ows}-${ows}${l}${more}`;
  });
const rangeValue = damaged(shapedRange).map((b) => b.toString('latin1'));
const size = fc.oneof(fc.constantFrom(0, 1, 2, 1000), fc.nat({ max: 3000 }), fc.constant(2 ** 40));

test('any Range value: the whole, unsatisfiable, or a range inside the file; never a throw', (t) => {
  check(
    t,
    fc.property(fc.option(rangeValue, { nil: undefined }), size, (value, n) => {
      const r = parseRange(value, n);
      if (r === WHOLE || r === UNSATISFIABLE) return;
      assert.ok(Number.isSafeInteger(r.first) && Number.isSafeInteger(r.last), JSON.stringify(r));
      assert.ok(
        r.first >= 0 && r.first <= r.last && r.last < n,
        `${JSON.stringify(value)} of ${n}: ${JSON.stringify(r)}`,
      );
    }),
  );
});

test('a parsed range re-serialises to bytes=first-last, which parses the same', (t) => {
  check(
    t,
    fc.property(rangeValue, size, (value, n) => {
      const r = parseRange(value, n);
      if (r === WHOLE || r === UNSATISFIABLE) return;
      assert.deepEqual(parseRange(`bytes=${r.first}-${r.last}`, n), r);
    }),
  );
});
