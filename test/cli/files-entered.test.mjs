// scripts/files-entered.mjs on this checkout's build: it serves real requests, stops its
// server, and its two counts agree (V8's call counts and the inserted counter), with the
// parser and the exchange's answering file among the files every request enters.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { ROOT } from '../lib/http.mjs';

const run = promisify(execFile);

test('files-entered counts the files one handler request runs through, keep-alive and pipelined', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'files-entered-'));
  try {
    const json = path.join(dir, 'out.json');
    const { stdout } = await run(process.execPath, ['scripts/files-entered.mjs', '--requests', '64', '--json', json], {
      cwd: ROOT,
      timeout: 60_000,
    });
    assert.match(stdout, /^keep-alive: 1 = /m);
    assert.match(stdout, /^pipelined: 1 = /m);
    const { results } = JSON.parse(fs.readFileSync(json, 'utf8'));
    for (const [workload, batch] of [
      ['keep-alive', 1],
      ['pipelined', 16],
    ]) {
      const w = results[0][workload];
      assert.equal(w.batch, batch);
      assert.equal(w.requests, 64);
      for (const file of ['http/parser.js', 'http/exchange-answer.js']) {
        assert.ok(w.calls[file] >= w.requests, `${workload}: ${file} called at least once per request`);
        assert.ok(w.tally[file].entries >= w.requests / batch, `${workload}: ${file} entered`);
      }
      for (const [file, t] of Object.entries(w.tally)) {
        // V8 counts a class's field initializers too: never fewer calls than the counter's.
        assert.ok(w.calls[file] >= t.hooked, `${workload}: ${file}: ${w.calls[file]} calls, ${t.hooked} counted`);
        assert.ok(t.entries <= t.hooked, `${workload}: ${file}: more entries than calls`);
        const from = Object.values(t.from).reduce((a, n) => a + n, 0);
        assert.equal(from, t.entries, `${workload}: ${file}: entries by caller add up`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
