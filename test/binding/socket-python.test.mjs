/**
 * The socket pieces added for Python programmers, against CPython's Lib/test/test_socket.py
 * (each test named after the case it ports): repr, settimeout/gettimeout, SOCK_DGRAM with
 * sendto/recvfrom/recvfrom_into, create_connection and create_server; and the UDP echo
 * example answering Python's own socket client.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { inspect } from 'node:util';
import { describe, test } from 'node:test';

import {
  Socket,
  create_connection,
  create_server,
  AF_INET,
  AF_INET6,
  AF_UNIX,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  ECONNREFUSED,
  ETIMEDOUT,
  EAGAIN,
} from 'etlt';
import * as socketSubpath from 'etlt/socket';
import { ROOT } from '../lib/http.mjs';
import { cleanup, isNonBlocking, listener, noFdLeak, tcpPair, throwsArg, throwsSys, waitFor } from '../lib/util.mjs';

const udp = (t, family = AF_INET) => {
  const s = new Socket(family, SOCK_DGRAM);
  cleanup(t, s);
  s.bind([family === AF_INET ? '127.0.0.1' : '::1', 0]);
  return s;
};

describe('socket repr (test_socket GeneralModuleTests.test_repr)', () => {
  noFdLeak();

  test('test_repr: fd, family, type, proto; laddr once bound; [closed] after close', (t) => {
    const s = new Socket(AF_INET, SOCK_STREAM);
    cleanup(t, s);
    const fd = s.fileno();
    // Linux gives an unbound INET socket the name 0.0.0.0:0, which Python shows too.
    assert.equal(String(s), `<socket.socket fd=${fd}, family=2, type=1, proto=0, laddr=('0.0.0.0', 0)>`);
    s.bind(['127.0.0.1', 0]);
    const port = s.getsockname()[1];
    assert.equal(inspect(s), `<socket.socket fd=${fd}, family=2, type=1, proto=0, laddr=('127.0.0.1', ${port})>`);
    assert.equal(`${s}`, inspect(s));
    s.close();
    assert.equal(String(s), '<socket.socket [closed] fd=-1, family=2, type=1, proto=0>');
  });

  test('a connected socket shows raddr; IPv6 and AF_UNIX addresses as Python prints them', (t) => {
    const { client, server } = tcpPair(t);
    const [, lport] = client.getsockname();
    const [, rport] = client.getpeername();
    assert.match(
      String(client),
      new RegExp(`laddr=\\('127\\.0\\.0\\.1', ${lport}\\), raddr=\\('127\\.0\\.0\\.1', ${rport}\\)>$`),
    );
    assert.match(inspect({ server }), /server: <socket\.socket fd=\d+/);
    const six = udp(t, AF_INET6);
    assert.match(
      String(six),
      new RegExp(`family=10, type=2, proto=0, laddr=\\('::1', ${six.getsockname()[1]}, 0, 0\\)>$`),
    );
    const unix = new Socket(AF_UNIX, SOCK_STREAM);
    cleanup(t, unix);
    assert.equal(String(unix), `<socket.socket fd=${unix.fileno()}, family=1, type=1, proto=0>`);
    const name = `\0etlt-repr-${process.pid}`;
    unix.bind(name);
    assert.equal(
      String(unix),
      `<socket.socket fd=${unix.fileno()}, family=1, type=1, proto=0, laddr=b'\\x00etlt-repr-${process.pid}'>`,
    );
  });
});

describe('settimeout/gettimeout (test_socket GeneralModuleTests, NetworkConnectionNoServer)', () => {
  noFdLeak();

  test('testDefaultTimeout and test_setblocking: None, 0.0, seconds', (t) => {
    const s = new Socket();
    cleanup(t, s);
    assert.equal(s.gettimeout(), null);
    s.settimeout(0);
    assert.equal(s.gettimeout(), 0);
    assert.equal(s.getBlocking(), false);
    s.settimeout(2.5);
    assert.equal(s.gettimeout(), 2.5);
    assert.equal(s.getBlocking(), true, 'a timeout is blocking mode to Python');
    s.setBlocking(false);
    assert.equal(s.gettimeout(), 0);
    s.setBlocking(true);
    assert.equal(s.gettimeout(), null);
    s.settimeout(1);
    s.settimeout(null);
    assert.equal(s.gettimeout(), null);
  });

  test('testTimeoutValueNamed: a negative or NaN timeout, a string', (t) => {
    const s = new Socket();
    cleanup(t, s);
    throwsArg(() => s.settimeout(-1), RangeError, 'value');
    throwsArg(() => s.settimeout(NaN), RangeError, 'value');
    throwsArg(() => s.settimeout('spam'), TypeError, 'value');
  });

  test('testRecvTimeout: recv with nothing to read times out after the timeout, never before', (t) => {
    const { client } = tcpPair(t);
    client.settimeout(0.1);
    const start = performance.now();
    throwsSys(() => client.recv(10), 'ETIMEDOUT', ETIMEDOUT, 'poll');
    assert.ok(performance.now() - start >= 99, 'waited the timeout');
  });

  test('testAcceptTimeout, and data that comes within the timeout is read', async (t) => {
    const l = listener(t);
    l.settimeout(0.05);
    throwsSys(() => l.accept(), 'ETIMEDOUT', ETIMEDOUT, 'poll');
    const { client, server } = tcpPair(t);
    server.settimeout(5);
    client.send('x');
    assert.equal(server.recv(10).toString(), 'x');
  });

  test('a timeout on a non-blocking fd: the fd is O_NONBLOCK, as Python makes it', (t) => {
    const s = new Socket();
    cleanup(t, s);
    s.settimeout(3);
    assert.equal(s.gettimeout(), 3);
    assert.ok(isNonBlocking(s.fileno()));
    s.settimeout(null);
    assert.ok(!isNonBlocking(s.fileno()));
  });
});

describe('SOCK_DGRAM (test_socket BasicUDPTest, RecvmsgUDPTest)', () => {
  noFdLeak();

  for (const family of [AF_INET, AF_INET6]) {
    test(`testSendtoAndRecv / testRecvFrom / testRecvFromInto on ${family === AF_INET ? 'IPv4' : 'IPv6'}`, (t) => {
      const serv = udp(t, family);
      const cli = udp(t, family);
      const MSG = Buffer.from('Michael Gilfix was here\n');
      assert.equal(cli.sendto(MSG, serv.getsockname()), MSG.length);
      assert.deepEqual(serv.recv(MSG.length), MSG);
      cli.sendto(MSG, 0, serv.getsockname());
      const [msg, addr] = serv.recvfrom(MSG.length);
      assert.deepEqual(msg, MSG);
      assert.deepEqual(addr, cli.getsockname());
      cli.sendto(MSG, serv.getsockname());
      const buf = Buffer.alloc(1024);
      const [n, from] = serv.recvfromInto(buf);
      assert.equal(n, MSG.length);
      assert.deepEqual(buf.subarray(0, n), MSG);
      assert.deepEqual(from, cli.getsockname());
    });
  }

  test('a datagram longer than bufsize is cut to it (recvfrom(2) discards the rest)', (t) => {
    const serv = udp(t);
    const cli = udp(t);
    cli.sendto('0123456789', serv.getsockname());
    cli.sendto('next', serv.getsockname());
    assert.equal(serv.recvfrom(4)[0].toString(), '0123');
    assert.equal(serv.recvfrom(100)[0].toString(), 'next');
  });

  test('testRecvFromNegative, testSendtoErrors: wrong arguments by name', (t) => {
    const s = udp(t);
    throwsArg(() => s.recvfrom(-1), RangeError, 'bufsize');
    throwsArg(() => s.recvfromInto(Buffer.alloc(4), 5), RangeError, 'nbytes');
    throwsArg(() => s.sendto(5, ['127.0.0.1', 1]), TypeError, 'data');
    throwsArg(() => s.sendto('x', 'not an address'), TypeError, 'address');
    throwsArg(() => s.sendto('x', -1, ['127.0.0.1', 1]), RangeError, 'flags');
    s.setBlocking(false);
    throwsSys(() => s.recvfrom(10), 'EAGAIN', EAGAIN, 'recvfrom');
    s.settimeout(0.05);
    throwsSys(() => s.recvfrom(10), 'ETIMEDOUT', ETIMEDOUT, 'poll');
  });

  test('Python sends a datagram and gets ours back', async (t) => {
    const s = udp(t);
    const port = s.getsockname()[1];
    const code = `import socket; c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(5); c.sendto(b"hi", ("127.0.0.1", ${port})); print(c.recvfrom(10)[0].decode())`;
    const child = execFile('python3', ['-I', '-c', code], { timeout: 10_000 });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    s.settimeout(5);
    const [msg, from] = s.recvfrom(100);
    assert.equal(msg.toString(), 'hi');
    s.sendto(Buffer.concat([msg, Buffer.from('!')]), from);
    await once(child, 'exit');
    assert.equal(out.trim(), 'hi!');
  });
});

describe('create_connection and create_server (test_socket NetworkConnection*, CreateServerTest)', () => {
  noFdLeak();

  test('the subpath exports them', () => {
    assert.equal(socketSubpath.create_connection, create_connection);
    assert.equal(socketSubpath.Socket, Socket);
  });

  test('test_address, test_family_and_type, SO_REUSEADDR set (CreateServerTest)', (t) => {
    const srv = create_server(['127.0.0.1', 0]);
    cleanup(t, srv);
    assert.equal(srv.getsockname()[0], '127.0.0.1');
    assert.equal(srv.family, AF_INET);
    assert.equal(srv.type, SOCK_STREAM);
    assert.equal(srv.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
    assert.equal(srv.getsockopt(SOL_SOCKET, SO_REUSEPORT), 0);
  });

  test('test_reuse_port and test_dualstack_ipv6_family', (t) => {
    const srv = create_server(['::1', 0], { family: AF_INET6, reuse_port: true });
    cleanup(t, srv);
    assert.equal(srv.getsockopt(SOL_SOCKET, SO_REUSEPORT), 1);
    assert.equal(srv.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 1);
    const dual = create_server(['', 0], { family: AF_INET6, dualstack_ipv6: true });
    cleanup(t, dual);
    assert.equal(dual.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 0);
    const c = create_connection(['127.0.0.1', dual.getsockname()[1]]);
    cleanup(t, c);
    const [conn] = dual.accept();
    cleanup(t, conn);
    assert.equal(conn.getpeername()[0], '::ffff:127.0.0.1');
    throwsArg(() => create_server(['', 0], { dualstack_ipv6: true }), RangeError, 'dualstack_ipv6');
    assert.throws(() => create_server(['', 0], { reusePort: true }), { code: 'ERR_ETLT_UNKNOWN_OPTION' });
  });

  test('testCreateConnectionBase, testCreateConnectionTimeout, source_address', (t) => {
    const srv = create_server(['127.0.0.1', 0]);
    cleanup(t, srv);
    const port = srv.getsockname()[1];
    const c = create_connection(['127.0.0.1', port]);
    cleanup(t, c);
    assert.equal(c.gettimeout(), null);
    const [conn] = srv.accept();
    cleanup(t, conn);
    c.sendall('hello');
    assert.equal(conn.recv(5).toString(), 'hello');
    const timed = create_connection(['localhost', port], { timeout: 30, source_address: ['127.0.0.1', 0] });
    cleanup(t, timed);
    assert.equal(timed.gettimeout(), 30);
    assert.equal(timed.getsockname()[0], '127.0.0.1', 'localhost fell back from ::1 to 127.0.0.1');
    cleanup(t, srv.accept()[0]);
  });

  test('test_create_connection (ConnectionRefused), all_errors gives every attempt', (t) => {
    const s = listener(t);
    const port = s.getsockname()[1];
    s.close();
    throwsSys(() => create_connection(['127.0.0.1', port]), 'ECONNREFUSED', ECONNREFUSED, 'connect');
    assert.throws(
      () => create_connection(['localhost', port], { all_errors: true }),
      (err) =>
        err instanceof AggregateError && err.errors.length === 2 && err.errors.every((e) => e.code === 'ECONNREFUSED'),
    );
  });
});

describe('examples/udp-echo (npm run example:udp-echo)', { timeout: 20_000 }, () => {
  test('echoes datagrams from Python and from our socket, stops on SIGTERM', async (t) => {
    const child = spawn(process.execPath, ['dist/examples/udp-echo.js', '127.0.0.1', '0'], { cwd: ROOT });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await waitFor(() => /laddr=\('127\.0\.0\.1', (\d+)\)/.test(out), {
      timeout: 10_000,
      message: 'the example to start',
    });
    const port = Number(/laddr=\('127\.0\.0\.1', (\d+)\)/.exec(out)[1]);
    const s = udp(t);
    s.settimeout(5);
    for (const text of ['one', 'two', 'x'.repeat(1400)]) {
      s.sendto(text, ['127.0.0.1', port]);
      const [msg, from] = s.recvfrom(2000);
      assert.equal(msg.toString(), text);
      assert.deepEqual(from, ['127.0.0.1', port]);
    }
    const py = `import socket; c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(5); c.sendto(b"py", ("127.0.0.1", ${port})); print(c.recv(10).decode())`;
    const got = await new Promise((resolve, reject) =>
      execFile('python3', ['-I', '-c', py], { timeout: 10_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    assert.equal(got.trim(), 'py');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.match(out, /4 datagrams echoed/);
  });
});
