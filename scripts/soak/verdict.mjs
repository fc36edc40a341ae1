// When a soak held: the checks over one variant's record, each with its bound and what was
// measured. Pure: it reads the record the runner wrote (soak.json holds the same), so a
// unit test can feed it a leak and see it fail.

const MiB = 1 << 20;

/** The bounds, stated once (docs/reliability.md quotes them). */
export const BOUNDS = {
  /** Seconds (or this share of the loaded time, if longer) left out before flatness is judged. */
  warmupS: 3,
  warmupShare: 0.2,
  /** Max over the last third of the loaded time minus max over the first third (after warm-up). */
  rssGrowthMiB: 32,
  heapGrowthMiB: 16,
  fdGrowth: 32,
  /** fds once the load is gone and every connection closed, over the count before the load. */
  fdsLeftOver: 2,
  /** Server CPU, % of one core, over a few seconds with no load (and, under EMFILE, with no new connection). */
  idleCpuPct: 5,
  exhaustedCpuPct: 10,
  /** Seconds of the loaded time that must have answered SIGUSR1 with counters (a wedged loop does not). */
  answeredShare: 0.8,
};

const maxOf = (xs) => xs.reduce((a, b) => Math.max(a, b), -Infinity);

/** The loaded samples after warm-up split in thirds: [first, last]. */
export function thirds(samples, loadedS) {
  const warm = Math.max(BOUNDS.warmupS, BOUNDS.warmupShare * loadedS);
  const judged = samples.filter((s) => s.t >= warm && s.t <= loadedS && s.answered);
  const n = Math.floor(judged.length / 3);
  return [judged.slice(0, n), judged.slice(judged.length - n)];
}

function flat(samples, loadedS, field, bound, scale, unit) {
  const [first, last] = thirds(samples, loadedS);
  if (first.length < 2)
    return { ok: false, detail: `too few samples after warm-up to judge (${first.length} per third)` };
  const a = maxOf(first.map((s) => s[field])) / scale;
  const b = maxOf(last.map((s) => s[field])) / scale;
  const growth = b - a;
  return {
    ok: growth <= bound,
    detail: `max ${a.toFixed(1)} -> ${b.toFixed(1)} ${unit} (growth ${growth.toFixed(1)}, bound ${bound})`,
  };
}

/** The checks of one variant's record: [{ name, ok: true | false | null (not measured), detail }]. */
export function checks(rec) {
  const out = [];
  // ok: true (held), false (did not), or null: not measured, which is reported, never passed.
  const add = (name, ok, detail) => out.push({ name, ok: ok === null ? null : Boolean(ok), detail });
  const h = rec.honest;
  const failed = Object.values(h.sources).reduce((a, s) => a + s.failed, 0);
  const different = Object.values(h.sources).reduce((a, s) => a + s.different, 0);
  add(
    'no honest request failed or came back different',
    failed === 0 && different === 0,
    `failed ${failed}, different ${different}` +
      (h.notes.length > 0 ? `; first: ${h.notes.slice(0, 3).join(' | ')}` : ''),
  );
  const idle = rec.expectedSources.filter((s) => !(h.sources[s]?.ok > 0));
  add(
    'every honest client was served',
    idle.length === 0,
    idle.length === 0 ? rec.expectedSources.join(', ') : `nothing served to ${idle.join(', ')}`,
  );
  const quiet = rec.expectedHostile.filter((k) => !(rec.hostile.kinds[k]?.attempts > 0));
  add(
    'every hostile client ran',
    quiet.length === 0,
    quiet.length === 0 ? `${rec.expectedHostile.length} kinds` : `never ran: ${quiet.join(', ')}`,
  );
  const loaded = rec.samples.filter((s) => s.t <= rec.loadedS);
  const answered = loaded.filter((s) => s.answered).length;
  add(
    'the server answered SIGUSR1 every second',
    loaded.length > 0 && answered >= BOUNDS.answeredShare * loaded.length,
    `${answered} of ${loaded.length} seconds`,
  );
  const rss = flat(rec.samples, rec.loadedS, 'rssBytes', BOUNDS.rssGrowthMiB, MiB, 'MiB');
  add('RSS flat after warm-up', rss.ok, rss.detail);
  // A server that prints no memory line (an older build, or workers not yet asked) has
  // its heap not measured: said so, neither held nor failed.
  const heapless = rec.samples.some((s) => s.answered && s.heapUsed === null);
  const heap = heapless
    ? { ok: null, detail: 'NOT MEASURED: the server printed no memory line on SIGUSR1' }
    : flat(rec.samples, rec.loadedS, 'heapUsed', BOUNDS.heapGrowthMiB, MiB, 'MiB');
  add('V8 heap flat after warm-up', heap.ok, heap.detail);
  const fds = flat(rec.samples, rec.loadedS, 'fds', BOUNDS.fdGrowth, 1, 'fds');
  add('open fds flat after warm-up', fds.ok, fds.detail);
  const e = rec.end;
  add('every connection closed once the load stopped', e.open === 0, `open ${e.open}`);
  add(
    'fds back to where they were before the load',
    e.fdsAfter <= e.fdsBefore + BOUNDS.fdsLeftOver,
    `${e.fdsBefore} before, ${e.fdsAfter} after (bound +${BOUNDS.fdsLeftOver})`,
  );
  add(
    'no busy loop once the load stopped',
    e.idleCpuPct <= BOUNDS.idleCpuPct,
    `${e.idleCpuPct.toFixed(1)}% of a core over ${e.idleS} s (bound ${BOUNDS.idleCpuPct}%)`,
  );
  add(
    'no crash: the server ran to the end and exited 0 on SIGTERM',
    e.aliveAtEnd && e.exit.code === 0 && !e.exit.killed,
    `alive at end: ${e.aliveAtEnd}, exit ${JSON.stringify(e.exit)}`,
  );
  add(
    'no worker restart',
    e.pidsSeen.length === e.pidsAtStart.length,
    `processes at start ${e.pidsAtStart.length}, seen ${e.pidsSeen.length}`,
  );
  const m = rec.emfile;
  if (m !== undefined) {
    add(
      'EMFILE: fds ran out (connections were shed)',
      m.shed > 0,
      `limit ${m.nofile}, ${m.holders} held connections, shed ${m.shed}`,
    );
    add(
      'EMFILE: no busy loop while out of fds',
      m.exhaustedCpuPct <= BOUNDS.exhaustedCpuPct,
      `${m.exhaustedCpuPct.toFixed(1)}% of a core (bound ${BOUNDS.exhaustedCpuPct}%)`,
    );
    add(
      'EMFILE: served again once fds were free',
      m.recovered.ok > 0 && m.recovered.failed === 0,
      `ok ${m.recovered.ok}, failed ${m.recovered.failed}${m.recovered.note ? `: ${m.recovered.note}` : ''}`,
    );
    add('EMFILE: exited 0 on SIGTERM', m.exit.code === 0 && !m.exit.killed, JSON.stringify(m.exit));
  }
  return out;
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** The headline figures of one variant's record (what docs/reliability.md quotes). */
export function figures(rec) {
  const loaded = rec.samples.filter((s) => s.t <= rec.loadedS);
  const rps = loaded.map((s) => s.rps).filter((v) => v !== null);
  const probe = loaded.map((s) => s.probeMs).filter((v) => v !== null);
  const sources = Object.values(rec.honest.sources);
  return {
    honestOk: sources.reduce((a, s) => a + s.ok, 0),
    honestResent: sources.reduce((a, s) => a + s.resent, 0),
    hostileAttempts: Object.values(rec.hostile.kinds).reduce((a, k) => a + k.attempts, 0),
    meanRps: rps.length === 0 ? NaN : rps.reduce((a, b) => a + b, 0) / rps.length,
    probeP50Ms: quantile(probe, 0.5),
    probeP99Ms: quantile(probe, 0.99),
    probeMaxMs: quantile(probe, 1),
    rssMaxMiB: maxOf(loaded.map((s) => s.rssBytes)) / MiB,
    heapMaxMiB: maxOf(loaded.map((s) => s.heapUsed ?? 0)) / MiB,
    fdsMax: maxOf(loaded.map((s) => s.fds)),
    openMax: maxOf(loaded.map((s) => s.open ?? 0)),
  };
}

/** The figures as one line. */
export function figuresLine(f) {
  const n = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  return (
    `${f.honestOk} honest responses checked (${f.honestResent} resent after a close), ${f.hostileAttempts} hostile connections, ` +
    `${n(f.meanRps)} req/s on average; probe p50 ${n(f.probeP50Ms, 1)} ms, p99 ${n(f.probeP99Ms, 1)} ms, max ${n(f.probeMaxMs, 1)} ms; ` +
    `peak RSS ${n(f.rssMaxMiB, 1)} MiB, heap ${n(f.heapMaxMiB, 1)} MiB, ${f.fdsMax} fds, ${f.openMax} connections`
  );
}
