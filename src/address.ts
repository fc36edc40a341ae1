/**
 * Socket addresses as Python spells them, to and from raw `struct sockaddr` bytes:
 * `[host, port]` for AF_INET, `[host, port, flowinfo, scope_id]` for AF_INET6, a path for
 * AF_UNIX (a leading NUL means Linux's abstract namespace). Hosts are numeric, '' (any),
 * 'localhost' or '<broadcast>': etlt does no DNS look-ups. An IPv6 host may carry its zone
 * as Python's getaddrinfo takes it, `fe80::1%eth0` or `fe80::1%2`.
 */
import { readFileSync } from 'node:fs';
import { native } from './binding/index.js';
import { AF_INET, AF_INET6, AF_UNIX, SOCKADDR_STORAGE_SIZE, SOCKADDR_UN_SIZE } from './constants.js';
import { EtltAddressError } from './errors.js';
import { integer, rangeError, typeError } from './validate.js';

/** An AF_INET/AF_INET6 address `[host, port]` (IPv6 may add flowinfo and scope_id), or an AF_UNIX path. */
export type Address =
  [host: string, port: number] | [host: string, port: number, flowinfo: number, scopeId: number] | string;

const SUN_PATH_OFFSET = 2;

function hostBytes(family: number, host: string): Uint8Array {
  const out = Buffer.alloc(16);
  let text = host;
  if (family === AF_INET) {
    if (host === '') text = '0.0.0.0';
    else if (host === 'localhost') text = '127.0.0.1';
    else if (host === '<broadcast>') text = '255.255.255.255';
  } else {
    if (host === '') text = '::';
    else if (host === 'localhost') text = '::1';
  }
  if (native.inet_pton(family, text, out) !== 1) {
    throw new EtltAddressError(
      `not a numeric ${family === AF_INET ? 'IPv4' : 'IPv6'} address: '${host}' (etlt does no DNS look-ups)`,
    );
  }
  return out;
}

/**
 * The scope id of an IPv6 zone: a number, or an interface name read from sysfs (the
 * kernel's own table; if_nametoindex(3) reads the same through a netlink socket).
 */
function zoneIndex(zone: string, host: string): number {
  if (/^[0-9]+$/.test(zone)) return integer(Number(zone), 'scope_id', 0, 0xffffffff);
  if (/^[A-Za-z0-9_.:-]{1,15}$/.test(zone)) {
    try {
      return Number(readFileSync(`/sys/class/net/${zone}/ifindex`, 'latin1').trim());
    } catch {
      // Not an interface of this machine: said below.
    }
  }
  throw new EtltAddressError(`no network interface '${zone}' for the IPv6 zone of '${host}'`);
}

/** Encodes an address of `family` as the bytes of its struct sockaddr. */
export function encodeAddress(family: number, address: unknown): Buffer {
  if (family === AF_UNIX) {
    if (typeof address !== 'string' && !Buffer.isBuffer(address)) {
      throw typeError('address', 'a path string for AF_UNIX', address);
    }
    const path = Buffer.isBuffer(address) ? address : Buffer.from(address);
    const abstract = path.length > 0 && path[0] === 0;
    const max = SOCKADDR_UN_SIZE - SUN_PATH_OFFSET - (abstract ? 0 : 1);
    if (path.length > max) throw rangeError('address', `a path of at most ${max} bytes`, path.length);
    const buf = Buffer.alloc(SUN_PATH_OFFSET + path.length + (abstract ? 0 : 1));
    buf.writeUInt16LE(AF_UNIX, 0);
    path.copy(buf, SUN_PATH_OFFSET);
    return buf;
  }
  if (!Array.isArray(address) || address.length < 2 || typeof address[0] !== 'string') {
    throw typeError('address', 'a [host, port] array', address);
  }
  const port = integer(address[1], 'port', 0, 65535);
  if (family === AF_INET) {
    const buf = Buffer.alloc(16);
    buf.writeUInt16LE(AF_INET, 0);
    buf.writeUInt16BE(port, 2);
    buf.set(hostBytes(AF_INET, address[0]).subarray(0, 4), 4);
    return buf;
  }
  if (family === AF_INET6) {
    const flowinfo = address.length > 2 ? integer(address[2], 'flowinfo', 0, 0xfffff) : 0;
    let scopeId = address.length > 3 ? integer(address[3], 'scope_id', 0, 0xffffffff) : 0;
    let host = address[0];
    const percent = host.indexOf('%');
    if (percent >= 0) {
      const zone = zoneIndex(host.slice(percent + 1), host);
      host = host.slice(0, percent);
      if (address.length <= 3) scopeId = zone;
    }
    const buf = Buffer.alloc(28);
    buf.writeUInt16LE(AF_INET6, 0);
    buf.writeUInt16BE(port, 2);
    buf.writeUInt32BE(flowinfo, 4);
    buf.set(hostBytes(AF_INET6, host), 8);
    buf.writeUInt32LE(scopeId, 24);
    return buf;
  }
  throw rangeError('family', 'AF_INET, AF_INET6 or AF_UNIX', family);
}

/** Decodes the `length` bytes of a struct sockaddr filled by the kernel. */
export function decodeAddress(buf: Buffer, length: number): Address {
  const family = length >= 2 ? buf.readUInt16LE(0) : AF_UNIX;
  if (family === AF_INET) {
    return [native.inet_ntop(AF_INET, buf.subarray(4, 8)) as string, buf.readUInt16BE(2)];
  }
  if (family === AF_INET6) {
    return [
      native.inet_ntop(AF_INET6, buf.subarray(8, 24)) as string,
      buf.readUInt16BE(2),
      buf.readUInt32BE(4),
      buf.readUInt32LE(24),
    ];
  }
  if (family === AF_UNIX) {
    if (length <= SUN_PATH_OFFSET) return '';
    const path = buf.subarray(SUN_PATH_OFFSET, length);
    if (path[0] === 0) return path.toString('latin1');
    const nul = path.indexOf(0);
    return path.subarray(0, nul < 0 ? path.length : nul).toString();
  }
  return `<family ${family}>`;
}

/** A string as Python's repr() shows it: single quotes, backslash escapes. */
function pyString(text: string): string {
  const escaped = text.replace(/[\\']|[^\x20-\x7e]/g, (ch) => {
    if (ch === '\\' || ch === "'") return `\\${ch}`;
    const code = ch.charCodeAt(0);
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  });
  return `'${escaped}'`;
}

/** An address as Python's str() shows it in a socket's repr: `('127.0.0.1', 8080)`, or a bare path. */
export function formatAddress(address: Address): string {
  // An abstract AF_UNIX name is bytes to Python (b'\x00name'); a path prints bare.
  if (typeof address === 'string') return address.startsWith('\0') ? `b${pyString(address)}` : address;
  return `(${address.map((part) => (typeof part === 'string' ? pyString(part) : String(part))).join(', ')})`;
}

/** CPython's repr of a socket: `<socket.socket fd=5, family=2, type=1, proto=0, laddr=('127.0.0.1', 8080)>`. */
export function socketRepr(fd: number, family: number, type: number, proto: number): string {
  let text = `<socket.socket${fd < 0 ? ' [closed]' : ''} fd=${fd}, family=${family}, type=${type}, proto=${proto}`;
  if (fd >= 0) {
    const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
    let n = native.getsockname(fd, sa);
    const local = n >= 0 ? decodeAddress(sa, n) : '';
    if (local !== '') text += `, laddr=${formatAddress(local)}`;
    n = native.getpeername(fd, sa);
    const remote = n >= 0 ? decodeAddress(sa, n) : '';
    if (remote !== '') text += `, raddr=${formatAddress(remote)}`;
  }
  return `${text}>`;
}

/*
 * An AF_UNIX peer's name needs its exact length: an unnamed peer is the bare family (2
 * bytes, which Python reports as ''), an abstract one is '\0' plus exactly its bytes.
 * accept4's native wrapper does not return the length, so ask getpeername(2), which
 * reports the same address accept(2) does (Linux: unix_getname with peer set).
 */
export function unixPeerName(fd: number): Address {
  const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
  const n = native.getpeername(fd, sa);
  return n < 0 ? '' : decodeAddress(sa, n);
}
