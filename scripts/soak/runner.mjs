// One variant's soak: the server started, sampled every second from outside (/proc) and
// through SIGUSR1 (its counters and memory), honest and hostile traffic at once for the
// variant's share of SOAK_S, then the load stopped: every connection must close, the fds
// come back, the CPU go quiet; then SIGTERM. Then the EMFILE phase (emfile.mjs).
import { honestTraffic, Tally, forkRand } from './honest.mjs';
import { HOSTILE, HostileTally, hostileTraffic } from './hostile.mjs';
import { sampleTree } from './proc.mjs';
import { startServer } from './server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Seconds of no load over which the server's CPU must stay near zero. */
const IDLE_S = 3;

/** Samples `server` once a second into `samples` until stopped; `extra()` adds the clients' view. */
export function sampler(server, t0, extra) {
  const samples = [];
  const pidsSeen = new Set();
  let last = null;
  let running = true;
  const done = (async () => {
    while (running) {
      const tick = performance.now();
      const p = sampleTree(server.pid);
      for (const pid of p.pids) pidsSeen.add(pid);
      const u = await server.usr1();
      const t = (performance.now() - t0) / 1000;
      const responses = u?.counters.responses ?? null;
      const s = {
        t: Math.round(t * 10) / 10,
        rssBytes: p.rssBytes,
        fds: p.fds,
        processes: p.pids.length,
        cpuPct: last ? (100 * (p.cpuS - last.cpuS)) / Math.max(0.001, t - last.t) : 0,
        answered: u !== null,
        open: u?.counters.open ?? null,
        heapUsed: u?.memory['heap-used'] ?? null,
        rps: last && responses !== null && last.responses !== null ? (responses - last.responses) / (t - last.t) : null,
        ...extra(),
      };
      samples.push(s);
      last = { t, cpuS: p.cpuS, responses };
      await sleep(Math.max(0, 1000 - (performance.now() - tick)));
    }
  })();
  return {
    samples,
    pidsSeen,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Waits up to `ms` for SIGUSR1 to report no open connection; resolves with the last `open` seen. */
export async function waitClosed(server, ms) {
  const deadline = performance.now() + ms;
  let open = null;
  while (performance.now() < deadline) {
    const u = await server.usr1();
    open = u?.counters.open ?? open;
    if (open === 0) return 0;
    await sleep(200);
  }
  return open;
}

/** CPU % of one core the server tree used over `s` seconds from now. */
export async function cpuOver(pid, s) {
  const a = sampleTree(pid).cpuS;
  const t = performance.now();
  await sleep(s * 1000);
  return (100 * (sampleTree(pid).cpuS - a)) / ((performance.now() - t) / 1000);
}

/**
 * Runs `variant` for `loadedS` seconds under everything at once. `ctx`: { dir, rand, live
 * (child processes of the clients, killed on abort), log }. Resolves with the record
 * verdict.mjs judges.
 */
export async function soakVariant(variant, loadedS, ctx) {
  const traffic = variant.traffic(ctx.dir);
  const server = await startServer(variant.args(ctx.dir));
  ctx.servers.add(server);
  try {
    await sleep(500);
    const fdsBefore = sampleTree(server.pid).fds;
    const pidsAtStart = sampleTree(server.pid).pids;
    const honest = new Tally();
    const hostile = new HostileTally();
    const seen = { probeMs: null };
    const t0 = performance.now();
    const endAt = t0 + loadedS * 1000;
    let stopping = false;
    const run = {
      port: server.port,
      live: ctx.live,
      stopping: () => stopping || ctx.aborted() || performance.now() >= endAt,
      left: () => (endAt - performance.now()) / 1000,
    };
    const s = sampler(server, t0, () => ({
      errors: honest.errors(),
      probeMs: seen.probeMs,
      hostile: hostile.attempts(),
    }));
    ctx.log(`${variant.name}: port ${server.port}, ${loadedS} s of honest and hostile traffic`);
    const rand = forkRand(ctx.rand);
    const progress = setInterval(() => {
      const last = s.samples.at(-1);
      if (last)
        ctx.log(
          `${variant.name}: ${last.t.toFixed(0)} s  rss ${(last.rssBytes / 2 ** 20).toFixed(0)} MiB  fds ${last.fds}  open ${last.open}  ` +
            `${last.rps === null ? '-' : last.rps.toFixed(0)} req/s  honest errors ${last.errors}  probe ${last.probeMs === null ? '-' : last.probeMs.toFixed(1)} ms`,
        );
    }, 10_000);
    // The kinds that abandon a stream need the app's streaming routes.
    const kinds = HOSTILE.filter((k) => !k.app || traffic.app);
    await Promise.all([
      honestTraffic(run, traffic, honest, seen, rand),
      hostileTraffic(run, hostile, forkRand(rand), kinds),
    ]);
    stopping = true;
    clearInterval(progress);
    const drainedAt = (performance.now() - t0) / 1000;
    const open = await waitClosed(server, 10_000);
    const fdsAfter = sampleTree(server.pid).fds;
    const idleCpuPct = await cpuOver(server.pid, IDLE_S);
    await s.stop();
    const aliveAtEnd = server.exit === null;
    const exit = await server.stop();
    return {
      variant: variant.name,
      args: server.argv.slice(2),
      loadedS,
      drainedAt,
      samples: s.samples,
      honest,
      hostile,
      expectedSources: [
        'wrk',
        'ab',
        'pipelined',
        'curl',
        'probe',
        ...(traffic.downloads ? ['downloads'] : []),
        ...(traffic.streamed ? ['streamed'] : []),
        ...(traffic.streams ? ['streams'] : []),
      ],
      expectedHostile: kinds.map((k) => k.name),
      end: {
        open,
        fdsBefore,
        fdsAfter,
        idleCpuPct,
        idleS: IDLE_S,
        aliveAtEnd,
        exit,
        pidsAtStart,
        pidsSeen: [...s.pidsSeen],
      },
      serverNotes: server.notes,
    };
  } finally {
    ctx.servers.delete(server);
    await server.stop(1000);
  }
}
