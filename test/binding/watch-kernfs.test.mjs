/**
 * watch() is a nested epoll: libuv's epoll watches ours. Files whose kernel poll keeps
 * reporting until the file is read again (kernfs: cgroup2's cgroup.events, GPIO values,
 * most of sysfs) work through it; the README says which do not (/proc/self/mounts consumes
 * the event in the outer poll). This shows a kernfs EPOLLPRI notification delivered by
 * watch(), with the cgroup2 hierarchy this machine has.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { Epoll, EPOLLERR, EPOLLPRI } from 'etlt';
import { noFdLeak, waitFor } from '../lib/util.mjs';

noFdLeak({ warmSpawn: true });

/** Where cgroup2 is mounted (a unified hierarchy, or the hybrid one's `unified`). */
function cgroup2Mount() {
  const line = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[2] === 'cgroup2');
  return line?.split(' ')[1];
}

test(
  'an EPOLLPRI notification of a kernfs file (cgroup2 cgroup.events) arrives through watch()',
  { timeout: 15_000 },
  async (t) => {
    const mount = cgroup2Mount();
    assert.ok(
      mount,
      'this test needs a cgroup2 hierarchy (/proc/mounts has none): it shows kernfs notifications through watch()',
    );
    assert.equal(process.getuid(), 0, 'this test needs root, to make a cgroup and move a process into it');
    const dir = join(mount, `etlt-test-${process.pid}`);
    mkdirSync(dir);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const fd = openSync(join(dir, 'cgroup.events'), 'r');
    const ep = new Epoll();
    t.after(async () => {
      ep.close();
      closeSync(fd);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      // The cgroup can go once the kernel has seen it empty.
      await waitFor(
        () => {
          try {
            rmdirSync(dir);
            return true;
          } catch {
            return false;
          }
        },
        { timeout: 3000, message: 'the cgroup to be removable' },
      );
    });
    const buf = Buffer.alloc(256);
    const contents = () => buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
    assert.match(contents(), /^populated 0$/m);
    const states = [];
    ep.register(fd, EPOLLPRI);
    ep.watch((events) => {
      for (const [f, mask] of events) {
        if (f !== fd) continue;
        assert.ok((mask & EPOLLPRI) !== 0, `mask 0x${mask.toString(16)}`);
        // Reading again is what tells kernfs the notification was seen.
        states.push(/populated (\d)/.exec(contents())?.[1]);
      }
    });
    await once(child, 'spawn');
    writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
    await waitFor(() => states.includes('1'), { timeout: 3000, message: 'the populated notification through watch()' });
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    await waitFor(() => states.at(-1) === '0', { timeout: 3000, message: 'the emptied notification through watch()' });
    // Level-triggered, and read after each notification: no storm of repeats.
    assert.ok(states.length <= 6, `states seen: ${states.join(',')}`);
    void EPOLLERR;
  },
);
