/**
 * `etlt serve --root` under curl: If-Modified-Since is used only when it is a valid
 * HTTP-date (RFC 9110 section 5.6.7) and not later than the server's clock (section
 * 13.1.3); anything else is ignored and the file sent whole. Values `Date.parse` reads
 * (an ISO date, a numeric zone, lower case, '99999', a date in 2500) got 304 before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { HOST, MODES, Scope, run, startCli } from '../lib/http.mjs';

/** A Date in asctime form ('Sun Nov  6 08:49:37 1994'). */
function asctime(d) {
  const [day, date, mon, year, time] = d.toUTCString().replace(',', '').split(' ');
  return `${day} ${mon} ${String(Number(date)).padStart(2, ' ')} ${time} ${year}`;
}

for (const mode of MODES) {
  describe(`etlt serve --root, If-Modified-Since, mode ${mode}`, { timeout: 60_000 }, () => {
    test('curl: only a valid HTTP-date in the past gets 304', async (t) => {
      const scope = new Scope(t);
      const dir = mkdtempSync(join(tmpdir(), 'etlt-ims-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(join(dir, 'site.css'), 'body { color: teal; }\n');
      const mtime = new Date(Math.floor(statSync(join(dir, 'site.css')).mtimeMs / 1000) * 1000);
      const cli = await startCli(scope, mode, ['--root', dir, '-q']);
      const url = `http://${HOST}:${cli.port}/site.css`;
      const got = {};
      const cases = {
        // The file's own time in the three forms: not modified since.
        [mtime.toUTCString()]: '304',
        [asctime(mtime)]: '304',
        'Fri, 01 Jan 2100 00:00:00 GMT': '200',
        'Fri, 01 Jan 2500 00:00:00 GMT': '200',
        99999: '200',
        '2100-01-01': '200',
        'Mon Dec 07 2099': '200',
        // The file's own time, but not as an HTTP-date.
        [mtime.toISOString()]: '200',
        [mtime.toUTCString().replace('GMT', '+0000')]: '200',
        [mtime.toUTCString().toLowerCase()]: '200',
        [`${mtime.toUTCString()}, ${mtime.toUTCString()}`]: '200',
      };
      for (const value of Object.keys(cases)) {
        const r = await run(
          'curl',
          ['-s', '-S', '--noproxy', '*', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}'].concat([
            '-H',
            `If-Modified-Since: ${value}`,
            url,
          ]),
          { timeout: 20_000 },
        );
        got[value] = r.stdout;
      }
      assert.deepEqual(got, cases);
      await cli.stop();
    });
  });
}
