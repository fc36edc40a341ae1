/**
 * Where `etlt serve` listens: a TCP port (--host, --port), a Unix domain socket (--host
 * unix:PATH, --socket-mode), an inherited listener (--fd), or, when none is named, the one
 * systemd socket activation passed: as sd_listen_fds(3) reads it: the listening sockets a
 * supervisor passed from fd 3 on (LISTEN_FDS of them, named in LISTEN_FDNAMES), meant for
 * the process whose pid is LISTEN_PID. The variables are removed from the environment in
 * every case, so that no child (a worker, a handler's subprocess) takes them for its own.
 */
import { F_GETFD, F_SETFD, FD_CLOEXEC } from '../constants.js';
import { EtltUsageError } from '../errors.js';
import { sys } from '../sys.js';
import type { OptionSpec, ParsedOptions } from './options.js';
import { integerOption, stringOption } from './options.js';

/** The options of `serve` about its listener, beside --host and --port (in its table). */
export const LISTENER_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'fd',
    value: 'N',
    help:
      'serve the listening socket inherited as fd N (TCP or Unix) instead of binding\n' +
      'one; without --fd, --host and --port: the socket systemd passed (LISTEN_FDS)',
  },
  {
    name: 'socket-mode',
    value: 'MODE',
    help: "with --host unix:PATH: the socket file's mode, in octal (e.g. 660; default\n777 less the umask)",
  },
];

/** Where to listen, checked: exactly one of a TCP address, a Unix socket path, an inherited fd. */
export interface ListenerArgs {
  host: string;
  port: number;
  /** An inherited listening socket (--fd, or systemd's). */
  fd: number | undefined;
  /** A Unix domain socket (--host unix:PATH). */
  path: string | undefined;
  socketMode: number | undefined;
  /** Said on stderr at start: sockets passed to another process (a wrapper that did not exec etlt). */
  listenerNote: string | undefined;
}

/** The prefix of --host that names a Unix domain socket, as nginx's `listen unix:` and gunicorn's `--bind unix:`. */
const UNIX_PREFIX = 'unix:';

/**
 * Checks --host, --port, --fd and --socket-mode, and takes a socket systemd passed when
 * none of the first three is given (removing the LISTEN_* variables from `env` in any case).
 */
export function listenerArgs(v: ParsedOptions, env: NodeJS.ProcessEnv = process.env, pid = process.pid): ListenerArgs {
  let listenerNote: string | undefined;
  const activated = activatedSockets(env, pid, (note) => (listenerNote = note));
  const host = stringOption(v, 'host');
  const port = integerOption(v, 'port', 8080, 0, 65535);
  const given = v['fd'] === undefined ? undefined : integerOption(v, 'fd', 0, 0, 0x7fffffff);
  const mode = stringOption(v, 'socket-mode');
  const socketMode = mode === undefined ? undefined : octalMode(mode);
  const path = host?.startsWith(UNIX_PREFIX) ? host.slice(UNIX_PREFIX.length) : undefined;
  if (path !== undefined) {
    if (path === '') throw new EtltUsageError(`--host ${host}: a Unix socket needs a path`);
    if (v['port'] !== undefined) throw new EtltUsageError(`--port: a Unix socket (--host ${host}) has no port`);
  } else if (socketMode !== undefined) {
    throw new EtltUsageError('--socket-mode goes with a Unix socket (--host unix:PATH)');
  }
  const none = { path: undefined, socketMode: undefined };
  if (given !== undefined) {
    if (host !== undefined || v['port'] !== undefined) {
      throw new EtltUsageError(`--fd ${given}: the listener is inherited; --host and --port do not apply`);
    }
    return { host: '0.0.0.0', port, fd: given, ...none, listenerNote };
  }
  if (activated !== undefined && host === undefined && v['port'] === undefined) {
    return { host: '0.0.0.0', port, fd: activatedListener(activated), ...none, listenerNote };
  }
  return { host: host ?? '0.0.0.0', port, fd: undefined, path, socketMode, listenerNote };
}

/** A file mode in octal, as chmod(1) takes it: 660, 0660. */
function octalMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text))
    throw new EtltUsageError(`--socket-mode must be an octal mode such as 660 (got '${text}')`);
  return parseInt(text, 8);
}

/** The first fd systemd passes (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/** The sockets passed to this process: fds from 3 on, and their names ('unknown' when unnamed). */
export interface ActivatedSockets {
  fds: number[];
  names: string[];
}

const VARIABLES = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/**
 * The sockets systemd (or systemd-socket-activate, or any supervisor speaking the protocol)
 * passed to process `pid`, or undefined when none were: the variables absent, or meant for
 * another process (LISTEN_PID is not `pid`: inherited from a parent that did not unset them).
 * Each passed fd gets FD_CLOEXEC, as sd_listen_fds sets it. Throws an EtltUsageError for
 * variables that make no sense or fds that are not open.
 */
export function activatedSockets(
  env: NodeJS.ProcessEnv,
  pid: number,
  onOther?: (note: string) => void,
): ActivatedSockets | undefined {
  const [listenPid, listenFds, listenNames] = VARIABLES.map((name) => env[name]);
  for (const name of VARIABLES) delete env[name];
  if (listenPid === undefined || listenFds === undefined) return undefined;
  if (!/^[0-9]+$/.test(listenPid) || Number(listenPid) !== pid) {
    onOther?.(
      `LISTEN_FDS=${listenFds} is for pid ${listenPid}, not this process (${pid}): ignored ` +
        '(a wrapper such as npx or a shell must exec etlt for socket activation)',
    );
    return undefined;
  }
  const count = Number(listenFds);
  if (!/^[0-9]+$/.test(listenFds) || count < 1 || count > 0xffff) {
    throw new EtltUsageError(`systemd socket activation: LISTEN_FDS must be a count of fds (got '${listenFds}')`);
  }
  const fds = Array.from({ length: count }, (_, i) => LISTEN_FDS_START + i);
  const given = listenNames?.split(':') ?? [];
  const names = fds.map((_, i) => given[i] || 'unknown');
  for (const fd of fds) {
    const flags = sys.fcntl(fd, F_GETFD, 0);
    if (flags < 0 || sys.fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
      throw new EtltUsageError(`systemd socket activation: LISTEN_FDS=${count}, but fd ${fd} is not open`);
    }
  }
  return { fds, names };
}

/**
 * The one listener `etlt serve` takes from the sockets passed: the only one, or the one
 * `--fd` picks among several (etlt serves one listener per process).
 */
export function activatedListener(sockets: ActivatedSockets): number {
  if (sockets.fds.length === 1) return sockets.fds[0]!;
  const list = sockets.fds.map((fd, i) => `${fd} (${sockets.names[i]})`).join(', ');
  throw new EtltUsageError(
    `systemd passed ${sockets.fds.length} sockets (LISTEN_FDS): ${list}; etlt serves one: pick it with --fd`,
  );
}
