/**
 * The report's `html` template (src/lab/report/html.ts): what it escapes, what it trusts,
 * and how it joins. Plain string checks, no browser: the lab-report test renders whole
 * pages in Chromium.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SafeHtml, escapeHtml, html, joinHtml, raw, scriptJson } from '../../dist/src/lab/report/html.js';

const EVIL = `<img src=x onerror="alert('1')">&`;
const EVIL_ESCAPED = '&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;';

test('each special character is escaped in interpolated text', () => {
  assert.equal(String(html`${'&'}`), '&amp;');
  assert.equal(String(html`${'<'}`), '&lt;');
  assert.equal(String(html`${'>'}`), '&gt;');
  assert.equal(String(html`${'"'}`), '&quot;');
  assert.equal(String(html`${"'"}`), '&#39;');
  assert.equal(String(html`<p>${EVIL}</p>`), `<p>${EVIL_ESCAPED}</p>`);
  // Already-escaped text is text too: its "&" is escaped again, so it shows as typed.
  assert.equal(String(html`${'&lt;b&gt;'}`), '&amp;lt;b&amp;gt;');
  // Everything else passes untouched, non-ASCII included.
  assert.equal(String(html`${'µs · “quoted” ≥ 64 px\u2028'}`), 'µs · “quoted” ≥ 64 px\u2028');
  assert.equal(escapeHtml(EVIL), EVIL_ESCAPED);
});

test('the template text itself is kept as written', () => {
  assert.equal(String(html`<b class="x">a &amp; b</b>`), '<b class="x">a &amp; b</b>');
  assert.equal(String(html``), '');
  assert.equal(String(html`a\nb`), 'a\nb', 'escape sequences of the template are cooked');
  assert.equal(String(html`${'x'}`), 'x');
  assert.equal(String(html`[${1}|${2}|${3}]`), '[1|2|3]', 'values land between the right literal parts');
});

test('numbers are text; null, undefined and false are nothing; true is text', () => {
  assert.equal(String(html`<i>${0}</i>`), '<i>0</i>', '0 is a value, not nothing');
  assert.equal(String(html`${-1.5}|${Number.NaN}|${Infinity}|${1e21}`), '-1.5|NaN|Infinity|1e+21');
  assert.equal(String(html`<i>${null}${undefined}${false}</i>`), '<i></i>');
  assert.equal(String(html`<i>${''}</i>`), '<i></i>');
  assert.equal(String(html`<i>${true}</i>`), '<i>true</i>');
  const on = true;
  const off = false;
  assert.equal(String(html`<a${on && html` class="x"`}${off && html` id="y"`}>`), '<a class="x">');
});

test('nesting: SafeHtml is inserted verbatim, inner values are escaped exactly once', () => {
  const inner = html`<b>${EVIL}</b>`;
  assert.ok(inner instanceof SafeHtml);
  const outer = html`<p>${inner}</p>`;
  assert.equal(String(outer), `<p><b>${EVIL_ESCAPED}</b></p>`);
  const deep = html`<div>${html`<p>${html`<i>${'<&>'}</i>`}</p>`}</div>`;
  assert.equal(String(deep), '<div><p><i>&lt;&amp;&gt;</i></p></div>');
  // A SafeHtml's text, once it is a plain string, is just text again.
  assert.equal(String(html`${String(inner)}`), escapeHtml(String(inner)));
});

test('arrays are joined with nothing between, each item by the same rules', () => {
  const items = ['a<', 'b&'].map((s) => html`<li>${s}</li>`);
  assert.equal(String(html`<ul>${items}</ul>`), '<ul><li>a&lt;</li><li>b&amp;</li></ul>');
  assert.equal(String(html`<ul>${[]}</ul>`), '<ul></ul>');
  assert.equal(
    String(html`${['<', html`<br>`, 3, null, false, ['>', [html`<hr>`]]]}`),
    '&lt;<br>3&gt;<hr>',
    'strings in arrays are escaped, nested arrays flattened',
  );
});

test('raw() is trusted verbatim, and only SafeHtml is', () => {
  assert.equal(String(raw(EVIL)), EVIL);
  assert.equal(String(html`<style>${raw('a > b { font: "x" }')}</style>`), '<style>a > b { font: "x" }</style>');
  assert.ok(raw('') instanceof SafeHtml);
  // A look-alike is not trusted: only html`…`, joinHtml, scriptJson and raw() make SafeHtml.
  const fake = { toString: () => '<b>fake</b>' };
  assert.equal(String(html`${fake}`), '&lt;b&gt;fake&lt;/b&gt;');
  assert.throws(() => new SafeHtml(Symbol('SafeHtml'), '<b>forged</b>'), TypeError);
  assert.throws(() => new SafeHtml(undefined, '<b>forged</b>'), TypeError);
});

test('attribute values cannot break out of their quotes', () => {
  const payload = `x" onmouseover="alert(1)`;
  assert.equal(String(html`<a title="${payload}">`), '<a title="x&quot; onmouseover=&quot;alert(1)">');
  const single = `x' onmouseover='alert(1)`;
  assert.equal(String(html`<a title='${single}'>`), "<a title='x&#39; onmouseover=&#39;alert(1)'>");
  const tag = `"><script>alert(1)</script>`;
  const out = String(html`<rect data-strategy="${tag}" fill="${'#888'}"/>`);
  assert.equal(out, '<rect data-strategy="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" fill="#888"/>');
  // Exactly the template's own quotes remain.
  assert.equal(out.split('"').length - 1, 4);
});

test('joinHtml puts an (escaped) separator between parts', () => {
  assert.equal(String(joinHtml([html`<a>`, '<', 1, null, html`</a>`], '\n')), '<a>\n&lt;\n1\n\n</a>');
  assert.equal(String(joinHtml(['x', 'y'], '<')), 'x&lt;y', 'a string separator is text');
  assert.equal(String(joinHtml(['x', 'y'], html`<br>`)), 'x<br>y');
  assert.equal(String(joinHtml([])), '');
  assert.ok(joinHtml(['a']) instanceof SafeHtml);
});

test('scriptJson keeps a script data block inert and the JSON intact', () => {
  const value = { name: '</script><script>alert(1)</script>', comment: '<!-- x', amp: '&"\'', ls: 'a\u2028b\u2029c' };
  const text = String(scriptJson(value));
  assert.ok(!text.includes('<'), 'no "<" at all, so nothing can close the block or open a comment');
  assert.ok(!text.includes('\u2028') && !text.includes('\u2029'));
  assert.ok(text.includes(`"amp":"&\\"'"`), 'not HTML-escaped: script content is not entity-decoded');
  assert.deepEqual(JSON.parse(text), value);
  assert.equal(String(scriptJson(undefined)), 'null');
  assert.equal(
    String(html`<script type="application/json">${scriptJson([1, '<'])}</script>`),
    '<script type="application/json">[1,"\\u003c"]</script>',
  );
});
