/**
 * sys.ioctl_int: SIOCINQ, SIOCOUTQ and SIOCOUTQNSD on real sockets (the server watches a
 * slow reader's SIOCOUTQ shrink), -errno for a failure, and -EINVAL for any other request,
 * which could make the kernel write more than the int the wrapper gives it.
 */
import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import { test } from 'node:test';

import {
  EBADF,
  EINVAL,
  SIOCINQ,
  SIOCOUTQ,
  SIOCOUTQNSD,
  AF_INET,
  MSG_DONTWAIT,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_RCVBUF,
  Socket,
  sys,
} from 'etlt';
import { pair } from '../lib/select.mjs';
import { cleanup, waitFor } from '../lib/util.mjs';

test('SIOCINQ counts the bytes waiting to be read; SIOCOUTQ falls to 0 once they are read', (t) => {
  const [a, b] = pair(t);
  assert.equal(sys.ioctl_int(b.fileno(), SIOCINQ), 0);
  a.send(Buffer.alloc(1000, 1));
  assert.equal(sys.ioctl_int(b.fileno(), SIOCINQ), 1000);
  assert.ok(sys.ioctl_int(a.fileno(), SIOCOUTQ) > 0, 'unread bytes are still charged to the sender');
  b.recv(1000);
  assert.equal(sys.ioctl_int(b.fileno(), SIOCINQ), 0);
  assert.equal(sys.ioctl_int(a.fileno(), SIOCOUTQ), 0);
});

test('TCP: SIOCOUTQ holds what a peer that does not read left unacknowledged, and shrinks as it reads', async (t) => {
  const listener = new Socket(AF_INET, SOCK_STREAM);
  const client = new Socket(AF_INET, SOCK_STREAM);
  cleanup(t, listener, client);
  listener.bind(['127.0.0.1', 0]);
  listener.listen(1);
  client.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
  client.connect(listener.getsockname());
  const [server] = listener.accept();
  cleanup(t, server);
  const chunk = Buffer.alloc(65536, 7);
  let sent = 0;
  try {
    for (;;) sent += server.send(chunk, MSG_DONTWAIT);
  } catch (err) {
    assert.equal(err.code, 'EAGAIN');
  }
  const queued = await waitFor(() => sys.ioctl_int(server.fileno(), SIOCOUTQ) || false, {
    message: 'unacknowledged bytes',
  });
  assert.ok(queued > 0 && queued <= sent, `SIOCOUTQ ${queued} of ${sent} sent`);
  const unsent = sys.ioctl_int(server.fileno(), SIOCOUTQNSD);
  assert.ok(unsent >= 0 && unsent <= queued, `SIOCOUTQNSD ${unsent}, SIOCOUTQ ${queued}`);
  let read = 0;
  await waitFor(
    () => {
      try {
        read += client.recv(65536, MSG_DONTWAIT).length;
      } catch (err) {
        if (err.code !== 'EAGAIN') throw err;
      }
      return sys.ioctl_int(server.fileno(), SIOCOUTQ) < queued;
    },
    { message: 'the queue to shrink as the peer reads' },
  );
  assert.ok(read > 0);
});

test('failures are -errno; a request other than the three is -EINVAL', (t) => {
  const [a] = pair(t);
  assert.equal(sys.ioctl_int(a.fileno(), 0x5401 /* TCGETS, which writes a struct termios */), -EINVAL);
  assert.equal(sys.ioctl_int(-1, SIOCOUTQ), -EBADF);
  const fd = openSync('/dev/null', 'r');
  try {
    assert.equal(sys.ioctl_int(fd, SIOCINQ), -25 /* ENOTTY: not a socket */);
  } finally {
    closeSync(fd);
  }
  assert.throws(() => sys.ioctl_int('x', SIOCOUTQ), TypeError);
});
