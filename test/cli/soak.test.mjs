/**
 * `npm run soak` in 30 seconds: scripts/soak.mjs runs every variant this build can run
 * under honest and hostile traffic at once (streams both ways, and streams abandoned, where
 * the variant serves the soak app), and must hold; soak.json must be valid and
 * agree with itself (its checks are what verdict.mjs makes of its records), soak.html must
 * draw every series of every variant, and a variant this build cannot run must be named
 * as not available, never passed. The soak stops every process it started: checked by
 * looking for any left in its process group.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { ROOT } from '../lib/util.mjs';
import { checks } from '../../scripts/soak/verdict.mjs';
import { SERIES } from '../../scripts/soak/report.mjs';
import { VARIANTS, missingFlags, serveFlags } from '../../scripts/soak/variants.mjs';

/** Pids of live processes in process group `pgid`. */
function groupMembers(pgid) {
  const out = [];
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

function readdirSafe(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Runs scripts/soak.mjs with `args` in its own process group; resolves with { code, stdout, stderr, pgid }. */
async function soak(t, args, timeoutMs) {
  // Its own process group, so that anything it left behind can be found (and killed) after.
  const child = spawn(process.execPath, ['scripts/soak.mjs', ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    for (const pid of groupMembers(child.pid)) process.kill(pid, 'SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const killer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), timeoutMs);
  const code = await new Promise((resolve) => child.on('close', (c, s) => resolve(c ?? s)));
  clearTimeout(killer);
  return { code, stdout, stderr, pgid: child.pid };
}

test(
  'npm run soak, 30 s: every variant this build has held; soak.json and soak.html written',
  { timeout: 300_000 },
  async (t) => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'etlt-soak-test-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const { code, stdout, stderr, pgid } = await soak(t, ['--seconds', '30', '--out', out], 280_000);
    assert.equal(code, 0, `soak exited ${code}\n${stdout}\n${stderr.slice(-4000)}`);
    assert.match(stdout, /^soak: HELD: /m);
    assert.deepEqual(groupMembers(pgid), [], 'processes the soak left running');

    const result = JSON.parse(readFileSync(path.join(out, 'soak.json'), 'utf8'));
    assert.equal(result.held, true);
    const flags = serveFlags();
    const runnable = VARIANTS.filter((v) => missingFlags(v, flags).length === 0).map((v) => v.name);
    assert.ok(runnable.includes('et') && runnable.includes('lt'), `runnable: ${runnable}`);
    assert.deepEqual(
      result.variants.map((v) => v.variant),
      VARIANTS.map((v) => v.name),
    );
    for (const v of result.variants) {
      if (!runnable.includes(v.variant)) {
        // Never silently a pass: named in the JSON, the summary and on stdout.
        assert.equal(v.status, 'unavailable', v.variant);
        assert.equal(v.held, false);
        assert.match(v.reason, /not available in this build/);
        assert.ok(result.unavailable.includes(v.variant));
        assert.match(stdout, new RegExp(`NOT AVAILABLE in this build.*${v.variant}`));
        continue;
      }
      assert.equal(v.status, 'ran', `${v.variant}: ${v.error ?? ''}`);
      assert.equal(v.held, true, v.variant);
      const r = v.record;
      // The stored verdict is what the bounds make of the stored samples.
      assert.deepEqual(checks(r), v.checks, v.variant);
      assert.ok(
        v.checks.every((c) => c.ok !== false),
        JSON.stringify(v.checks.filter((c) => c.ok === false)),
      );
      // A figure not measured is said so, never passed: on stdout and in the JSON.
      for (const c of v.checks.filter((x) => x.ok === null)) {
        assert.ok(result.unmeasured.includes(`${v.variant}: ${c.name}`), c.name);
        assert.match(stdout, new RegExp(`NOT MEASURED \\(not counted as passed\\): .*${v.variant}: ${c.name}`));
      }
      assert.ok(r.samples.length >= r.loadedS - 2, `${v.variant}: ${r.samples.length} samples in ${r.loadedS} s`);
      const heapMeasured = v.checks.find((c) => c.name === 'V8 heap flat after warm-up').ok !== null;
      for (const s of r.samples.filter((x) => x.answered)) {
        assert.ok(
          s.rssBytes > 0 && (heapMeasured ? s.heapUsed > 0 : s.heapUsed === null) && s.fds > 0 && s.open >= 0,
          JSON.stringify(s),
        );
      }
      const served = Object.values(r.honest.sources).reduce((a, s) => a + s.ok, 0);
      assert.ok(served > 1000, `${v.variant}: only ${served} honest responses`);
      assert.ok(Object.keys(r.hostile.kinds).length >= 9, Object.keys(r.hostile.kinds).join(', '));
      if (r.args.includes('--app')) {
        // The soak app's streams, both ways, were among the honest clients and the hostile ones.
        for (const source of ['streamed', 'streams'])
          assert.ok(r.honest.sources[source]?.ok > 0, `${v.variant}: ${source}: ${JSON.stringify(r.honest.sources)}`);
        for (const kind of ['abandon-download', 'abandon-upload'])
          assert.ok(r.hostile.kinds[kind]?.attempts > 0, `${v.variant}: ${kind}`);
      }
      assert.ok(r.emfile.shed > 0, `${v.variant}: the EMFILE phase shed nothing`);
    }

    const page = readFileSync(path.join(out, 'soak.html'), 'utf8');
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /<title>etlt soak: held<\/title>/);
    for (const name of runnable) {
      const section = new RegExp(`<section data-variant="${name}" class="held">([\\s\\S]*?)</section>`).exec(page);
      assert.ok(section, `no section for ${name}`);
      for (const [id] of SERIES)
        assert.match(section[1], new RegExp(`<figure data-chart="${id}">[\\s\\S]*?<polyline `), `${name}: ${id}`);
    }
  },
);

test(
  'a deliberately broken server (et-no-drain) does not hold: exit 1, and the checks say why',
  { timeout: 200_000 },
  async (t) => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'etlt-soak-test-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const { code, stdout, stderr, pgid } = await soak(
      t,
      ['--seconds', '10', '--variants', 'et-no-drain', '--out', out],
      180_000,
    );
    assert.equal(code, 1, `${stdout}\n${stderr.slice(-3000)}`);
    assert.match(stdout, /^soak: DID NOT HOLD: et-no-drain: .*no honest request failed or came back different/m);
    // Failed already: its EMFILE phase is skipped (the verdict sooner), and said so.
    assert.match(stderr + stdout, /et-no-drain: EMFILE phase skipped: a deliberately broken server, already failed/);
    assert.deepEqual(groupMembers(pgid), [], 'processes the soak left running');
    const result = JSON.parse(readFileSync(path.join(out, 'soak.json'), 'utf8'));
    assert.equal(result.held, false);
    const [v] = result.variants;
    assert.equal(v.status, 'ran');
    assert.equal(v.held, false);
    const failed = v.checks.filter((c) => !c.ok).map((c) => c.name);
    assert.ok(failed.includes('no honest request failed or came back different'), failed.join('; '));
    assert.match(readFileSync(path.join(out, 'soak.html'), 'utf8'), /<title>etlt soak: DID NOT HOLD<\/title>/);
  },
);
