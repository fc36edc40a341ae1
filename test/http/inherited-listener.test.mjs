/**
 * `HttpServer({ fd })`: serving a listening socket another process holds too (as the
 * workers of `etlt serve --workers` do). Closing such a server must take the listener out
 * of its epoll set explicitly: epoll watches the open socket, which the other process keeps
 * open, so a closed fd alone would leave it in the set, and a level-triggered server
 * draining its last connections would be woken for every connection queued meanwhile.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';

import { AF_INET, HttpServer, SOCK_NONBLOCK, SOCK_STREAM, Socket } from 'etlt';
import { HOST, MODES, Scope, assertNoBusyLoop, exchange, waitFor } from '../lib/http.mjs';

for (const mode of MODES) {
  for (const exclusive of [false, true]) {
    test(`an inherited listener (${mode}${exclusive ? ', EPOLLEXCLUSIVE' : ''}): served, and let go on close with no busy loop`, async (t) => {
      const scope = new Scope(t);
      const listener = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
      listener.bind([HOST, 0]);
      listener.listen(64);
      const port = listener.getsockname()[1];
      // Another process holding the same listening socket (its fd 3), as a parent or a sibling worker does.
      const holder = scope.child(spawn('sleep', ['60'], { stdio: ['ignore', 'ignore', 'ignore', listener.fileno()] }));
      const server = new HttpServer({ mode, host: HOST, fd: listener.detach(), exclusive, deferAccept: false });
      server.listen();
      assert.equal(server.address().port, port);
      const reply = await exchange(scope, port, 'GET / HTTP/1.0\r\n\r\n');
      assert.match(reply.data.toString('latin1'), /^HTTP\/1\.0 200 OK\r\n[\s\S]*Hello, world!$/);

      // One connection with half a request keeps the closing server draining...
      const slow = scope.client(port);
      await slow.connect();
      await slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
      await waitFor(() => server.stats().open === 1, { message: 'the slow connection accepted' });
      const closed = server.close(5000);
      // ...while connections queue on the listener the other process still holds.
      const queued = [scope.client(port), scope.client(port)];
      await Promise.all(queued.map((c) => c.connect()));
      await assertNoBusyLoop(server);
      assert.equal(server.stats().interestDels >= 1, true, 'the listener left the set (EPOLL_CTL_DEL)');
      slow.destroy();
      await closed;
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    });
  }
}
