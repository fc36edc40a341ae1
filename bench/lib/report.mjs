// The tables printed at the end of a run, and the median they are made of.

export function median(values) {
  const xs = values.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const m = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

export const fmt = {
  n: (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d)),
  ratio: (x) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`),
  ms: (x) => (x === null || x === undefined ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(0)),
};

export function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (align[i] === 'l' ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The columns every load table shares, after its leading ones. */
function loadCells(r) {
  return [
    fmt.n(r.rps),
    fmt.ratio(r.rpsVsC),
    fmt.ms(r.p50Ms),
    fmt.ms(r.p99Ms),
    fmt.n(r.cpuUsPerReq, 1),
    `${fmt.n(r.cpuMin, 1)}-${fmt.n(r.cpuMax, 1)}`,
    fmt.ratio(r.cpuVsC),
    fmt.n(r.serverCpuPercent),
    `${fmt.n(r.otherCpuPercent)}`,
    `${fmt.n(r.stealPercent)}`,
    r.noisyRounds > 0 ? `${r.noisyRounds}/${r.rounds} *` : `0/${r.rounds}`,
    `${r.requests}`,
    r.problems ? `${r.errorCount} !` : `${r.errorCount}`,
  ];
}
const LOAD_HEADERS = [
  'req/s',
  'req/s xC',
  'p50 ms',
  'p99 ms',
  'CPU us/req',
  'range',
  'CPU xC',
  'srv CPU%',
  'other CPU%',
  'steal%',
  'noisy',
  'requests',
  'errors',
];
const LOAD_ALIGN = LOAD_HEADERS.map(() => 'r');

const topKinds = (t) =>
  t.byKind
    .slice(0, 6)
    .map((k) => `${k.name} ${k.perReq.toFixed(2)}`)
    .join(', ');

/** The close suite: the load table, the CPU ratios line, the strace table. */
export function report(results) {
  const base = results.find((s) => s.name === 'c' && !s.skipped);
  const loadRows = [];
  for (const s of results) {
    if (s.skipped) continue;
    for (const r of s.summary) loadRows.push([s.name, r.tool, r.concurrency, ...loadCells(r)]);
  }
  const out = [];
  out.push(table(['server', 'tool', 'c', ...LOAD_HEADERS], loadRows, ['l', 'l', 'r', ...LOAD_ALIGN]));
  for (const s of results) {
    if (s.skipped) out.push(`skipped ${s.name}: ${s.reason.split('\n')[0]}`);
    if (s.died) out.push(`${s.name}: ${s.died}`);
  }
  // One line per server: its CPU ratio over every tool and concurrency.
  const ratios = [];
  for (const s of results) {
    if (s.skipped || s === base) continue;
    const xs = s.summary.map((r) => r.cpuVsC).filter((x) => x !== null);
    if (xs.length > 0)
      ratios.push(`${s.name} ${fmt.ratio(median(xs))} (${fmt.ratio(Math.min(...xs))}-${fmt.ratio(Math.max(...xs))})`);
  }
  if (ratios.length > 0) out.push('', `CPU per request against C, median over the rows (range): ${ratios.join(', ')}`);
  const sysRows = [];
  const baseSys = base?.strace && !base.strace.error ? base.strace : null;
  for (const s of results) {
    if (s.skipped) continue;
    const t = s.strace;
    if (!t || t.error) {
      sysRows.push([s.name, '-', '-', '-', '-', '-', t?.error ? 'strace failed' : 'strace not run']);
      continue;
    }
    sysRows.push([
      s.name,
      t.requests,
      fmt.n(t.totalPerReq, 2),
      fmt.ratio(baseSys?.totalPerReq && t.totalPerReq ? t.totalPerReq / baseSys.totalPerReq : null),
      fmt.n(t.epollWaitPerReq, 2),
      fmt.n(t.epollCtlPerReq, 2),
      topKinds(t),
    ]);
  }
  out.push('');
  out.push(
    table(
      ['server', 'requests', 'syscalls/req', 'xC', 'epoll_wait/req', 'epoll_ctl/req', 'top kinds (calls/req)'],
      sysRows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  return out.join('\n');
}

const indent = (text, by = '    ') =>
  text
    .split('\n')
    .map((l) => by + l.trimStart())
    .join('\n');

/**
 * A persistent-connection suite (`suite`: { name, title, targets: { cpuVsC, syscallsPerReq } }):
 * one row per (server, c) with the strace run of the same c, the servers that did not
 * start, and how each etlt row stands against the targets (information only).
 */
export function persistentReport(suite, results) {
  const straceOf = (s, c) => s.straces?.[c];
  const base = results.find((s) => s.name === 'c' && !s.skipped);
  const rows = [];
  const sysRows = [];
  for (const s of results) {
    if (s.skipped) continue;
    for (const r of s.summary) {
      const t = straceOf(s, r.concurrency);
      const b = base && straceOf(base, r.concurrency);
      const ok = t && !t.error;
      rows.push([
        s.name,
        r.concurrency,
        ...loadCells(r),
        ok ? fmt.n(t.totalPerReq, 2) : t?.error ? 'failed' : '-',
        fmt.ratio(ok && b && !b.error && b.totalPerReq ? t.totalPerReq / b.totalPerReq : null),
        ok ? fmt.n(t.epollWaitPerReq, 3) : '-',
      ]);
      if (ok) sysRows.push([s.name, r.concurrency, t.requests, topKinds(t)]);
    }
  }
  const out = [`${suite.title}`, ''];
  out.push(
    table(['server', 'c', ...LOAD_HEADERS, 'syscalls/req', 'sys xC', 'epoll_wait/req'], rows, [
      'l',
      'r',
      ...LOAD_ALIGN,
      'r',
      'r',
      'r',
    ]),
  );
  for (const s of results) {
    if (s.skipped)
      out.push(
        `${s.name}: did not start: ${s.reason.split('\n')[0]}`,
        indent(s.reason.split('\n').slice(1).join('\n')),
      );
    if (s.died) out.push(`${s.name}: ${s.died}`);
  }
  if (sysRows.length > 0) {
    out.push(
      '',
      table(['server', 'c', 'requests', 'top kinds under strace (calls/req)'], sysRows, ['l', 'r', 'r', 'l']),
    );
  }
  const { cpuVsC, syscallsPerReq } = suite.targets;
  out.push(
    '',
    `targets (information only): CPU per request at most ${cpuVsC}x the C server's, at most ${syscallsPerReq} syscalls per request`,
  );
  const etlt = results.filter((x) => /^(before:)?etlt/.test(x.name));
  const width = Math.max(16, ...etlt.map((x) => x.name.length));
  for (const s of etlt) {
    if (s.skipped) {
      out.push(`  ${s.name.padEnd(width)} did not start: no figures`);
      continue;
    }
    for (const r of s.summary) {
      const t = straceOf(s, r.concurrency);
      const sys = t && !t.error ? t.totalPerReq : null;
      const verdict = (x, limit) => (x === null || x === undefined ? 'no figure' : x <= limit ? 'meets' : 'misses');
      out.push(
        `  ${s.name.padEnd(width)} c=${String(r.concurrency).padEnd(4)} CPU ${fmt.ratio(r.cpuVsC).padStart(6)} ${verdict(r.cpuVsC, cpuVsC).padEnd(9)}` +
          `  syscalls/req ${fmt.n(sys, 2).padStart(5)} ${verdict(sys, syscallsPerReq)}`,
      );
    }
  }
  const u = suite.uringTargets;
  const uring = results.find((x) => x.name === 'etlt-uring' && !x.skipped);
  const et = results.find((x) => x.name === 'etlt-et' && !x.skipped);
  if (u && uring) {
    out.push(
      `io_uring targets (information only): at most ${u.syscallsPerReq} syscalls per request` +
        (u.cpuVsEtAt500 ? `; CPU per request at c=500 at most ${u.cpuVsEtAt500}x etlt-et's in this run` : ''),
    );
    const verdict = (x, limit) => (x === null || x === undefined ? 'no figure' : x <= limit ? 'meets' : 'misses');
    for (const r of uring.summary) {
      const t = straceOf(uring, r.concurrency);
      const sys = t && !t.error ? t.totalPerReq : null;
      const enters = t && !t.error ? (t.byKind?.find((k) => k.name === 'io_uring_enter')?.perReq ?? 0) : null;
      const etRow = et?.summary.find((x) => x.concurrency === r.concurrency);
      const vsEt = etRow?.cpuUsPerReq && r.cpuUsPerReq ? r.cpuUsPerReq / etRow.cpuUsPerReq : null;
      const cpuPart =
        u.cpuVsEtAt500 && r.concurrency === 500
          ? `  CPU ${fmt.ratio(vsEt)} etlt-et ${verdict(vsEt, u.cpuVsEtAt500)}`
          : `  CPU ${fmt.ratio(vsEt)} etlt-et`;
      out.push(
        `  etlt-uring       c=${String(r.concurrency).padEnd(4)} syscalls/req ${fmt.n(sys, 3).padStart(6)} ${verdict(sys, u.syscallsPerReq)}` +
          ` (io_uring_enter/req ${fmt.n(enters, 3)})${cpuPart}`,
      );
    }
  }
  return out.join('\n');
}

/** The idle suite: memory per idle keep-alive connection. */
export function idleReport(results, connections) {
  const MiB = (b) => (b === null || b === undefined ? '-' : (b / 2 ** 20).toFixed(1));
  const rows = results
    .filter((s) => !s.skipped && !s.error)
    .map((s) => [
      s.name,
      s.held,
      MiB(s.rssBefore),
      MiB(s.rssWith),
      MiB(s.rssAfter),
      fmt.n(s.bytesPerConn),
      s.fdsHeld ?? '-',
    ]);
  const out = [`idle: ${connections} keep-alive connections, one request each, then held idle`, ''];
  out.push(
    table(['server', 'held', 'RSS before MiB', 'RSS with MiB', 'RSS after MiB', 'bytes/conn', 'server fds +'], rows, [
      'l',
      'r',
      'r',
      'r',
      'r',
      'r',
      'r',
    ]),
  );
  for (const s of results) {
    if (s.skipped)
      out.push(
        `${s.name}: did not start: ${s.reason.split('\n')[0]}`,
        indent(s.reason.split('\n').slice(1).join('\n')),
      );
    else if (s.error) out.push(`${s.name}: ${s.error}`);
  }
  return out.join('\n');
}
