/**
 * A differential test of etlt's request parser (src/http/parser.ts, src/http/chunked.ts)
 * against Node's own, llhttp: every case of the corpus goes, as raw bytes on a fresh
 * loopback connection, to an etlt HttpServer and to a node:http server, each echoing what it
 * parsed (see peers.mjs). The two must agree on which requests they accepted and, for each,
 * on method, target, version, header fields and body bytes. A refusal's status may differ
 * (400 against 501, or a close without a response): both refused.
 *
 * Disagreements on purpose are listed below, each with who is right and the rule that
 * decides it; a case that disagrees without a row fails, and so does a row whose case has
 * come to agree (the table stays true). docs/http-conformance.md has the same table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';

import { CASES, bytesOf } from './corpus.mjs';
import { outcome, startEtlt, startNode } from './peers.mjs';

/**
 * [case, who is right, the rule that decides it]. "both": the RFC leaves the choice to the
 * recipient, and each made one.
 */
const KNOWN_DIFFERENCES = [
  // ---- Content-Length ----
  [
    'cl-duplicate-equal',
    'both',
    'RFC 9110 §8.6: a recipient of repeated identical Content-Length values MAY reject the message or use the single value; etlt uses it, llhttp rejects',
  ],
  ['cl-list-equal', 'both', 'RFC 9110 §8.6: "5, 5" is the same case as two equal fields; etlt takes 5, llhttp rejects'],
  [
    'cl-trailing-tab',
    'etlt',
    'RFC 9112 §5.1: OWS (SP or HTAB) after a field value is not part of it; llhttp refuses a trailing HTAB in Content-Length',
  ],
  // ---- chunked ----
  [
    'chunked-ext-bws-before-semicolon',
    'etlt',
    'RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ) and RFC 9110 §5.6.3: recipients MUST accept BWS; llhttp refuses any',
  ],
  ['chunked-ext-bws-after-semicolon', 'etlt', 'RFC 9112 §7.1.1 and RFC 9110 §5.6.3, as above'],
  ['chunked-ext-bws-around-equals', 'etlt', 'RFC 9112 §7.1.1 and RFC 9110 §5.6.3, as above'],
  [
    'chunked-ext-empty-value',
    'etlt',
    'RFC 9112 §7.1.1: chunk-ext-val = token / quoted-string, and a token is 1*tchar (RFC 9110 §5.6.2): "a=" is malformed; llhttp accepts it',
  ],
  // ---- Transfer-Encoding ----
  ['te-trailing-tab', 'etlt', 'RFC 9112 §5.1: trailing HTAB is OWS, not value; llhttp refuses "chunked<HTAB>"'],
  [
    'te-gzip-chunked',
    'etlt',
    'RFC 9112 §6.1: a server SHOULD answer 501 to a transfer coding it does not understand; llhttp hands the handler a body still gzip-coded',
  ],
  ['te-two-fields', 'etlt', 'RFC 9112 §6.1, as above: "gzip" and "chunked" in two fields are the list "gzip, chunked"'],
  [
    'te-chunked-trailing-comma',
    'etlt',
    'RFC 9110 §5.6.1: a recipient MUST parse and ignore a reasonable number of empty list elements; llhttp refuses "chunked,"',
  ],
  [
    'te-empty',
    'etlt',
    'RFC 9112 §6.3 rule 4: Transfer-Encoding present and chunked not final: MUST 400; llhttp ignores the empty field and reads the body as the next request',
  ],
  [
    'te-http10',
    'etlt',
    'RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding MUST be treated as having faulty framing; llhttp decodes it',
  ],
  // ---- the request line ----
  [
    'http19',
    'etlt',
    'RFC 9110 §2.5: a higher minor version of a major version the server implements SHOULD be processed as its highest minor (1.1); llhttp refuses 1.9',
  ],
  [
    'http20',
    'etlt',
    'RFC 9110 §2.5 and §15.6.6: a server can refuse a major version with 505 (HTTP/2 starts with a connection preface, not this request line: RFC 9113 §3); llhttp accepts "HTTP/2.0"',
  ],
  [
    'http09-version',
    'etlt',
    'RFC 9110 §2.5 and §15.6.6: 505 for a major version the server does not support; llhttp accepts "HTTP/0.9" in a request line',
  ],
  [
    'no-version',
    'both',
    "RFC 9112 §3 requires HTTP-version; a versionless line is HTTP/0.9's simple request (RFC 1945 §4.1). Both answer it; llhttp reports version 0.9, etlt 1.0 (it answers as HTTP/1.0, as the seed did)",
  ],
  ['no-version-with-fields', 'both', 'RFC 9112 §3, as no-version: llhttp reports 0.9, etlt 1.0'],
  [
    'double-space-before-target',
    'both',
    'RFC 9112 §3: components are separated by one SP, but recipients MAY parse on whitespace-delimited word boundaries; llhttp does, etlt answers 400',
  ],
  ['double-space-before-version', 'both', 'RFC 9112 §3, as above'],
  [
    'method-unknown-upper',
    'etlt',
    'RFC 9110 §9.1: method tokens are extensible; llhttp refuses methods outside its table, etlt hands FOO to the handler (and answers 501 without one)',
  ],
  ['method-unknown-with-dash', 'etlt', 'RFC 9110 §9.1, as above'],
  [
    'target-asterisk-long',
    'etlt',
    'RFC 9112 §3.2.4: asterisk-form is exactly "*"; "*x" is no request-target form, and §3 says a server SHOULD answer an invalid request-line with 400; llhttp accepts it',
  ],
  [
    'target-obs-text',
    'llhttp',
    "RFC 9112 §3 and §3.2 (a request-target is URI syntax, ASCII by RFC 3986 §2): a server SHOULD answer an invalid request-line with 400; etlt keeps the seed's and nginx's leniency for raw UTF-8 targets",
  ],
  ['target-utf8', 'llhttp', 'RFC 9112 §3 and RFC 3986 §2, as above'],
  [
    'target-long-12k',
    'both',
    "RFC 9112 §3: a server answers a target longer than it wishes to parse with 414; etlt's head limit is 8 KiB, Node's 16 KiB",
  ],
  // ---- line endings ----
  [
    'lf-only',
    'both',
    'RFC 9112 §2.2: a recipient MAY recognize a single LF as a line terminator; etlt does, llhttp refuses',
  ],
  ['lf-request-line-only', 'both', 'RFC 9112 §2.2, as above'],
  ['lf-final-line-only', 'both', 'RFC 9112 §2.2, as above'],
  // ---- limits ----
  [
    'field-long-12k',
    'both',
    "RFC 9110 §5.4: a server may refuse a head larger than it wishes to process, with 431 (RFC 6585 §5); etlt's limit is 8 KiB, Node's 16 KiB",
  ],
  [
    'fields-101',
    'both',
    'RFC 9110 §5.4, as above: etlt refuses more than 100 field lines with 431, Node keeps the first 2000',
  ],
  // ---- Host ----
  [
    'host-two',
    'etlt',
    'RFC 9112 §3.2: a server MUST answer 400 to any request with more than one Host field line; Node checks only that Host is present',
  ],
  ['host-two-same', 'etlt', 'RFC 9112 §3.2, as above, even when the two values are equal'],
  ['host-two-http10', 'etlt', 'RFC 9112 §3.2, as above: "any request message", HTTP/1.0 too'],
  [
    'host-bad-char',
    'etlt',
    'RFC 9112 §3.2: MUST 400 for a Host field with an invalid value (RFC 9110 §7.2: uri-host [ ":" port ]); "/" is not in one',
  ],
  ['host-obs-text', 'etlt', 'RFC 9112 §3.2 and RFC 3986 §3.2.2, as above: a reg-name is ASCII'],
  ['host-space-inside', 'etlt', 'RFC 9112 §3.2, as above'],
  // ---- Expect ----
  [
    'expect-continue-and-other',
    'both',
    'RFC 9110 §10.1.1: a server MAY answer 417 to an Expect with a member other than 100-continue; etlt does, Node looks for 100-continue anywhere in the value',
  ],
  [
    'expect-continue-param',
    'both',
    'RFC 9110 §10.1.1: 100-continue has no parameters, so "100-continue;x=1" is another expectation; etlt answers 417, Node sends 100 Continue',
  ],
];

const RIGHT = new Set(['etlt', 'llhttp', 'both']);
const KNOWN = new Map(KNOWN_DIFFERENCES.map(([name, right, rule]) => [name, { right, rule }]));
const DOC = new URL('../../docs/http-conformance.md', import.meta.url);

/** One accepted request, short enough for an assertion message. */
function brief(echo) {
  const body = Buffer.from(echo.body, 'base64');
  return `${echo.method} ${JSON.stringify(echo.target.slice(0, 40))} ${echo.version} ${JSON.stringify(echo.headers).slice(0, 120)} body ${body.length} bytes`;
}

function describeOutcome(o) {
  const accepted = o.accepted.length === 0 ? 'accepted nothing' : `accepted ${o.accepted.map(brief).join(' | ')}`;
  const refusal =
    o.refusal === null
      ? ''
      : `, then refused (${o.refusal}${o.code === undefined ? '' : ` ${o.code}`}${o.note === undefined ? '' : ` ${o.note}`})`;
  return accepted + refusal;
}

/** A refusal is a 4xx/5xx status or a close without a response; anything else is a broken exchange. */
function assertSane(who, o) {
  assert.notEqual(
    o.refusal,
    'timeout',
    `${who} neither answered nor closed within the deadline: ${describeOutcome(o)}`,
  );
  if (typeof o.refusal === 'number')
    assert.ok(o.refusal >= 400 && o.refusal <= 599, `${who}: not a refusal: ${describeOutcome(o)}`);
}

describe('differential: etlt against llhttp', () => {
  let etlt;
  let llhttp;
  before(async () => {
    etlt = startEtlt();
    llhttp = await startNode();
  });
  after(async () => {
    await Promise.all([etlt?.close(), llhttp?.close()]);
  });

  test('the corpus has at least 120 cases, and every listed difference names one', () => {
    assert.ok(Object.keys(CASES).length >= 120, `only ${Object.keys(CASES).length} cases`);
    assert.equal(KNOWN.size, KNOWN_DIFFERENCES.length, 'a case is listed twice');
    for (const [name, { right, rule }] of KNOWN) {
      assert.ok(name in CASES, `listed difference ${name} is not a corpus case`);
      assert.ok(RIGHT.has(right), `${name}: who is right must be etlt, llhttp or both, not ${right}`);
      assert.match(rule, /RFC \d+ §/, `${name}: the rule must cite an RFC section`);
    }
  });

  test('docs/http-conformance.md has the same table', () => {
    const rows = new Map();
    for (const m of readFileSync(DOC, 'utf8').matchAll(/^\| `([^`]+)` \| (\w+) \| (.+) \|$/gm))
      rows.set(m[1], { right: m[2], rule: m[3] });
    assert.deepEqual([...rows.keys()].sort(), [...KNOWN.keys()].sort());
    for (const [name, { right, rule }] of KNOWN) {
      assert.equal(rows.get(name).right, right, `${name}: who is right`);
      assert.equal(rows.get(name).rule, rule.replaceAll('|', '\\|'), `${name}: the rule`);
    }
  });

  for (const name of Object.keys(CASES)) {
    test(name, { timeout: 5000 }, async (t) => {
      const bytes = bytesOf(name);
      const ours = await outcome(etlt, bytes);
      const theirs = await outcome(llhttp, bytes);
      assertSane('etlt', ours);
      assertSane('llhttp', theirs);
      const agree = isDeepStrictEqual(ours.accepted, theirs.accepted);
      const report = `etlt ${describeOutcome(ours)}; llhttp ${describeOutcome(theirs)}`;
      t.diagnostic(report);
      const known = KNOWN.get(name);
      if (known === undefined) {
        assert.ok(agree, `etlt and llhttp disagree on ${name}, and it is not a listed difference: ${report}`);
      } else {
        assert.ok(
          !agree,
          `${name} is listed as a difference (${known.right}: ${known.rule}) but both now agree: ${report}; drop its row`,
        );
      }
    });
  }
});
