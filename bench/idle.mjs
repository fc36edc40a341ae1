// The idle suite: memory per idle keep-alive connection. For each server of
// the persistent suites, a client process (bench/idle-client.mjs, pinned to
// CPU 1, under the same fd limit as the server) opens CONFIG.idle.connections
// connections, makes one keep-alive request on each, reads its response and
// holds them idle; the server's resident memory (VmRSS of /proc/PID/status,
// summed over its process tree) is read before and with them open. Run by
// bench/run.mjs; every connection and process is closed before the next server.
import fs from 'node:fs';

import { CONFIG, ONLY } from './lib/config.mjs';
import { processTree, settle } from './lib/cpu.mjs';
import { CLIENT_CPU, have, pinned } from './lib/machine.mjs';
import { sleep, start, stop, tail } from './lib/processes.mjs';
import { KEEPALIVE_SERVERS, launch } from './lib/servers.mjs';

const READY_TIMEOUT_MS = 60_000;

/** Resident memory of pid's tree in bytes (kernel socket buffers are not in it). */
function treeRss(pid) {
  let kB = 0;
  for (const p of processTree(pid)) {
    try {
      kB += Number(/^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return kB * 1024;
}

function treeFds(pid) {
  let n = 0;
  for (const p of processTree(pid)) {
    try {
      n += fs.readdirSync(`/proc/${p}/fd`).length;
    } catch {
      // exited
    }
  }
  return n;
}

/** Starts the client and resolves with its "ready" line, or an error. */
function holdConnections(port, count) {
  const client = start(pinned(CLIENT_CPU, [process.execPath, 'bench/idle-client.mjs', String(port), String(count)]));
  let stdout = '';
  let stderr = '';
  client.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const ready = new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ error: `the client was not ready after ${READY_TIMEOUT_MS} ms` }),
      READY_TIMEOUT_MS,
    );
    client.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    client.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      resolve({ error: `the client exited (code ${code}, signal ${signal}): ${tail(stderr, 3)}` });
    });
  });
  return { client, ready, output: () => stdout };
}

async function measure(l, count) {
  await settle(l.pid);
  const rssBefore = treeRss(l.pid);
  const fdsBefore = treeFds(l.pid);
  const { client, ready, output } = holdConnections(l.port, count);
  try {
    const r = await ready;
    if (r.error) return { error: r.error };
    // The server may still be finishing the last responses, or collecting garbage.
    await settle(l.pid);
    const rssWith = treeRss(l.pid);
    const fdsWith = treeFds(l.pid);
    await stop(client);
    const closed = JSON.parse(
      output()
        .split('\n')
        .find((x) => x.startsWith('{"closed"')) ?? '{}',
    );
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && treeFds(l.pid) > fdsBefore) await sleep(50);
    await settle(l.pid);
    return {
      held: r.held,
      failed: r.failed,
      firstError: r.firstError,
      openMs: r.ms,
      closedByServer: closed.closedByServer ?? null,
      rssBefore,
      rssWith,
      rssAfter: treeRss(l.pid),
      bytesPerConn: r.held > 0 ? (rssWith - rssBefore) / r.held : null,
      fdsHeld: fdsWith - fdsBefore,
      fdsAfter: treeFds(l.pid) - fdsBefore,
    };
  } finally {
    await stop(client);
  }
}

/** Runs the idle suite; one entry per server. */
export async function runIdle() {
  const count = CONFIG.idle.connections;
  const entries = [];
  if (!have('wrk')) {
    console.error('bench: wrk not available (the warm-up): the idle suite is skipped');
    return entries;
  }
  for (const server of KEEPALIVE_SERVERS) {
    if (ONLY && !ONLY.includes(server.name)) continue;
    console.error(`- ${server.label}: starting and warming up`);
    const l = await launch(server, `idle-${server.name}`);
    if (l.entry.skipped) {
      console.error(`  did not start: ${l.entry.reason}`);
      entries.push(l.entry);
      continue;
    }
    const { runs: _runs, ...entry } = l.entry;
    try {
      Object.assign(entry, await measure(l, count));
    } catch (err) {
      entry.error = `idle run failed: ${err.message}`;
    } finally {
      const { code, signal } = await stop(l.child);
      entry.exit = { code, signal };
    }
    if (entry.error) console.error(`  ${entry.name}: ${entry.error}`);
    else {
      const note = entry.failed ? `, ${entry.failed} failed (${entry.firstError})` : '';
      console.error(
        `  idle      ${entry.name.padEnd(9)} ${entry.held} held${note}  ${(entry.bytesPerConn ?? 0).toFixed(0)} bytes/conn`,
      );
    }
    entries.push(entry);
  }
  return entries;
}
