/**
 * What `etlt serve` prints about its server or its pool: the start line, the counters (on
 * exit and SIGUSR1), each worker's line, and a worker's exit.
 */
import type { WorkerExit } from '../cluster/pool.js';
import type { WorkerPoolStats } from '../cluster/stats.js';
import type { HttpServerStats } from '../http/server.js';
import { FACTS } from '../http/trigger/catalog.js';
import type { Backend, Mode } from '../http/trigger/catalog.js';
import { backendSyscalls, syscallsByKind } from '../trace/counters.js';

/**
 * A few lines summarising a server's counters, for exit and SIGUSR1, in the syscall names of
 * its backend: epoll_wait and epoll_ctl on epoll; poll or select, with libuv's own epoll_wait
 * apart and interest changes marked as no syscall, on the others.
 */
export function formatStats(s: HttpServerStats): string {
  const per = (n: number) => (s.requests > 0 ? (n / s.requests).toFixed(2) : '-');
  const sys = syscallsByKind(s, s.backend);
  const total = Object.values(sys).reduce((a, b) => a + b, 0);
  const names = backendSyscalls(s.backend);
  const eventsPerWait = s.waits ? (s.events / s.waits).toFixed(2) : '-';
  const interest = `add=${s.interestAdds} mod=${s.interestMods} del=${s.interestDels}`;
  const waits =
    names.interest !== undefined
      ? `etlt: ${names.wait}=${sys.epoll_wait} (wake-ups ${s.wakeups}, idle ${s.idleWaits}, re-polls ${s.repolls} of which empty ${s.emptyRepolls}, ` +
        `events/wait ${eventsPerWait}; idle-timer turns ${s.timerTurns} apart) ${names.interest} ${interest}`
      : `etlt: ${names.wait}=${s.waits + s.turnWaits} (idle ${s.idleWaits + s.turnWaits}, re-polls ${s.repolls} of which empty ${s.emptyRepolls}, ` +
        `events/wait ${eventsPerWait}) libuv epoll_wait=${s.wakeups + s.readyTurns} (wake-ups ${s.wakeups}; idle-timer turns ${s.timerTurns} apart) ` +
        `interest ${interest} (in the process: no syscall)`;
  const perWait = `${names.wait}=${per(names.interest !== undefined ? sys.epoll_wait! : s.waits + s.turnWaits)}`;
  return [
    `etlt: mode=${s.mode} connections=${s.connections} open=${s.open} requests=${s.requests} responses=${s.responses} ` +
      `aborted=${s.aborted} rejected=${s.rejected} timed-out=${s.timedOut} cut-off=${s.cutOff} shed=${s.shed} ` +
      `keepalive-timeouts=${s.keepAliveTimeouts} send-timeouts=${s.sendTimeouts} heads-shed=${s.headsShed} handler-errors=${s.handlerErrors}` +
      (s.backend === 'epoll' ? '' : ` backend=${s.backend} over-fd-limit=${s.overFdLimit}`),
    waits,
    `etlt: accept=${s.accept} (EAGAIN ${s.acceptAgain}) recv=${s.recv} (EAGAIN ${s.recvAgain}) send=${s.send} (EAGAIN ${s.sendAgain}) ` +
      `bytes in=${s.bytesIn} out=${s.bytesOut}`,
    ...(s.backend === 'io_uring'
      ? [
          `etlt: io_uring_enter=${s.ringEnters} completions=${s.completions} (ring operations: accept ${s.ringAccept} ` +
            `recv ${s.ringRecv} send ${s.ringSend} close ${s.ringClose}, no syscall of their own)`,
        ]
      : []),
    `etlt: per request: syscalls=${per(total)} ${perWait}` +
      (names.interest !== undefined ? ` ${names.interest}=${per(sys.epoll_ctl!)}` : '') +
      (s.backend === 'io_uring' ? ` io_uring_enter=${per(sys.io_uring_enter!)}` : ''),
  ].join('\n');
}

/** The start line: where, which trigger, and for the seed's and the pitfall strategies, a warning. */
export function startLine(
  host: string,
  port: number,
  mode: Mode,
  root: string | undefined,
  backend: Backend,
  workers = '',
): string {
  const facts = FACTS[mode];
  const url = host.startsWith('unix:') ? host : `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  const warning =
    facts.family === 'seed'
      ? ": the seed's own loop, flaws included; not for traffic"
      : facts.family === 'pitfall'
        ? ': a deliberate pitfall; not for traffic'
        : '';
  const what = root === undefined ? '' : ` the files of ${root}`;
  const on = backend === 'epoll' ? '' : `, backend ${backend}`;
  const trigger = facts.trigger === 'completion' ? 'completion-based' : `${facts.trigger}-triggered`;
  return `etlt: serving${what} on ${url} (${trigger}, mode ${mode}${on}${workers}${warning})`;
}

/** Each worker's counters on a line, then the totals in `serve`'s own format. */
export function formatPoolStats(s: WorkerPoolStats): string {
  const lines = s.workers.map((w) => {
    const t = w.stats;
    const cpuMs = ((w.cpu.user + w.cpu.system) / 1000).toFixed(0);
    const line =
      `etlt: worker ${w.index} pid=${w.pid}${w.live ? '' : ' (exited)'}: connections=${t.connections} requests=${t.requests} ` +
      `wake-ups=${t.wakeups} listener-events=${t.listenerEvents} empty-accepts=${t.listenerEmpty} cpu-ms=${cpuMs}`;
    const m = w.live ? w.memory : undefined;
    return m === undefined
      ? line
      : `${line}\netlt: worker ${w.index} memory rss=${m.rss} heap-used=${m.heapUsed} heap-total=${m.heapTotal} external=${m.external}`;
  });
  lines.push(`etlt: ${s.workers.length} workers' counters (balance ${s.balance}, replaced ${s.replaced}), in total:`);
  return [...lines, formatStats(s.total)].join('\n');
}

/** A worker's exit, and when its replacement starts. */
export function describeExit(e: WorkerExit): string {
  const then = e.restartInMs === undefined ? '' : `; replacing it in ${e.restartInMs} ms`;
  return `etlt: worker ${e.index} (pid ${e.pid}) ${e.cause}${then}`;
}
