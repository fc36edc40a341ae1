/**
 * Deferred accept (TCP_DEFER_ACCEPT, nginx's `deferred`, Apache httpd's default on Linux):
 * the kernel hands a connection over only once its first bytes have arrived, or after a
 * silence that the server then reads back from the socket, so it can still count it
 * towards the client's idle timeout.
 */
import { sys } from '../sys.js';
import { IPPROTO_TCP, TCP_DEFER_ACCEPT, TCP_INFO } from '../constants.js';

/**
 * TCP_DEFER_ACCEPT's period: the kernel holds a connection that sent nothing this long (it
 * retransmits its SYN-ACK then, and hands it over on the client's ACK; measured 1.03 s).
 */
export const DEFER_ACCEPT_S = 1;
const DEFER_ACCEPT_VALUE = new Uint8Array(new Int32Array([DEFER_ACCEPT_S]).buffer);
/** struct tcp_info (linux/tcp.h, a stable ABI) in 32-bit words, and where tcpi_total_retrans is. */
const TCP_INFO_WORDS = 26;
const TCP_INFO_TOTAL_RETRANS = 25;
/** Silences longer than 2**6 - 1 = 63 s are credited as 63 s (the kernel gives up sooner). */
export const MAX_SYNACK_RETRANSMITS = 6;

/** Sets TCP_DEFER_ACCEPT on a listener; false when the kernel refuses (then it is an ordinary one). */
export function enableDeferredAccept(listenerFd: number): boolean {
  return sys.setsockopt(listenerFd, IPPROTO_TCP, TCP_DEFER_ACCEPT, DEFER_ACCEPT_VALUE) === 0;
}

/** Reads how long connections handed over by a deferred listener were silent. */
export class SilenceMeter {
  readonly #info = new Uint32Array(TCP_INFO_WORDS);

  /**
   * How many times the kernel retransmitted the SYN-ACK (at 1, 2, 4... s) before handing
   * the connection over: the new socket's tcpi_total_retrans. 0 when it was not held back
   * (SYN cookies hand it over at once) or TCP_INFO fails. (A client whose request the kernel
   * dropped for a full accept queue looks the same, and is credited a silence it did not keep.)
   */
  synAckRetransmits(fd: number): number {
    const info = this.#info;
    info[TCP_INFO_TOTAL_RETRANS] = 0;
    if (sys.getsockopt(fd, IPPROTO_TCP, TCP_INFO, info) < (TCP_INFO_TOTAL_RETRANS + 1) * 4) return 0;
    return Math.min(info[TCP_INFO_TOTAL_RETRANS] ?? 0, MAX_SYNACK_RETRANSMITS);
  }
}
