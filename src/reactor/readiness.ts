/**
 * Readiness, read through small predicates instead of raw masks (after mio's `Event`):
 * one spelling of "is this a hang-up" for the reactor, the strategies, the report and the
 * tests. Imports nothing, so a report rendered from JSON can use it without the addon.
 */

/**
 * Linux's epoll event bits (include/uapi/linux/eventpoll.h). They are the same on every
 * architecture, so they are written out here; a test checks them against the addon's.
 */
export const EPOLL_BITS = {
  IN: 0x1,
  PRI: 0x2,
  OUT: 0x4,
  ERR: 0x8,
  HUP: 0x10,
  RDHUP: 0x2000,
  ET: 0x80000000,
} as const;

const { IN, OUT, ERR, HUP, RDHUP } = EPOLL_BITS;

/** Bits the kernel reports whatever the interest (epoll_ctl(2)): never masked away. */
export const ALWAYS_REPORTED = ERR | HUP;

/** Data (or an EOF) can be read. */
export function isReadable(events: number): boolean {
  return (events & IN) !== 0;
}

/** The socket can take more bytes. */
export function isWritable(events: number): boolean {
  return (events & OUT) !== 0;
}

/**
 * The peer will send nothing more: a hang-up, or a readable EOF announced by EPOLLRDHUP.
 * Bytes sent before the FIN may still be waiting to be read.
 */
export function isReadClosed(events: number): boolean {
  return (events & HUP) !== 0 || ((events & IN) !== 0 && (events & RDHUP) !== 0);
}

/** Nothing more can be sent: a hang-up, or an error that the next send reports. */
export function isWriteClosed(events: number): boolean {
  return (events & (HUP | ERR)) !== 0;
}

/** The connection failed (EPOLLERR): the next recv or send reports why. */
export function isError(events: number): boolean {
  return (events & ERR) !== 0;
}

/** Something ended the conversation: an error, a hang-up or the peer's FIN. */
export function isHangup(events: number): boolean {
  return (events & (ERR | HUP | RDHUP)) !== 0;
}

const NAMED = Object.entries(EPOLL_BITS) as [keyof typeof EPOLL_BITS, number][];
const KNOWN = NAMED.reduce((all, [, bit]) => (all | bit) >>> 0, 0);

/**
 * The names of the bits set in `mask`, in a fixed order (IN, PRI, OUT, ERR, HUP, RDHUP,
 * ET), then any other bits as one hex number. Read as unsigned 32 bits, so `EPOLLIN |
 * EPOLLET` may be passed negative; a non-finite mask gives an empty list.
 */
export function describeMask(mask: number): string[] {
  if (!Number.isFinite(mask)) return [];
  const m = mask >>> 0;
  const names: string[] = [];
  for (const [name, bit] of NAMED) if ((m & bit) !== 0) names.push(name);
  const rest = (m & ~KNOWN) >>> 0;
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names;
}
