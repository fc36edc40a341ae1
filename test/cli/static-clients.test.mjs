/**
 * `etlt serve --root` under real clients nobody here wrote, both trigger modes: curl
 * (ranges, conditional requests, HEAD, keep-alive across URLs, a 256 MiB file checked by
 * sha256), Python's http.client over one connection, Node's fetch, and headless Chromium
 * loading a page with its stylesheet, script and images over keep-alive (a screenshot is
 * saved in a temporary directory; the images must have rendered and every asset be 200).
 */
/* global document, getComputedStyle -- page.evaluate runs its function in the browser */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';

import { chromium } from 'playwright-core';
import { CLI, HOST, MODES, Scope, run, startCli } from '../lib/http.mjs';

const MiB = 1024 * 1024;
const CHROMIUM = '/usr/bin/chromium';
let dir;
const sums = {};
const sha = (b) => createHash('sha256').update(b).digest('hex');

/** A w x h RGB PNG of one colour (an encoder of a few lines: no image package needed). */
function png(w, h, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + 3 * w);
  for (let x = 0; x < w; x++) row.set([r, g, b], 1 + 3 * x);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const FILES = {
  'page.html':
    '<!doctype html><html><head><meta charset="utf-8"><title>etlt static</title>' +
    '<link rel="stylesheet" href="css/site.css"><link rel="icon" href="data:,"></head><body>' +
    '<h1>etlt serve --root</h1>' +
    [0, 1, 2, 3, 4, 5].map((i) => `<img id="i${i}" src="img/p${i}.png" width="40" height="40">`).join('') +
    '<img id="svg" src="img/logo.svg"><script src="js/app.js"></script></body></html>\n',
  'css/site.css': 'body { background: rgb(250, 240, 200); font-family: sans-serif; } h1 { color: rgb(0, 128, 128); }\n',
  'js/app.js': "document.body.dataset.ran = 'yes';\n",
  'img/logo.svg':
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32"><rect width="64" height="32" fill="teal"/></svg>\n',
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'etlt-static-clients-'));
  const files = { ...FILES };
  for (let i = 0; i < 6; i++) files[`img/p${i}.png`] = png(40 + i, 40, [40 * i, 100, 200 - 30 * i]);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
    sums[name] = sha(Buffer.from(content));
  }
  // 256 MiB: a 1 MiB block, each copy stamped with its index, so an offset error changes the sum.
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i++) block[i] = (i * 31 + (i >> 11)) & 0xff;
  const hash = createHash('sha256');
  const fd = openSync(join(dir, 'big.bin'), 'w');
  for (let i = 0; i < 256; i++) {
    block.writeUInt32BE(i, 0);
    writeSync(fd, block);
    hash.update(block);
  }
  closeSync(fd);
  sums['big.bin'] = hash.digest('hex');
});

let browser;
before(async () => {
  // Launched before any test's Scope takes its fd baseline: the browser's pipes stay open for the file.
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium); the tests do not skip`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

const PY = `
import hashlib, http.client, json, sys
port, sums = int(sys.argv[1]), json.loads(sys.argv[2])
c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
out = []
def go(method, path, headers={}):
    c.request(method, path, headers=headers)
    r = c.getresponse()
    body = r.read()
    out.append({'status': r.status, 'sha': hashlib.sha256(body).hexdigest(), 'len': len(body),
                'etag': r.getheader('ETag'), 'type': r.getheader('Content-Type'), 'range': r.getheader('Content-Range')})
    return out[-1]
page = go('GET', '/page.html')
go('GET', '/js/app.js', {'Range': 'bytes=0-7'})
go('GET', '/page.html', {'If-None-Match': page['etag']})
go('HEAD', '/css/site.css')
go('GET', '/img/p3.png')
go('GET', '/nope.html')
print(json.dumps({'results': out, 'sock': c.sock is not None}))
`;

for (const mode of MODES) {
  describe(`etlt serve --root with real clients, mode ${mode}`, { timeout: 120_000 }, () => {
    test('curl: ranges, conditional requests, HEAD, keep-alive across URLs, 256 MiB by sha256', async (t) => {
      const scope = new Scope(t);
      const cli = await startCli(scope, mode, ['--root', dir, '-q']);
      const url = (p) => `http://${HOST}:${cli.port}${p}`;
      const curl = (...args) =>
        run('curl', ['-s', '-S', '--noproxy', '*', '--max-time', '30', ...args], { timeout: 60_000 });
      let r = await curl('-r', '10-19', '-o', '-', '-w', '\n%{http_code} %{size_download}', url('/page.html'));
      assert.equal(r.stdout, `${FILES['page.html'].slice(10, 20)}\n206 10`);
      r = await curl('-I', url('/css/site.css'));
      assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(r.stdout, /\r\nContent-Type: text\/css; charset=utf-8\r\n/);
      assert.match(r.stdout, new RegExp(`\\r\\nContent-Length: ${FILES['css/site.css'].length}\\r\\n`));
      const etag = /\r\nETag: ("[^"]+")\r\n/.exec(r.stdout)[1];
      const lastModified = /\r\nLast-Modified: ([^\r]+)\r\n/.exec(r.stdout)[1];
      r = await curl('-o', '/dev/null', '-w', '%{http_code}', '-H', `If-None-Match: ${etag}`, url('/css/site.css'));
      assert.equal(r.stdout, '304');
      r = await curl('-o', '/dev/null', '-w', '%{http_code}', '-z', lastModified, url('/css/site.css'));
      assert.equal(r.stdout, '304');
      r = await curl('-o', '/dev/null', '-w', '%{http_code}', '-H', 'If-Match: "x"', url('/css/site.css'));
      assert.equal(r.stdout, '412');
      r = await curl('-o', '/dev/null', '-w', '%{http_code}', '-r', '99999-', url('/css/site.css'));
      assert.equal(r.stdout, '416');
      // Five URLs in one curl: one connection, kept alive.
      r = await curl(
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}:%{num_connects} ',
        ...['/page.html', '/js/app.js', '/img/p0.png', '/img/logo.svg', '/'].map(url),
      );
      assert.equal(r.stdout, '200:1 200:0 200:0 200:0 404:0 ');
      r = await run('bash', ['-c', `curl -s -S --noproxy '*' --max-time 60 ${url('/big.bin')} | sha256sum`], {
        timeout: 90_000,
      });
      assert.equal(r.stdout.split(' ')[0], sums['big.bin'], r.stderr);
      await cli.stop();
    });

    test("Python's http.client and Node's fetch", async (t) => {
      const scope = new Scope(t);
      const cli = await startCli(scope, mode, ['--root', dir, '-q']);
      const r = await run('python3', ['-c', PY, String(cli.port), JSON.stringify(sums)], { timeout: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      const { results, sock } = JSON.parse(r.stdout);
      assert.ok(sock, 'the connection stayed open');
      const [page, range, notModified, head, image, missing] = results;
      assert.deepEqual([page.status, page.sha, page.type], [200, sums['page.html'], 'text/html; charset=utf-8']);
      assert.deepEqual([range.status, range.len, range.range], [206, 8, `bytes 0-7/${FILES['js/app.js'].length}`]);
      assert.deepEqual([notModified.status, notModified.len], [304, 0]);
      assert.deepEqual([head.status, head.len], [200, 0]);
      assert.deepEqual([image.status, image.sha, image.type], [200, sums['img/p3.png'], 'image/png']);
      assert.equal(missing.status, 404);
      const res = await fetch(`http://${HOST}:${cli.port}/img/p5.png`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.equal(sha(Buffer.from(await res.arrayBuffer())), sums['img/p5.png']);
      const again = await fetch(`http://${HOST}:${cli.port}/img/p5.png`, {
        headers: { 'If-Modified-Since': res.headers.get('last-modified') },
      });
      assert.equal(again.status, 304);
      const part = await fetch(`http://${HOST}:${cli.port}/big.bin`, { headers: { Range: 'bytes=-4096' } });
      assert.equal(part.status, 206);
      assert.equal((await part.arrayBuffer()).byteLength, 4096);
      await cli.stop();
    });

    test('Chromium: a page with CSS, script and images over keep-alive, every asset 200', async (t) => {
      const scope = new Scope(t);
      const cli = await startCli(scope, mode, ['--root', dir, '-q']);
      const context = await browser.newContext({ viewport: { width: 800, height: 400 } });
      t.after(() => context.close());
      const page = await context.newPage();
      const responses = [];
      page.on('response', (res) => responses.push([new URL(res.url()).pathname, res.status()]));
      await page.goto(`http://${HOST}:${cli.port}/page.html`, { waitUntil: 'load' });
      const state = await page.evaluate(() => ({
        ran: document.body.dataset.ran,
        color: getComputedStyle(document.querySelector('h1')).color,
        images: [...document.images].map((i) => [i.id, i.complete, i.naturalWidth]),
      }));
      assert.equal(state.ran, 'yes', 'the script ran');
      assert.equal(state.color, 'rgb(0, 128, 128)', 'the stylesheet applied');
      for (const [id, complete, width] of state.images) assert.ok(complete && width > 0, `image ${id} rendered`);
      assert.deepEqual(
        responses.filter(([, s]) => s !== 200),
        [],
        'every asset 200',
      );
      assert.equal(
        responses.length,
        1 + 1 + 1 + 7,
        `the page, its CSS, script and 7 images: ${JSON.stringify(responses)}`,
      );
      const shots = mkdtempSync(join(tmpdir(), 'etlt-static-shot-'));
      t.after(() => rmSync(shots, { recursive: true, force: true }));
      const shot = join(shots, `static-${mode}.png`);
      await page.screenshot({ path: shot });
      assert.ok(statSync(shot).size > 1000, 'screenshot saved');
      const counters = await cli.counters();
      assert.ok(counters.requests >= 10, `requests ${counters.requests}`);
      assert.ok(
        counters.connections < counters.requests,
        `keep-alive: ${counters.connections} connections for ${counters.requests} requests`,
      );
      await cli.stop();
    });
  });
}

test('etlt serve --root: a missing root, and --root with --body, fail with a clear message', async () => {
  for (const workers of ['1', '2']) {
    const missing = join(dir, 'missing');
    const r = await run(process.execPath, [CLI, 'serve', '--root', missing, '--workers', workers, '--port', '0']);
    // Runtime, not usage: the command line is right, the directory is not there (exit 1).
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^etlt: --root .*missing: ENOENT: no such file or directory/m);
    assert.doesNotMatch(r.stderr, /worker/);
  }
  let r = await run(process.execPath, [CLI, 'serve', '--root', join(dir, 'page.html'), '--port', '0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^etlt: --root .*page\.html: not a directory$/m);
  r = await run(process.execPath, [CLI, 'serve', '--root', dir, '--body', join(dir, 'page.html'), '--port', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--root and --body cannot be used together/);
  r = await run(process.execPath, [CLI, 'serve', '--root', dir, '--dotfiles', 'maybe']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--dotfiles must be one of deny, allow/);
});
