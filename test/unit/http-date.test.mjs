/**
 * HTTP-date (RFC 9110 section 5.6.7): the three forms are read, nothing else is, and
 * If-Modified-Since ignores anything that is not one, or that is in the future (section
 * 13.1.3): `Date.parse` took '99999', '2100-01-01' and 'Mon Dec 07 2099' for dates, and a
 * file was "not modified" since each.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { parseHttpDate } from '../../dist/src/http/static/http-date.js';
import { evaluate } from '../../dist/src/http/static/conditional.js';

/** 1994-11-06T08:49:37Z, the RFC's own example. */
const EXAMPLE = Date.UTC(1994, 10, 6, 8, 49, 37) / 1000;
/** 2026-12-07T12:00:00Z: "now" for the tests that need one. */
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0) / 1000;

describe('parseHttpDate', () => {
  test("the RFC's three forms of one instant", () => {
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', NOW), EXAMPLE);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW), EXAMPLE);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994', NOW), EXAMPLE);
    assert.equal(parseHttpDate('Sun Nov 16 08:49:37 1994', NOW), EXAMPLE + 10 * 86400);
  });

  test('rfc850-date: a two-digit year more than 50 years ahead is in the past century', () => {
    assert.equal(parseHttpDate('Thursday, 01-Jan-76 00:00:00 GMT', NOW), Date.UTC(2076, 0, 1) / 1000);
    assert.equal(parseHttpDate('Friday, 01-Jan-77 00:00:00 GMT', NOW), Date.UTC(1977, 0, 1) / 1000);
    assert.equal(parseHttpDate('Monday, 01-Jan-01 00:00:00 GMT', NOW), Date.UTC(2001, 0, 1) / 1000);
  });

  test('a leap second is read as the second before the next minute', () => {
    assert.equal(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT', NOW), Date.UTC(2016, 11, 31, 23, 59, 59) / 1000);
  });

  test('anything else is not an HTTP-date', () => {
    for (const v of [
      '99999',
      '2100-01-01',
      'Mon Dec 07 2099',
      '1994-11-06T08:49:37Z',
      'Sun, 06 Nov 1994 08:49:37 +0000',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 06 Nov 1994 08:49:37',
      'sun, 06 nov 1994 08:49:37 gmt',
      'SUN, 06 NOV 1994 08:49:37 GMT',
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 94 08:49:37 GMT',
      'Sun,  06 Nov 1994 08:49:37 GMT',
      ' Sun, 06 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 08:49:37 GMT ',
      'Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 8:49:37 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 1994 23:60:00 GMT',
      'Sun, 06 Nov 1994 23:59:61 GMT',
      'Sun, 00 Nov 1994 08:49:37 GMT',
      'Sun, 31 Nov 1994 08:49:37 GMT',
      'Sun, 29 Feb 1995 08:49:37 GMT',
      'Sund, 06 Nov 1994 08:49:37 GMT',
      'Sun, 06 November 1994 08:49:37 GMT',
      'Sun, 06-Nov-94 08:49:37 GMT',
      'Sunday, 06-Nov-1994 08:49:37 GMT',
      'Sunday, 06 Nov 1994 08:49:37 GMT',
      'Sun Nov 6 08:49:37 1994',
      'Sun Nov 06 08:49:37 94',
      'Sun Nov  6 08:49:37 1994 GMT',
      '',
      'GMT',
    ]) {
      assert.equal(parseHttpDate(v, NOW), null, JSON.stringify(v));
    }
  });

  test('29 February only in a leap year', () => {
    assert.equal(parseHttpDate('Thu, 29 Feb 2024 00:00:00 GMT', NOW), Date.UTC(2024, 1, 29) / 1000);
    assert.equal(parseHttpDate('Thu, 29 Feb 1900 00:00:00 GMT', NOW), null);
  });

  test('every instant written as IMF-fixdate reads back as itself', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1) / 1000, max: Date.UTC(9999, 11, 31) / 1000 }), (s) => {
        assert.equal(parseHttpDate(new Date(s * 1000).toUTCString(), NOW), s);
      }),
    );
  });
});

describe('If-Modified-Since uses only a valid HTTP-date in the past', () => {
  const v = { etag: '"e"', mtimeS: EXAMPLE };
  const ims = (value) => evaluate({ ifModifiedSince: value }, v, 16, true, NOW).status;

  test('a valid date at or after the modification: 304; before it: 200', () => {
    assert.equal(ims('Sun, 06 Nov 1994 08:49:37 GMT'), 304);
    assert.equal(ims('Sun Nov  6 08:49:37 1994'), 304);
    assert.equal(ims('Sunday, 06-Nov-94 08:49:37 GMT'), 304);
    assert.equal(ims('Mon, 07 Dec 2026 11:59:59 GMT'), 304);
    assert.equal(ims('Sun, 06 Nov 1994 08:49:36 GMT'), 200);
  });

  test("what Date.parse reads but is not an HTTP-date, and a date after the server's clock: ignored", () => {
    for (const value of [
      '99999',
      '2100-01-01',
      'Mon Dec 07 2099',
      '1994-11-06T08:49:37Z',
      'Sun, 06 Nov 1994 08:49:37 +0000',
      'sun, 06 nov 1994 08:49:37 gmt',
      'Mon, 07 Dec 2026 12:00:01 GMT',
      'Fri, 01 Jan 2500 00:00:00 GMT',
      'Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT',
    ]) {
      assert.equal(ims(value), 200, JSON.stringify(value));
    }
  });

  test('If-Unmodified-Since and If-Range: only a valid HTTP-date counts', () => {
    const before = 'Sat, 05 Nov 1994 08:49:37 GMT';
    assert.equal(evaluate({ ifUnmodifiedSince: before }, v, 16, true, NOW).status, 412);
    assert.equal(evaluate({ ifUnmodifiedSince: '1994-11-05' }, v, 16, true, NOW).status, 200);
    const range = { range: 'bytes=0-1' };
    assert.equal(evaluate({ ...range, ifRange: 'Sun, 06 Nov 1994 08:49:37 GMT' }, v, 16, true, NOW).status, 206);
    assert.equal(evaluate({ ...range, ifRange: '1994-11-06T08:49:37Z' }, v, 16, true, NOW).status, 200);
  });
});
