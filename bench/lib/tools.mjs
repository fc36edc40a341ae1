// The load generators' command lines and the parsers of what they print
// (wrk, ab, and the `strace -c -f -U name,calls` summary). The parsers are
// shared with the tests (test/lib/http.mjs): this module has no side effects
// and imports nothing.
//
// The `*Fields` functions give every figure as printed, or null when the
// output does not hold it (ab prints "Non-2xx responses" only when there were
// some; a tool that failed early prints nothing); `parseWrk` and `parseAb`
// turn those into the bench's result shape, where a missing count is 0.

export const url = (port) => `http://127.0.0.1:${port}/`;

/** "123.45us" | "1.23ms" | "2.00s" -> milliseconds */
export function wrkTime(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) return null;
  const scale = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 }[m[2]];
  return Number(m[1]) * scale;
}

function number(out, re) {
  const m = re.exec(out);
  return m ? Number(m[1]) : null;
}

/**
 * wrk's report: { requests, seconds, rps, latencyMs: { 50, 75, 90, 99 }, socketErrors:
 * { connect, read, write, timeout }, non2xx }. socketErrors and non2xx are null when wrk
 * did not print them (it prints them only when non-zero); so is a percentile wrk got wrong.
 */
export function wrkFields(out) {
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const time = (/requests in ([\d.]+\w+),/.exec(out) ?? [])[1];
  const ms = time === undefined ? null : wrkTime(time);
  const latencyMs = {};
  let below = 0;
  for (const p of [50, 75, 90, 99]) {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out);
    const ms = m ? wrkTime(m[1]) : null;
    // wrk 4.1 sometimes prints 0.00us for the upper percentiles (always with a
    // pipelining script; wg/wrk#236, #354): a percentile below a lower one is
    // that bug, not a figure.
    latencyMs[p] = ms !== null && ms < below ? null : ms;
    if (ms !== null) below = Math.max(below, ms);
  }
  return {
    requests: number(out, /(\d+) requests in/),
    seconds: ms === null ? null : ms / 1000,
    rps: number(out, /Requests\/sec:\s+([\d.]+)/),
    latencyMs,
    socketErrors: sock ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] } : null,
    non2xx: number(out, /Non-2xx or 3xx responses: (\d+)/),
  };
}

/** wrk's report as the bench records it (missing counts are 0). */
export function parseWrk(out) {
  const f = wrkFields(out);
  const errors = {
    ...(f.socketErrors ?? { connect: 0, read: 0, write: 0, timeout: 0 }),
    non2xx: f.non2xx ?? 0,
  };
  return {
    requests: f.requests ?? 0,
    seconds: f.seconds ?? 0,
    rps: f.rps ?? 0,
    p50Ms: f.latencyMs[50],
    p99Ms: f.latencyMs[99],
    errors,
    errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
  };
}

/**
 * ab's report: { complete, failed, failedDetail: { connect, receive, length, exceptions }
 * | null, non2xx, transferred, seconds, rps, percentileMs(p) }. `percentileMs` reads the -e
 * CSV when given (microsecond resolution), else ab's text table (whole milliseconds).
 */
export function abFields(out, csv = '') {
  const failed =
    /Failed requests:\s+(\d+)(?:\s*\n\s*\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\))?/.exec(
      out,
    );
  return {
    complete: number(out, /Complete requests:\s+(\d+)/),
    failed: failed ? Number(failed[1]) : null,
    failedDetail:
      failed?.[2] !== undefined
        ? { connect: +failed[2], receive: +failed[3], length: +failed[4], exceptions: +failed[5] }
        : null,
    non2xx: number(out, /Non-2xx responses:\s+(\d+)/),
    transferred: number(out, /Total transferred:\s+(\d+)/),
    seconds: number(out, /Time taken for tests:\s+([\d.]+)/),
    rps: number(out, /Requests per second:\s+([\d.]+)/),
    percentileMs(p) {
      const c = new RegExp(`^${p},([\\d.]+)$`, 'm').exec(csv);
      if (c) return Number(c[1]);
      const m = new RegExp(`^\\s*${p}%\\s+(\\d+)`, 'm').exec(out);
      return m ? Number(m[1]) : null;
    },
  };
}

/** ab's text output, and its -e CSV, as the bench records them (missing counts are 0). */
export function parseAb(out, csv = '') {
  const f = abFields(out, csv);
  const errors = { failed: f.failed ?? 0, non2xx: f.non2xx ?? 0 };
  if (f.failedDetail) Object.assign(errors, f.failedDetail);
  return {
    requests: f.complete ?? 0,
    seconds: f.seconds ?? 0,
    rps: f.rps ?? 0,
    p50Ms: f.percentileMs(50),
    p99Ms: f.percentileMs(99),
    errors,
    errorCount: errors.failed + errors.non2xx,
  };
}

/** `strace -c -f -U name,calls` summary: { total, byKind: { name: calls } }. */
export function parseStraceSummary(text) {
  // With -U name,calls the table has two columns: syscall name and calls.
  const byKind = {};
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_][a-z0-9_]*)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    if (m[1] === 'total') total = Number(m[2]);
    else byKind[m[1]] = Number(m[2]);
  }
  if (!total) total = Object.values(byKind).reduce((a, b) => a + b, 0);
  return { total, byKind };
}

export function wrkArgv(port, c, durationS) {
  // wrk speaks HTTP/1.1 with keep-alive; the header makes every server close
  // after each response, so wrk reconnects: one connection per request.
  return [
    'wrk',
    '-t1',
    `-c${c}`,
    `-d${durationS}s`,
    '--latency',
    '--timeout',
    '5s',
    '-H',
    'Connection: close',
    url(port),
  ];
}

/** wrk as it comes: HTTP/1.1, every connection kept for the whole run. */
export function wrkKeepAliveArgv(port, c, durationS) {
  return ['wrk', '-t1', `-c${c}`, `-d${durationS}s`, '--latency', '--timeout', '5s', url(port)];
}

/** wrk sending `depth` requests per write (bench/pipeline.lua), as TechEmpower's plaintext test does. */
export function wrkPipelineArgv(port, c, durationS, script, depth) {
  return [...wrkKeepAliveArgv(port, c, durationS).slice(0, -1), '-s', script, url(port), '--', String(depth)];
}

export function abArgv(port, c, n, timeLimitS, csvPath = null) {
  // ab is HTTP/1.0 without keep-alive (no -k): one connection per request.
  // -t must come before -n: -t alone implies -n 50000. -r: a reset is
  // counted as a failure instead of aborting the whole run.
  const limit = timeLimitS ? ['-t', String(timeLimitS)] : [];
  const csv = csvPath ? ['-e', csvPath] : [];
  return ['ab', '-q', '-r', '-s', '10', ...limit, '-n', String(n), '-c', String(c), ...csv, url(port)];
}
