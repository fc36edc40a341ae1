/**
 * socketpair(): Python's socket.socketpair() (CPython test_socket's BasicSocketPairTest and
 * SocketPairTest cases, each test named after the one it ports), over real AF_UNIX pairs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { socketpair, Socket, AF_UNIX, AF_INET, SOCK_STREAM, SOCK_DGRAM, SOCK_NONBLOCK, EAGAIN, EOPNOTSUPP } from 'etlt';
import { cleanup, isCloexec, isNonBlocking, noFdLeak, throwsArg, throwsSys } from '../lib/util.mjs';

describe('socketpair() (CPython BasicSocketPairTest, SocketPairTest)', () => {
  noFdLeak();

  test('test_defaults: AF_UNIX, SOCK_STREAM, proto 0; blocking; close-on-exec', (t) => {
    const [a, b] = cleanup(t, ...socketpair());
    for (const s of [a, b]) {
      assert.ok(s instanceof Socket);
      assert.equal(s.family, AF_UNIX);
      assert.equal(s.type, SOCK_STREAM);
      assert.equal(s.proto, 0);
      assert.equal(s.getBlocking(), true);
      assert.ok(isCloexec(s.fileno()));
    }
    assert.notEqual(a.fileno(), b.fileno());
  });

  test('testRecv and testSend: bytes go both ways', (t) => {
    const [a, b] = cleanup(t, ...socketpair());
    a.sendall(Buffer.from('Michael Gilfix was here\n'));
    assert.equal(b.recv(1024).toString(), 'Michael Gilfix was here\n');
    b.sendall('and back');
    assert.equal(a.recv(1024).toString(), 'and back');
    b.close();
    assert.equal(a.recv(1024).length, 0, 'EOF once the peer is closed');
  });

  test('a datagram pair keeps message boundaries; SOCK_NONBLOCK makes both ends non-blocking', (t) => {
    const [a, b] = cleanup(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
    assert.equal(a.type, SOCK_DGRAM);
    a.send('one');
    a.send('two');
    assert.equal(b.recv(100).toString(), 'one');
    assert.equal(b.recv(100).toString(), 'two');
    const [c, d] = cleanup(t, ...socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK));
    assert.ok(isNonBlocking(c.fileno()) && isNonBlocking(d.fileno()));
    assert.equal(c.getBlocking(), false);
    throwsSys(() => c.recv(10), 'EAGAIN', EAGAIN, 'recv');
  });

  test('Linux pairs only AF_UNIX: AF_INET is EOPNOTSUPP; wrong arguments are named', () => {
    // errno 95, EOPNOTSUPP, which Node's table names ENOTSUP (the same number on Linux).
    throwsSys(() => socketpair(AF_INET), 'ENOTSUP', EOPNOTSUPP, 'socketpair');
    throwsArg(() => socketpair('unix'), TypeError, 'family');
    throwsArg(() => socketpair(AF_UNIX, 1.5), RangeError, 'type');
    throwsArg(() => socketpair(99), RangeError, 'family');
  });
});
