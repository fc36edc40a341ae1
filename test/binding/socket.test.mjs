/**
 * Socket: the part of Python's socket.socket that servers need, over real sockets on
 * 127.0.0.1, ::1 and AF_UNIX; and the low-level `sys` path that returns -errno.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import {
  Epoll,
  Socket,
  EtltAddressError,
  sys,
  AF_INET,
  AF_INET6,
  AF_UNIX,
  SOCK_STREAM,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_CLOEXEC,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_RCVBUF,
  SO_LINGER,
  SO_ERROR,
  SO_TYPE,
  IPPROTO_TCP,
  TCP_NODELAY,
  SHUT_RD,
  SHUT_WR,
  SHUT_RDWR,
  MSG_PEEK,
  MSG_NOSIGNAL,
  EPOLLOUT,
  EAGAIN,
  EBADF,
  EINPROGRESS,
  ECONNREFUSED,
  ENOTCONN,
  EISCONN,
  EADDRINUSE,
  EPIPE,
  ECONNRESET,
} from 'etlt';
import {
  cleanup,
  drain,
  expectEvents,
  fdTarget,
  isCloexec,
  isNonBlocking,
  lingerBytes,
  listener,
  noFdLeak,
  retryEagain,
  runNode,
  tcpPair,
  throwsArg,
  throwsSys,
  waitFor,
} from '../lib/util.mjs';

/** A port on 127.0.0.1 where nothing listens (bound, not listening, until the test ends). */
function deadPort(t) {
  const s = cleanup(t, new Socket());
  s.bind(['127.0.0.1', 0]);
  return s.getsockname()[1];
}

/** A unique AF_UNIX path in the temp directory, unlinked after the test. */
function unixPath(t) {
  const path = join(tmpdir(), `etlt-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
  t.after(() => {
    if (existsSync(path)) unlinkSync(path);
  });
  return path;
}

noFdLeak({ warmSpawn: true });

describe('construction', () => {
  test('defaults: AF_INET, SOCK_STREAM, blocking, close-on-exec', (t) => {
    const s = cleanup(t, new Socket());
    assert.equal(s.family, AF_INET);
    assert.equal(s.type, SOCK_STREAM);
    assert.equal(s.proto, 0);
    assert.equal(s.closed, false);
    assert.match(fdTarget(s.fileno()), /^socket:\[\d+\]$/);
    assert.equal(s.getBlocking(), true);
    assert.equal(isNonBlocking(s.fileno()), false);
    assert.equal(isCloexec(s.fileno()), true);
    assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  });

  test('SOCK_NONBLOCK and SOCK_CLOEXEC in type are honoured and not reported in .type', (t) => {
    const s = cleanup(t, new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC));
    assert.equal(s.type, SOCK_STREAM);
    assert.equal(s.getBlocking(), false);
    assert.equal(isCloexec(s.fileno()), true);
    const d = cleanup(t, new Socket(AF_INET, SOCK_DGRAM));
    assert.equal(d.type, SOCK_DGRAM);
    assert.equal(d.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
  });

  test('family, type and proto are validated', () => {
    throwsArg(() => new Socket(12345), RangeError, 'family');
    throwsArg(() => new Socket('inet'), TypeError, 'family');
    throwsArg(() => new Socket(AF_INET, 'stream'), TypeError, 'type');
    throwsArg(() => new Socket(AF_INET, -1), RangeError, 'type');
    throwsArg(() => new Socket(AF_INET, SOCK_STREAM, 1.5), RangeError, 'proto');
  });

  test('Socket.fromFd adopts an fd', (t) => {
    const fd = new Socket().detach();
    const s = cleanup(t, Socket.fromFd(fd));
    assert.equal(s.fileno(), fd);
    s.bind(['127.0.0.1', 0]);
    assert.equal(s.getsockname()[0], '127.0.0.1');
    s.close();
    assert.equal(fdTarget(fd), null);
    throwsArg(() => Socket.fromFd(-1), RangeError, 'fd');
    // The next constructor call creates a new socket again.
    const other = cleanup(t, new Socket());
    assert.match(fdTarget(other.fileno()), /^socket:/);
  });

  test('AF_INET6 over ::1', (t) => {
    const l = cleanup(t, new Socket(AF_INET6));
    try {
      l.bind(['::1', 0]);
    } catch (err) {
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT') return t.skip('no IPv6 loopback');
      throw err;
    }
    l.listen(1);
    const [host, port, flowinfo, scopeId] = l.getsockname();
    assert.equal(host, '::1');
    assert.ok(port > 0);
    assert.equal(flowinfo, 0);
    assert.equal(scopeId, 0);
    const c = cleanup(t, new Socket(AF_INET6));
    c.connect(['::1', port]);
    const [a, addr] = l.accept();
    cleanup(t, a);
    assert.deepEqual(addr, c.getsockname());
    assert.equal(addr[0], '::1');
    assert.deepEqual(c.getpeername(), ['::1', port, 0, 0]);
    assert.equal(a.family, AF_INET6);
    c.sendall('six');
    assert.equal(a.recv(10).toString(), 'six');
    // 'localhost' means ::1 for AF_INET6 (no DNS).
    const c2 = cleanup(t, new Socket(AF_INET6));
    c2.connect(['localhost', port, 0, 0]);
    cleanup(t, l.accept()[0]);
  });

  test('AF_UNIX on a filesystem path', (t) => {
    const path = unixPath(t);
    const l = cleanup(t, new Socket(AF_UNIX));
    l.bind(path);
    l.listen(1);
    assert.equal(l.getsockname(), path);
    assert.ok(existsSync(path));
    const c = cleanup(t, new Socket(AF_UNIX));
    assert.equal(c.getsockname(), '', 'unbound AF_UNIX socket');
    c.connect(path);
    assert.equal(c.getpeername(), path);
    const [a, addr] = l.accept();
    cleanup(t, a);
    assert.equal(addr, '', 'an unnamed peer is reported as an empty string, as in Python');
    assert.equal(a.family, AF_UNIX);
    c.sendall('over unix');
    assert.equal(a.recv(100).toString(), 'over unix');
    // A named peer is reported by its path.
    const cpath = unixPath(t);
    const c2 = cleanup(t, new Socket(AF_UNIX));
    c2.bind(cpath);
    c2.connect(path);
    const [a2, addr2] = l.accept();
    cleanup(t, a2);
    assert.equal(addr2, cpath);
  });

  test('AF_UNIX in the abstract namespace (leading NUL)', (t) => {
    const name = `\0etlt-test-${process.pid}-${randomBytes(4).toString('hex')}`;
    const l = cleanup(t, new Socket(AF_UNIX));
    l.bind(name);
    l.listen(1);
    assert.equal(l.getsockname(), name);
    const c = cleanup(t, new Socket(AF_UNIX));
    c.connect(name);
    assert.equal(c.getpeername(), name);
    const [a, addr] = l.accept();
    cleanup(t, a);
    assert.equal(addr, '');
    const peerName = `${name}-peer`;
    const c2 = cleanup(t, new Socket(AF_UNIX));
    c2.bind(peerName);
    c2.connect(name);
    const [a2, addr2] = l.accept();
    cleanup(t, a2);
    assert.equal(addr2, peerName, 'an abstract peer name keeps its exact length');
    assert.equal(a2.getpeername(), peerName);
  });

  test('AF_UNIX address errors', (t) => {
    const s = cleanup(t, new Socket(AF_UNIX));
    throwsArg(() => s.bind(['127.0.0.1', 0]), TypeError, 'address');
    throwsArg(() => s.bind(42), TypeError, 'address');
    throwsArg(() => s.bind('/tmp/' + 'x'.repeat(200)), RangeError, 'address');
  });
});

describe('blocking mode', () => {
  test('setBlocking and getBlocking', (t) => {
    const s = cleanup(t, new Socket());
    s.setBlocking(false);
    assert.equal(s.getBlocking(), false);
    assert.equal(isNonBlocking(s.fileno()), true);
    s.setBlocking(true);
    assert.equal(s.getBlocking(), true);
    assert.equal(isNonBlocking(s.fileno()), false);
    s.setBlocking(0);
    assert.equal(s.getBlocking(), false);
    s.setBlocking(1);
    assert.equal(s.getBlocking(), true);
    assert.equal(isCloexec(s.fileno()), true, 'other flags kept');
    throwsArg(() => s.setBlocking('no'), TypeError, 'flag');
  });
});

describe('socket options', () => {
  test('SO_REUSEADDR round-trips', (t) => {
    const s = cleanup(t, new Socket());
    assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, false);
    assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, true);
    assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
  });

  test('SO_RCVBUF: Linux doubles what is set', (t) => {
    const s = cleanup(t, new Socket());
    s.setsockopt(SOL_SOCKET, SO_RCVBUF, 16384);
    const small = s.getsockopt(SOL_SOCKET, SO_RCVBUF);
    s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
    const large = s.getsockopt(SOL_SOCKET, SO_RCVBUF);
    assert.equal(small, 2 * 16384);
    assert.equal(large, 2 * 65536);
  });

  test('TCP_NODELAY', (t) => {
    const { client } = tcpPair(t);
    assert.equal(client.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
    client.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    assert.equal(client.getsockopt(IPPROTO_TCP, TCP_NODELAY), 1);
    client.setsockopt(IPPROTO_TCP, TCP_NODELAY, 0);
    assert.equal(client.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
  });

  test('SO_LINGER as raw bytes', (t) => {
    const s = cleanup(t, new Socket());
    assert.deepEqual(s.getsockopt(SOL_SOCKET, SO_LINGER, 8), lingerBytes(0, 0));
    s.setsockopt(SOL_SOCKET, SO_LINGER, lingerBytes(1, 7));
    const got = s.getsockopt(SOL_SOCKET, SO_LINGER, 8);
    assert.ok(Buffer.isBuffer(got));
    assert.deepEqual(got, lingerBytes(1, 7));
    // A longer buffer comes back trimmed to the option's length.
    assert.equal(s.getsockopt(SOL_SOCKET, SO_LINGER, 64).length, 8);
    // Off again (Linux keeps the old l_linger when l_onoff is 0).
    s.setsockopt(SOL_SOCKET, SO_LINGER, new Uint32Array([0, 0]));
    assert.equal(s.getsockopt(SOL_SOCKET, SO_LINGER, 8).readInt32LE(0), 0);
  });

  test('SO_ERROR: 0, then ECONNREFUSED after a refused non-blocking connect', async (t) => {
    const port = deadPort(t);
    const s = cleanup(t, new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK));
    assert.equal(s.getsockopt(SOL_SOCKET, SO_ERROR), 0);
    const r = s.connectEx(['127.0.0.1', port]);
    assert.ok(r === EINPROGRESS || r === ECONNREFUSED, `connectEx gave ${r}`);
    if (r === EINPROGRESS) {
      const ep = cleanup(t, new Epoll());
      ep.register(s, EPOLLOUT);
      expectEvents(ep, [[s.fileno(), EPOLLOUT]]);
      assert.equal(s.getsockopt(SOL_SOCKET, SO_ERROR), ECONNREFUSED);
    }
    assert.equal(s.getsockopt(SOL_SOCKET, SO_ERROR), 0);
  });

  test('option errors', (t) => {
    const s = cleanup(t, new Socket());
    throwsSys(() => s.getsockopt(SOL_SOCKET, 9999), 'ENOPROTOOPT', 92, 'getsockopt');
    throwsSys(() => s.setsockopt(SOL_SOCKET, 9999, 1), 'ENOPROTOOPT', 92, 'setsockopt');
    throwsArg(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 'yes'), TypeError, 'value');
    throwsArg(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, null), TypeError, 'value');
    throwsArg(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, [1]), TypeError, 'value');
    throwsArg(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1.5), RangeError, 'value');
    throwsArg(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 2 ** 31), RangeError, 'value');
    throwsArg(() => s.setsockopt('1', SO_REUSEADDR, 1), TypeError, 'level');
    throwsArg(() => s.getsockopt(SOL_SOCKET, 'x'), TypeError, 'option');
    throwsArg(() => s.getsockopt(SOL_SOCKET, SO_LINGER, 0), RangeError, 'buflen');
    throwsArg(() => s.getsockopt(SOL_SOCKET, SO_LINGER, 2000), RangeError, 'buflen');
  });

  test('an option buffer of 4 GiB or more keeps its length (it once wrapped modulo 2**32 in socklen_t)', async (t) => {
    // The pages are never touched: the kernel reads or writes the first 4 bytes only.
    const { native } = await import('../../dist/src/binding/index.js');
    const s = cleanup(t, new Socket());
    const huge = new Uint8Array(2 ** 32); // its length was passed as 0: EINVAL
    huge[0] = 1;
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, huge);
    assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
    const out = new Uint32Array(2 ** 30 + 1); // 2**32 + 4 bytes: was passed as 4
    out[0] = 0xdeadbeef;
    assert.equal(native.getsockopt(s.fileno(), SOL_SOCKET, SO_TYPE, huge), 4); // was 0, nothing written
    assert.equal(new DataView(huge.buffer).getInt32(0, true), SOCK_STREAM);
    assert.equal(native.getsockopt(s.fileno(), SOL_SOCKET, SO_TYPE, out), 4);
    assert.equal(out[0], SOCK_STREAM);
  });
});

describe('bind, listen, connect, accept', () => {
  test('bind to port 0 picks a port; getsockname reports it', (t) => {
    const s = cleanup(t, new Socket());
    assert.deepEqual(s.getsockname(), ['0.0.0.0', 0]);
    s.bind(['127.0.0.1', 0]);
    const [host, port] = s.getsockname();
    assert.equal(host, '127.0.0.1');
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
  });

  test('a port in use: EADDRINUSE', (t) => {
    const l = listener(t);
    const s = cleanup(t, new Socket());
    throwsSys(() => s.bind(l.getsockname()), 'EADDRINUSE', EADDRINUSE, 'bind');
  });

  test('address errors: RangeError, ERR_ETLT_ADDRESS, TypeError', (t) => {
    const s = cleanup(t, new Socket());
    throwsArg(() => s.bind(['127.0.0.1', 70000]), RangeError, 'port');
    throwsArg(() => s.bind(['127.0.0.1', -1]), RangeError, 'port');
    throwsArg(() => s.connect(['127.0.0.1', 70000]), RangeError, 'port');
    throwsArg(() => s.bind(['127.0.0.1', '80']), TypeError, 'port');
    for (const host of ['example.com', '::1', '1.2.3', '127.0.0.1 ']) {
      assert.throws(
        () => s.bind([host, 0]),
        (err) => {
          assert.ok(err instanceof EtltAddressError);
          assert.equal(err.code, 'ERR_ETLT_ADDRESS');
          assert.ok(err.message.includes(host));
          return true;
        },
        host,
      );
    }
    assert.throws(() => s.connect(['example.com', 80]), { code: 'ERR_ETLT_ADDRESS' });
    assert.equal(s.connectEx !== undefined, true);
    assert.throws(() => s.connectEx(['example.com', 80]), { code: 'ERR_ETLT_ADDRESS' });
    for (const bad of ['127.0.0.1', 8080, ['127.0.0.1'], [8080, '127.0.0.1'], {}, null, undefined]) {
      throwsArg(() => s.bind(bad), TypeError, 'address');
    }
    // Named hosts that need no DNS.
    s.bind(['localhost', 0]);
    assert.equal(s.getsockname()[0], '127.0.0.1');
    const any = cleanup(t, new Socket());
    any.bind(['', 0]);
    assert.equal(any.getsockname()[0], '0.0.0.0');
  });

  test('blocking connect and accept -> [Socket, address]', (t) => {
    const l = listener(t);
    const c = cleanup(t, new Socket());
    c.connect(l.getsockname());
    const result = l.accept();
    assert.ok(Array.isArray(result) && result.length === 2);
    const [a, addr] = result;
    cleanup(t, a);
    assert.ok(a instanceof Socket);
    assert.deepEqual(addr, c.getsockname());
    assert.equal(addr[0], '127.0.0.1');
    assert.deepEqual(a.getpeername(), c.getsockname());
    assert.deepEqual(c.getpeername(), l.getsockname());
    assert.deepEqual(a.getsockname(), l.getsockname());
    assert.equal(a.getBlocking(), true, 'accepted sockets are blocking');
    assert.equal(isCloexec(a.fileno()), true);
    assert.equal(a.family, AF_INET);
    assert.equal(a.type, SOCK_STREAM);
    // Even from a non-blocking listener.
    l.setBlocking(false);
    const c2 = cleanup(t, new Socket());
    c2.connect(l.getsockname());
    const [a2] = l.accept();
    cleanup(t, a2);
    assert.equal(a2.getBlocking(), true);
  });

  test('non-blocking accept with nothing pending: EAGAIN', (t) => {
    const l = listener(t, { nonBlocking: true });
    throwsSys(() => l.accept(), 'EAGAIN', EAGAIN, 'accept4');
  });

  test('non-blocking connect: EINPROGRESS, then writable and connected', (t) => {
    const l = listener(t);
    const c = cleanup(t, new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK));
    throwsSys(() => c.connect(l.getsockname()), 'EINPROGRESS', EINPROGRESS, 'connect');
    const ep = cleanup(t, new Epoll());
    ep.register(c, EPOLLOUT);
    expectEvents(ep, [[c.fileno(), EPOLLOUT]]);
    assert.equal(c.getsockopt(SOL_SOCKET, SO_ERROR), 0);
    assert.deepEqual(c.getpeername(), l.getsockname());
    cleanup(t, l.accept()[0]);
  });

  test('connectEx returns 0 or the errno', (t) => {
    const l = listener(t);
    const c = cleanup(t, new Socket());
    assert.equal(c.connectEx(l.getsockname()), 0);
    assert.equal(c.connectEx(l.getsockname()), EISCONN);
    const nb = cleanup(t, new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK));
    assert.equal(nb.connectEx(l.getsockname()), EINPROGRESS);
    const refused = cleanup(t, new Socket());
    assert.equal(refused.connectEx(['127.0.0.1', deadPort(t)]), ECONNREFUSED);
  });

  test('a refused blocking connect throws ECONNREFUSED', (t) => {
    const c = cleanup(t, new Socket());
    throwsSys(() => c.connect(['127.0.0.1', deadPort(t)]), 'ECONNREFUSED', ECONNREFUSED, 'connect');
  });

  test('listen validates the backlog', (t) => {
    const s = cleanup(t, new Socket());
    throwsArg(() => s.listen(-1), RangeError, 'backlog');
    throwsArg(() => s.listen('5'), TypeError, 'backlog');
    s.bind(['127.0.0.1', 0]);
    s.listen();
  });

  test('getpeername on an unconnected socket: ENOTCONN', (t) => {
    const s = cleanup(t, new Socket());
    throwsSys(() => s.getpeername(), 'ENOTCONN', ENOTCONN, 'getpeername');
    s.bind(['127.0.0.1', 0]);
    throwsSys(() => s.getpeername(), 'ENOTCONN', ENOTCONN, 'getpeername');
  });
});

describe('data', () => {
  test('send and recv, strings as UTF-8', (t) => {
    const { client, server } = tcpPair(t);
    assert.equal(client.send('héllo'), 6);
    assert.equal(server.recv(100).toString(), 'héllo');
    assert.equal(client.send(new Uint16Array([0x4241, 0x4443])), 4);
    assert.equal(server.recv(100).toString('latin1'), 'ABCD');
    const pooled = Buffer.from('xxDVyy');
    const view = new DataView(pooled.buffer, pooled.byteOffset + 2, 2);
    assert.equal(client.send(view), 2);
    assert.equal(server.recv(100).toString(), 'DV');
    throwsArg(() => client.send(42), TypeError, 'data');
    throwsArg(() => server.recv(-1), RangeError, 'bufsize');
    throwsArg(() => server.recv('1'), TypeError, 'bufsize');
  });

  test('recv returns at most bufsize bytes, and MSG_PEEK leaves them', (t) => {
    const { client, server } = tcpPair(t);
    client.sendall('abcdef');
    assert.equal(server.recv(3, MSG_PEEK).toString(), 'abc');
    assert.equal(server.recv(3).toString(), 'abc');
    const rest = server.recv(100);
    assert.ok(Buffer.isBuffer(rest));
    assert.equal(rest.toString(), 'def');
  });

  test('recv returns an empty Buffer at EOF', (t) => {
    const { client, server } = tcpPair(t);
    client.sendall('last');
    client.shutdown(SHUT_WR);
    assert.equal(server.recv(100).toString(), 'last');
    const eof = server.recv(100);
    assert.ok(Buffer.isBuffer(eof));
    assert.equal(eof.length, 0);
    assert.equal(server.recvInto(Buffer.alloc(4)), 0);
  });

  test('recvInto(buffer, nbytes)', (t) => {
    const { client, server } = tcpPair(t);
    client.sendall('abcdefghij');
    const buf = Buffer.alloc(8, '.');
    assert.equal(server.recvInto(buf, 3), 3);
    assert.equal(buf.toString(), 'abc.....');
    assert.equal(server.recvInto(buf), 7, 'nbytes 0 means the whole buffer');
    assert.equal(buf.toString(), 'defghij.');
    client.sendall('KLMN');
    const ab = new ArrayBuffer(8);
    const view = new DataView(ab, 2, 4);
    assert.equal(server.recvInto(view, 2), 2);
    assert.deepEqual([...new Uint8Array(ab)], [0, 0, 0x4b, 0x4c, 0, 0, 0, 0]);
    const u8 = new Uint8Array(4);
    assert.equal(server.recvInto(u8), 2);
    assert.deepEqual([...u8], [0x4d, 0x4e, 0, 0]);
    throwsArg(() => server.recvInto(buf, 9), RangeError, 'nbytes');
    throwsArg(() => server.recvInto(buf, -1), RangeError, 'nbytes');
    throwsArg(() => server.recvInto('buffer'), TypeError, 'buffer');
    throwsArg(() => server.recvInto([0, 0]), TypeError, 'buffer');
  });

  test('a non-blocking call that would block: EAGAIN', (t) => {
    const { client, server } = tcpPair(t, { nonBlocking: true });
    throwsSys(() => server.recv(10), 'EAGAIN', EAGAIN, 'recv');
    throwsSys(() => server.recvInto(Buffer.alloc(4)), 'EAGAIN', EAGAIN, 'recv');
    const chunk = Buffer.alloc(1 << 16);
    let sent = 0;
    assert.throws(
      () => {
        for (let i = 0; i < 10000; i++) sent += client.send(chunk);
      },
      (err) => {
        assert.equal(err.code, 'EAGAIN');
        assert.equal(err.errno, -EAGAIN);
        assert.equal(err.syscall, 'send');
        return true;
      },
    );
    assert.ok(sent > 0);
  });

  test('sendall on a non-blocking socket throws EAGAIN with bytesSent, and those bytes arrive', async (t) => {
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const payload = randomBytes(16 << 20);
    let bytesSent = -1;
    assert.throws(
      () => client.sendall(payload),
      (err) => {
        assert.equal(err.code, 'EAGAIN');
        bytesSent = err.bytesSent;
        return true;
      },
    );
    assert.ok(Number.isInteger(bytesSent) && bytesSent > 0 && bytesSent < payload.length, `bytesSent ${bytesSent}`);
    const parts = [];
    let got = 0;
    await waitFor(
      () => {
        const b = drain(server);
        parts.push(b);
        got += b.length;
        return got >= bytesSent;
      },
      { message: `${bytesSent} bytes` },
    );
    assert.equal(got, bytesSent);
    assert.ok(Buffer.concat(parts).equals(payload.subarray(0, bytesSent)));
  });

  test('sendall of 8 MiB on a blocking socket to a reader in another process', async (t) => {
    const l = listener(t, { nonBlocking: true });
    const child = runNode(
      `
      import net from 'node:net';
      import { createHash } from 'node:crypto';
      const s = net.connect(Number(process.argv[1]), '127.0.0.1');
      const h = createHash('sha256');
      let n = 0;
      s.on('data', (d) => { h.update(d); n += d.length; });
      s.on('end', () => s.end(n + ' ' + h.digest('hex')));
      s.on('error', (e) => { console.error(e); process.exit(2); });
      setTimeout(() => process.exit(3), 15000).unref();
    `,
      { args: [String(l.getsockname()[1])], timeout: 20000 },
    );
    const [server] = await retryEagain(() => l.accept(), { timeout: 5000, message: 'the reader to connect' });
    cleanup(t, server);
    assert.equal(server.getBlocking(), true);
    const payload = randomBytes(8 << 20);
    server.sendall(payload);
    server.shutdown(SHUT_WR);
    server.setBlocking(false);
    const reply = [];
    await waitFor(
      () => {
        for (;;) {
          let b;
          try {
            b = server.recv(4096);
          } catch (err) {
            if (err.code === 'EAGAIN') return false;
            throw err;
          }
          if (b.length === 0) return true;
          reply.push(b);
        }
      },
      { timeout: 15000, message: 'the reader to answer' },
    );
    const expected = `${payload.length} ${createHash('sha256').update(payload).digest('hex')}`;
    assert.equal(Buffer.concat(reply).toString(), expected);
    const { code, stderr } = await child;
    assert.equal(code, 0, stderr);
  });

  test('shutdown(SHUT_RD/SHUT_WR/SHUT_RDWR) and its errors', (t) => {
    const { client, server } = tcpPair(t);
    client.shutdown(SHUT_WR);
    assert.equal(server.recv(10).length, 0);
    server.sendall('one way');
    assert.equal(client.recv(10).toString(), 'one way');
    client.shutdown(SHUT_RD);
    server.shutdown(SHUT_RDWR);
    throwsArg(() => client.shutdown(3), RangeError, 'how');
    throwsArg(() => client.shutdown('SHUT_WR'), TypeError, 'how');
    const unconnected = cleanup(t, new Socket());
    throwsSys(() => unconnected.shutdown(SHUT_RDWR), 'ENOTCONN', ENOTCONN, 'shutdown');
  });

  test('sending to a closed peer: EPIPE or ECONNRESET, and the process lives on', async (t) => {
    const { client, server } = tcpPair(t);
    server.close();
    let code;
    await waitFor(
      () => {
        try {
          client.send('are you there?');
          return false;
        } catch (err) {
          code = err.code;
          return true;
        }
      },
      { message: 'send to fail' },
    );
    assert.ok(code === 'EPIPE' || code === 'ECONNRESET', code);
  });

  test('no SIGPIPE even where SIGPIPE kills (child process with the default action)', async () => {
    // Node ignores SIGPIPE; adding then removing a listener restores the default action (terminate).
    const script = (raw) => `
      import { Socket, sys } from 'etlt';
      const f = () => {};
      process.on('SIGPIPE', f);
      process.off('SIGPIPE', f);
      const l = new Socket();
      l.bind(['127.0.0.1', 0]);
      l.listen(1);
      const c = new Socket();
      c.connect(l.getsockname());
      const [a] = l.accept();
      l.close();
      a.close();
      const data = Buffer.alloc(1024);
      let code = null;
      const deadline = Date.now() + 3000;
      while (code === null && Date.now() < deadline) {
        ${
          raw
            ? 'const r = sys.send(c.fileno(), data, 0, data.length, 0); if (r < 0) code = r;'
            : 'try { c.send(data); } catch (e) { code = e.code; }'
        }
      }
      console.log(JSON.stringify({ code }));
    `;
    const [safe, control] = await Promise.all([runNode(script(false)), runNode(script(true))]);
    assert.equal(safe.signal, null, `killed by ${safe.signal}`);
    assert.equal(safe.code, 0, safe.stderr);
    const { code } = JSON.parse(safe.stdout);
    assert.ok(code === 'EPIPE' || code === 'ECONNRESET', code);
    // The control sends without MSG_NOSIGNAL: it dies of SIGPIPE, so the harness can tell.
    assert.equal(control.signal, 'SIGPIPE', `control: code ${control.code} ${control.stdout} ${control.stderr}`);
  });
});

describe('close', () => {
  test('close() twice is fine; fileno() is -1 after; the fd is released', (t) => {
    const { client } = tcpPair(t);
    const fd = client.fileno();
    client.close();
    assert.equal(client.fileno(), -1);
    assert.equal(client.closed, true);
    assert.equal(fdTarget(fd), null);
    client.close();
    assert.equal(client.fileno(), -1);
  });

  test('[Symbol.dispose]() closes', () => {
    const s = new Socket();
    const fd = s.fileno();
    s[Symbol.dispose]();
    assert.equal(s.fileno(), -1);
    assert.equal(fdTarget(fd), null);
  });

  test('calls on a closed socket fail with EBADF, as in Python', () => {
    const s = new Socket();
    s.close();
    throwsSys(() => s.send('x'), 'EBADF', EBADF, 'send');
    throwsSys(() => s.sendall('x'), 'EBADF', EBADF, 'send');
    throwsSys(() => s.recv(1), 'EBADF', EBADF, 'recv');
    throwsSys(() => s.bind(['127.0.0.1', 0]), 'EBADF', EBADF, 'bind');
    throwsSys(() => s.listen(), 'EBADF', EBADF, 'listen');
    throwsSys(() => s.accept(), 'EBADF', EBADF, 'accept4');
    throwsSys(() => s.connect(['127.0.0.1', 1]), 'EBADF', EBADF, 'connect');
    assert.equal(s.connectEx(['127.0.0.1', 1]), EBADF);
    throwsSys(() => s.getsockname(), 'EBADF', EBADF, 'getsockname');
    throwsSys(() => s.getpeername(), 'EBADF', EBADF, 'getpeername');
    throwsSys(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1), 'EBADF', EBADF, 'setsockopt');
    throwsSys(() => s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 'EBADF', EBADF, 'getsockopt');
    throwsSys(() => s.setBlocking(false), 'EBADF', EBADF, 'fcntl');
    throwsSys(() => s.getBlocking(), 'EBADF', EBADF, 'fcntl');
    throwsSys(() => s.shutdown(SHUT_RDWR), 'EBADF', EBADF, 'shutdown');
  });
});

describe('sys: -errno instead of exceptions', () => {
  test('accept4(fd, null, SOCK_NONBLOCK | SOCK_CLOEXEC)', async (t) => {
    const l = listener(t, { nonBlocking: true });
    assert.equal(sys.accept4(l.fileno(), null, SOCK_NONBLOCK | SOCK_CLOEXEC), -EAGAIN);
    const c = cleanup(t, new Socket());
    c.connect(l.getsockname());
    const fd = await waitFor(() => {
      const r = sys.accept4(l.fileno(), null, SOCK_NONBLOCK | SOCK_CLOEXEC);
      return r === -EAGAIN ? false : r;
    });
    assert.ok(fd >= 0, `accept4 gave ${fd}`);
    const a = cleanup(t, Socket.fromFd(fd));
    assert.equal(isNonBlocking(fd), true);
    assert.equal(isCloexec(fd), true);
    assert.deepEqual(a.getpeername(), c.getsockname());
    assert.equal(sys.accept4(l.fileno(), undefined, 0), -EAGAIN);
    assert.throws(() => sys.accept4(l.fileno(), Buffer.alloc(8), 0), RangeError);
    assert.throws(() => sys.accept4(l.fileno(), 'x', 0), TypeError);
    assert.equal(sys.accept4(a.fileno(), null, 0), -22 /* EINVAL: not listening */);
  });

  test('send and recv at an offset, EAGAIN as a value', (t) => {
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const out = Buffer.from('--HELLO--');
    assert.equal(sys.send(client.fileno(), out, 2, 5, MSG_NOSIGNAL), 5);
    const into = Buffer.alloc(10, '.');
    let n = -EAGAIN;
    const deadline = performance.now() + 2000;
    while (n === -EAGAIN && performance.now() < deadline) n = sys.recv(server.fileno(), into, 3, 6, 0);
    assert.equal(n, 5);
    assert.equal(into.toString(), '...HELLO..');
    assert.equal(sys.recv(server.fileno(), into, 0, 10, 0), -EAGAIN);
    // A Uint8Array view at an offset of its ArrayBuffer.
    const ab = new ArrayBuffer(16);
    const view = new Uint8Array(ab, 4, 8);
    assert.equal(sys.send(client.fileno(), Buffer.from('xy'), 0, 2, MSG_NOSIGNAL), 2);
    n = -EAGAIN;
    while (n === -EAGAIN && performance.now() < deadline) n = sys.recv(server.fileno(), view, 1, 7, 0);
    assert.equal(n, 2);
    assert.deepEqual([...new Uint8Array(ab)].slice(0, 8), [0, 0, 0, 0, 0, 0x78, 0x79, 0]);
  });

  test('shutdown and close return 0, then -EBADF', () => {
    // Detached: the Socket object no longer owns the number, so collecting it never closes a reused fd.
    const fd = new Socket().detach();
    assert.equal(sys.shutdown(fd, SHUT_RDWR), -ENOTCONN);
    assert.equal(sys.close(fd), 0);
    assert.equal(sys.close(fd), -EBADF);
    assert.equal(sys.recv(fd, Buffer.alloc(4), 0, 4, 0), -EBADF);
    assert.equal(sys.send(fd, Buffer.alloc(4), 0, 4, MSG_NOSIGNAL), -EBADF);
  });

  test('send to a reset peer returns -EPIPE or -ECONNRESET', async (t) => {
    const { client, server } = tcpPair(t);
    server.close();
    const data = Buffer.alloc(100);
    const r = await waitFor(() => {
      const n = sys.send(client.fileno(), data, 0, 100, MSG_NOSIGNAL);
      return n < 0 ? n : false;
    });
    assert.ok(r === -EPIPE || r === -ECONNRESET, String(r));
  });

  test('out-of-range offset or length: RangeError, never a crash', (t) => {
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const buf = Buffer.alloc(8);
    for (const fn of [sys.recv, sys.send]) {
      const fd = fn === sys.recv ? server.fileno() : client.fileno();
      assert.throws(() => fn(fd, buf, 9, 0, 0), RangeError);
      assert.throws(() => fn(fd, buf, 0, 9, 0), RangeError);
      assert.throws(() => fn(fd, buf, 4, 5, 0), RangeError);
      assert.throws(() => fn(fd, buf, -1, 2, 0), RangeError);
      assert.throws(() => fn(fd, buf, 0, -1, 0), RangeError);
      assert.throws(() => fn(fd, buf, 2 ** 31, 1, 0), RangeError);
      assert.throws(() => fn(fd, new Uint8Array(new ArrayBuffer(16), 8, 4), 2, 3, 0), RangeError);
      assert.throws(() => fn(fd, 'not a buffer', 0, 1, 0), TypeError);
      assert.throws(() => fn(fd, buf, '0', 1, 0), TypeError);
    }
    // Typed arrays count in bytes: a Uint32Array of 2 holds 8.
    assert.equal(sys.send(client.fileno(), new Uint32Array(2), 0, 8, MSG_NOSIGNAL), 8);
    assert.throws(() => sys.send(client.fileno(), new Uint32Array(2), 0, 9, MSG_NOSIGNAL), RangeError);
  });

  /** Reads from a non-blocking socket until `n` bytes have come. */
  async function readExactly(sock, n) {
    const parts = [];
    let got = 0;
    await waitFor(
      () => {
        const b = drain(sock);
        parts.push(b);
        got += b.length;
        return got >= n;
      },
      { message: `${n} bytes` },
    );
    return Buffer.concat(parts);
  }

  /** The bytes of a TypedArray view, as the kernel sees them. */
  const bytesOf = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

  test('sendmsg: the first `count` buffers arrive in order, as one byte stream', async (t) => {
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const odd = new Uint8Array(new ArrayBuffer(16), 3, 5).fill(0x45); // a view at an odd offset
    const buffers = [
      Buffer.from('HTTP/1.1 200 OK\r\n\r\n'),
      new Uint16Array([0x4443, 0x4645]), // byte lengths: 4 bytes, 'CDEF' on little-endian
      Buffer.alloc(0),
      odd,
      new Float64Array([1.5]),
      Buffer.from('not sent: past count'),
    ];
    const expected = Buffer.concat(buffers.slice(0, 5).map(bytesOf));
    assert.equal(expected.length, 19 + 4 + 0 + 5 + 8);
    assert.equal(sys.sendmsg(client.fileno(), buffers, 5, MSG_NOSIGNAL), expected.length);
    const got = await readExactly(server, expected.length);
    assert.ok(got.equals(expected), got.toString('hex'));
    assert.equal(sys.recv(server.fileno(), Buffer.alloc(8), 0, 8, 0), -EAGAIN, 'nothing past count');
    // More iovecs than fit on the stack (64), up to IOV_MAX (1024): each a distinct byte.
    for (const n of [65, 1024]) {
      const many = Array.from({ length: n }, (_, i) => Buffer.from([i & 0xff, (i >> 8) + 0x30]));
      const want = Buffer.concat(many);
      assert.equal(sys.sendmsg(client.fileno(), many, n, MSG_NOSIGNAL), want.length);
      assert.ok((await readExactly(server, want.length)).equals(want), `${n} iovecs`);
    }
  });

  test('sendmsg on a full non-blocking socket: a short count, then -EAGAIN, and exactly those bytes arrive', async (t) => {
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const buffers = [randomBytes(100000), randomBytes(150000), randomBytes(50000)];
    const whole = Buffer.concat(buffers);
    const sent = [];
    let r = 0;
    for (let i = 0; i < 1000 && r !== -EAGAIN; i++) {
      r = sys.sendmsg(client.fileno(), buffers, 3, MSG_NOSIGNAL);
      if (r >= 0) sent.push(r);
    }
    assert.equal(r, -EAGAIN);
    assert.ok(EAGAIN > 0);
    assert.ok(
      sent.some((n) => n > 0 && n < whole.length),
      `a short count among ${sent}`,
    );
    assert.ok(
      sent.every((n) => n > 0 && n <= whole.length),
      String(sent),
    );
    const expected = Buffer.concat(sent.map((n) => whole.subarray(0, n)));
    const got = await readExactly(server, expected.length);
    assert.equal(got.length, expected.length);
    assert.ok(got.equals(expected), 'each call sent a prefix of the iovecs, in order');
  });

  test('sendmsg to a closed peer: -EPIPE (after at most one -ECONNRESET), no SIGPIPE', async (t) => {
    const { client, server } = tcpPair(t);
    server.close();
    const data = [Buffer.alloc(100, 1), Buffer.alloc(100, 2)];
    const seen = [];
    await waitFor(
      () => {
        const n = sys.sendmsg(client.fileno(), data, 2, MSG_NOSIGNAL);
        if (n < 0) seen.push(n);
        return n === -EPIPE;
      },
      { message: `-EPIPE (got ${seen})` },
    );
    assert.ok(
      seen.slice(0, -1).every((n) => n === -ECONNRESET),
      String(seen),
    );
    assert.equal(sys.sendmsg(-1, data, 2, MSG_NOSIGNAL), -EBADF);
  });

  test('sendmsg with MSG_NOSIGNAL survives where SIGPIPE kills; without it, SIGPIPE (child processes)', async () => {
    const script = (flags) => `
      import { Socket, sys, MSG_NOSIGNAL } from 'etlt';
      const f = () => {};
      process.on('SIGPIPE', f);
      process.off('SIGPIPE', f); // the default action again: terminate
      const l = new Socket();
      l.bind(['127.0.0.1', 0]);
      l.listen(1);
      const c = new Socket();
      c.connect(l.getsockname());
      const [a] = l.accept();
      l.close();
      a.close();
      const data = [Buffer.alloc(512), Buffer.alloc(512)];
      let code = null;
      const deadline = Date.now() + 3000;
      while (code === null && Date.now() < deadline) {
        const r = sys.sendmsg(c.fileno(), data, 2, ${flags});
        if (r < 0) code = r;
      }
      console.log(JSON.stringify({ code }));
    `;
    const [safe, control] = await Promise.all([runNode(script('MSG_NOSIGNAL')), runNode(script('0'))]);
    assert.equal(safe.signal, null, `killed by ${safe.signal}`);
    assert.equal(safe.code, 0, safe.stderr);
    const { code } = JSON.parse(safe.stdout);
    assert.ok(code === -EPIPE || code === -ECONNRESET, String(code));
    assert.equal(control.signal, 'SIGPIPE', `control: code ${control.code} ${control.stdout} ${control.stderr}`);
  });

  test('sendmsg argument errors: TypeError or RangeError naming the argument, nothing sent', async (t) => {
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const fd = client.fileno();
    const b = Buffer.from('x');
    const named = (fn, Type, name) =>
      assert.throws(fn, (err) => {
        assert.equal(err.constructor, Type, `${Type.name} expected: ${err}`);
        assert.equal(err.code, Type === TypeError ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE');
        assert.ok(err.message.includes(`"${name}"`), `the message should name "${name}": ${err.message}`);
        return true;
      });
    named(() => sys.sendmsg('3', [b], 1, 0), TypeError, 'fd');
    named(() => sys.sendmsg(fd, b, 1, 0), TypeError, 'buffers'); // a Buffer, not an array of them
    named(() => sys.sendmsg(fd, 'x', 1, 0), TypeError, 'buffers');
    named(() => sys.sendmsg(fd, { length: 1, 0: b }, 1, 0), TypeError, 'buffers');
    named(() => sys.sendmsg(fd, new Proxy([b], {}), 1, 0), TypeError, 'buffers');
    named(() => sys.sendmsg(fd, [b, 'y'], 2, 0), TypeError, 'buffers[1]');
    named(() => sys.sendmsg(fd, [b, b, new DataView(new ArrayBuffer(1))], 3, 0), TypeError, 'buffers[2]');
    named(() => sys.sendmsg(fd, [[1, 2]], 1, 0), TypeError, 'buffers[0]');
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    named(() => sys.sendmsg(fd, [, b], 2, 0), TypeError, 'buffers[0]');
    named(() => sys.sendmsg(fd, [b], '1', 0), TypeError, 'count');
    named(() => sys.sendmsg(fd, [b], 0, 0), RangeError, 'count');
    named(() => sys.sendmsg(fd, [b], -1, 0), RangeError, 'count');
    named(() => sys.sendmsg(fd, [b], 1.5, 0), RangeError, 'count');
    named(() => sys.sendmsg(fd, [b, b], 3, 0), RangeError, 'count'); // count > buffers.length
    named(() => sys.sendmsg(fd, [], 1, 0), RangeError, 'count');
    named(() => sys.sendmsg(fd, Array(1025).fill(b), 1025, 0), RangeError, 'count'); // IOV_MAX is 1024
    named(() => sys.sendmsg(fd, [b], 1, 'x'), TypeError, 'flags');
    named(() => sys.sendmsg(fd, [b], 1, 2 ** 31), RangeError, 'flags');
    const boom = new Error('boom from a getter');
    const throwing = [b];
    Object.defineProperty(throwing, 1, {
      get() {
        throw boom;
      },
    });
    assert.throws(
      () => sys.sendmsg(fd, throwing, 2, 0),
      (err) => err === boom,
    );
    await delay(20);
    assert.equal(sys.recv(server.fileno(), Buffer.alloc(8), 0, 8, 0), -EAGAIN, 'none of these sent a byte');
    // Only the first `count` elements are looked at.
    assert.equal(sys.sendmsg(fd, [b, 'not a buffer'], 1, MSG_NOSIGNAL), 1);
    assert.equal((await readExactly(server, 1)).toString(), 'x');
  });

  test('sendmsg takes the pointers after every getter ran: a buffer detached by a later element is sent empty', async (t) => {
    const { client, server } = tcpPair(t, { nonBlocking: true });
    const first = new Uint8Array(Buffer.from('FIRST-'));
    const buffers = [first];
    Object.defineProperty(buffers, 1, {
      get() {
        structuredClone(first.buffer, { transfer: [first.buffer] }); // detaches `first`
        return Buffer.from('second');
      },
    });
    assert.equal(sys.sendmsg(client.fileno(), buffers, 2, MSG_NOSIGNAL), 6);
    assert.equal(first.byteLength, 0);
    assert.equal((await readExactly(server, 6)).toString(), 'second');
    await delay(20);
    assert.equal(sys.recv(server.fileno(), Buffer.alloc(8), 0, 8, 0), -EAGAIN);
  });
});
