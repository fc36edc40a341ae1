// The EMFILE phase: the variant's server started again under a low fd limit (prlimit
// --nofile=N:N: Node raises its soft limit to the hard one, so both are set), filled with
// connections that send nothing until accepts fail with EMFILE and the server sheds the
// excess; its CPU watched meanwhile (no spinning on a listener it cannot accept from);
// then the holders let go, and honest clients (ours and ab) must all be served again.
import net from 'node:net';

import { runTool } from './honest.mjs';
import { Pipeline, mismatch } from './http.mjs';
import { sampleTree } from './proc.mjs';
import { HOST, startServer } from './server.mjs';
import { cpuOver, sampler, waitClosed } from './runner.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The fd limit of the phase, per process (Node itself holds about 20). */
export const NOFILE = 64;

function holder(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
}

/** Runs the phase for `variant`; resolves with the record verdict.mjs reads as `emfile`. */
export async function emfilePhase(variant, ctx) {
  const traffic = variant.traffic(ctx.dir);
  // A long idle timeout keeps the holders open for the whole phase.
  const server = await startServer([...variant.args(ctx.dir), '--idle-timeout', '60'], { nofile: NOFILE });
  ctx.servers.add(server);
  const holders = [];
  try {
    await sleep(300);
    const t0 = performance.now();
    const s = sampler(server, t0, () => ({ errors: 0, probeMs: null, hostile: holders.length }));
    const count = (NOFILE + 40) * sampleTree(server.pid).pids.length;
    for (let i = 0; i < count; i++) holders.push(await holder(server.port));
    // Every holder has been taken or shed once the counters add up (or give up after 5 s).
    let shed = 0;
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline) {
      const u = await server.usr1();
      shed = u?.counters.shed ?? shed;
      if (u && u.counters.connections + u.counters.shed >= count) break;
      await sleep(100);
    }
    const exhaustedCpuPct = await cpuOver(server.pid, 2);
    for (const h of holders) h.destroy();
    const open = await waitClosed(server, 5000);
    // Served again: our pipelined client and ab, every answer checked.
    const recovered = { ok: 0, failed: 0, note: '' };
    const p = new Pipeline(server.port);
    const until = performance.now() + 10_000;
    for (let i = 0; i < 50 && performance.now() < until && recovered.failed === 0; i++) {
      const specs = Array.from({ length: 4 }, () => traffic.probe);
      try {
        const got = await p.batch(specs, 3000);
        got.responses.forEach((r, k) => {
          if (mismatch(specs[k], r) === null) recovered.ok++;
          else recovered.failed++;
        });
      } catch (e) {
        recovered.failed += specs.length;
        recovered.note ||= e.message;
      }
    }
    p.close();
    const ab = await runTool(
      'ab',
      ['-q', '-r', '-s', '5', '-n', '500', '-c', '10', `http://${HOST}:${server.port}${traffic.ab.target}`],
      10_000,
      ctx.live,
    );
    const abOut = ab.stdout.toString();
    const complete = Number((/Complete requests:\s+(\d+)/.exec(abOut) ?? [])[1] ?? 0);
    const abFailed = Number((/Failed requests:\s+(\d+)/.exec(abOut) ?? [])[1] ?? 0);
    recovered.ok += Math.max(0, complete - abFailed);
    recovered.failed += abFailed + (500 - complete);
    if (abFailed > 0 || complete !== 500) recovered.note ||= `ab: ${complete} complete, ${abFailed} failed`;
    const u = await server.usr1();
    shed = u?.counters.shed ?? shed;
    await s.stop();
    const exit = await server.stop();
    return { nofile: NOFILE, holders: count, shed, open, exhaustedCpuPct, recovered, exit, samples: s.samples };
  } finally {
    for (const h of holders) h.destroy();
    ctx.servers.delete(server);
    await server.stop(1000);
  }
}
