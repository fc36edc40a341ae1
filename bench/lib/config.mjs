// The bench's configuration, from the environment (see the header of bench/run.mjs).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT = path.join(ROOT, 'bench', 'out');
export const QUICK = process.env.BENCH_QUICK === '1';
export const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim()) : null;
/**
 * BENCH_BEFORE=DIR: another checkout of etlt (built) whose etlt rows run beside this one's,
 * named `before:NAME`, in the keep-alive, pipelined and static suites (see beforeTwins).
 */
export const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : null;
/** The prefix of the BENCH_BEFORE checkout's rows. */
export const BEFORE_PREFIX = 'before:';

export const ALL_SUITES = ['close', 'keepalive', 'pipelined', 'idle', 'static'];
const asked = process.env.BENCH_SUITES
  ? process.env.BENCH_SUITES.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : ALL_SUITES;
/** Names in BENCH_SUITES that are no suite: reported, then ignored. */
export const UNKNOWN_SUITES = asked.filter((s) => !ALL_SUITES.includes(s));
/** The suites to run, in the order of ALL_SUITES whatever the order asked. */
export const SUITES = ALL_SUITES.filter((s) => asked.includes(s));

// Run lengths. Every run is bounded twice: by its own count or duration, and by
// a hard kill after HARD_TIMEOUT_S in case a server stops answering.
export const CONFIG = QUICK
  ? {
      rounds: 1,
      warmup: { n: 500, c: 50 },
      wrk: { durationS: 1, concurrency: [50] },
      ab: { n: 50000, timeLimitS: 1, concurrency: [1, 50, 500] },
      strace: { n: 1000, c: 50 },
      // Both concurrencies even in the quick run: c=500 with 16 requests in flight per
      // connection is the load most likely to find a server's pipelining bug.
      persistent: { warmupS: 1, durationS: 1, concurrency: [50, 500], straceDurationS: 1, depth: 16 },
      idle: { connections: 10000 },
    }
  : {
      rounds: Number(process.env.BENCH_ROUNDS) || 3,
      warmup: { n: 20000, c: 50 },
      wrk: { durationS: 2, concurrency: [50, 500] },
      ab: { n: 200000, timeLimitS: 2, concurrency: [1, 50, 500] },
      strace: { n: 5000, c: 50 },
      persistent: { warmupS: 2, durationS: 2, concurrency: [50, 500], straceDurationS: 2, depth: 16 },
      idle: { connections: 10000 },
    };
export const HARD_TIMEOUT_S = 30;
export const STRACE_TIMEOUT_S = 60;
export const START_TIMEOUT_MS = 10_000;
export const NOFILE = 65536;
// A run during which processes outside the bench used more than this much of
// one CPU is marked noisy ('*') in the table.
export const NOISY_PERCENT = 10;
export const BODY = 'Hello, world!';
