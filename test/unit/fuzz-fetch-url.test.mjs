/**
 * `request.url` of the fetch adapter (src/http/fetch/url.ts): its fast path, which skips the
 * URL parser for text already in normal form, must say exactly what the parser says, for any
 * target and Host, and a refusal (BadTarget) only where the parser refuses too or the Host is
 * no host. See test/lib/fuzz.mjs for seeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BadTarget, UrlPrefix, requestUrl } from '../../dist/src/http/fetch/url.js';
import { check, fc } from '../lib/fuzz.mjs';

// First in the file, while the module's one-Host cache is fresh: an empty Host is no host
// (the adapter answers it from the server's address), never a relative '/x'.
test('an empty Host makes no URL, first or after another', () => {
  assert.throws(() => requestUrl('/x', ''), BadTarget);
  assert.equal(requestUrl('/x', 'h.test'), 'http://h.test/x');
  assert.throws(() => requestUrl('/x', ''), BadTarget);
});

/** The characters that steer the URL parser: dots, percent, case, slashes, quotes, '?', '#'. */
const PATH_CHARS = [
  '/',
  '.',
  '%',
  '2',
  'e',
  'E',
  'a',
  'Z',
  '?',
  '#',
  '\\',
  "'",
  '"',
  ' ',
  '~',
  ':',
  '@',
  '\xe9',
  '{',
  '|',
];
const HOST_CHARS = ['a', 'B', 'x', 'n', '-', '1', '2', '7', '0', '.', ':', '8', '[', ']', '_', '@', '/'];

const target = fc.oneof(
  fc.array(fc.constantFrom(...PATH_CHARS), { maxLength: 16 }).map((cs) => `/${cs.join('')}`),
  fc.constantFrom('/', '*', '/a/./b/../c', '/%2e%2E/x', '/x/.', '/x/..', 'http://h.test/p', 'HTTPS://H.test:443/'),
);
const host = fc.oneof(
  fc.array(fc.constantFrom(...HOST_CHARS), { minLength: 1, maxLength: 14 }).map((cs) => cs.join('')),
  fc.constantFrom('localhost', 'example.com:8080', '127.0.0.1', '127.1', '[::1]:80', 'h.test:80', 'xn--nxasmq6b.test'),
);

/** What undici's Request would say for the same parts (percent-encoding raw bytes as the adapter does). */
function reference(t, h) {
  const encoded = t.replace(/[\x80-\xff]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const text = encoded.startsWith('/') ? `http://${h}${encoded}` : encoded === '*' ? `http://${h}/*` : encoded;
  try {
    const url = new URL(text);
    url.hash = '';
    return url.href;
  } catch {
    return null;
  }
}

test('request.url is what the URL parser makes of the target and Host, or a refusal', (t) => {
  check(
    t,
    fc.property(target, host, (tg, h) => {
      let got;
      try {
        got = requestUrl(tg, h);
      } catch (err) {
        assert.ok(err instanceof BadTarget, `${JSON.stringify([tg, h])}: ${err}`);
        got = null;
      }
      const want = reference(tg, h);
      if (got !== null) assert.equal(got, want, JSON.stringify([tg, h]));
      // A refusal where the parser would make a URL: only for a Host that is no authority
      // (it would move the path or user part) or a target that is not http(s).
      else if (want !== null && tg.startsWith('/'))
        assert.match(
          h,
          /[/?#@\\]|^$|[^\x21-\x7e]|\[.*\].*\[|^\[|\]/,
          `refused ${JSON.stringify([tg, h])}, parser says ${want}`,
        );
      else if (want !== null && /^https?:/i.test(tg))
        assert.fail(`refused ${JSON.stringify([tg, h])}, parser says ${want}`);
    }),
  );
});

test("one adapter's memo of its last Host and target never answers for another request", (t) => {
  check(
    t,
    fc.property(
      fc.array(
        fc.tuple(
          fc.oneof(target, fc.constantFrom('/', '/a?b', '/./x')),
          fc.oneof(host, fc.constantFrom('a.example', 'b.example:8080', 'A.example', '10.0.0.1')),
        ),
        { minLength: 1, maxLength: 12 },
      ),
      (requests) => {
        const last = new UrlPrefix();
        // Each request, then a repeat of one before it: the memo sees changes both ways.
        for (const [tg, h] of [...requests, ...requests.slice().reverse()]) {
          const fresh = (memo) => {
            try {
              return requestUrl(tg, h, memo);
            } catch (err) {
              return err instanceof BadTarget ? 'refused' : `threw ${err}`;
            }
          };
          assert.equal(fresh(last), fresh(new UrlPrefix()), JSON.stringify([tg, h]));
        }
      },
    ),
  );
});
