/**
 * The `FD_*` macros of select(2) over caller-owned fd sets, for `sys.select`: a set is a
 * Uint8Array (a Buffer) laid out as the kernel's `fd_set`, bit `fd % 64` of the native
 * 64-bit word `fd / 64`. On a little-endian machine that is bit `fd % 8` of byte `fd / 8`;
 * the byte index below also keeps the layout right on a big-endian one. No allocation.
 * The one place that layout is known: `FdSets` (src/fdsets.ts) reads a set as 32-bit words
 * through `wordOf`.
 */
import { endianness } from 'node:os';
import { FD_MASK_SIZE } from './constants.js';

const WORD_BITS = FD_MASK_SIZE * 8;
const BIG_ENDIAN = endianness() === 'BE';

/** The byte of the set that holds `fd`'s bit. */
function byteOf(fd: number): number {
  if (!BIG_ENDIAN) return fd >>> 3;
  const word = Math.floor(fd / WORD_BITS);
  return word * FD_MASK_SIZE + (FD_MASK_SIZE - 1 - ((fd % WORD_BITS) >>> 3));
}

/**
 * On a big-endian machine with 64-bit longs, the two 32-bit halves of each long, in memory,
 * are the high one then the low one.
 */
const HALVES_SWAPPED = BIG_ENDIAN && FD_MASK_SIZE === 8 ? 1 : 0;

/** The 32-bit word (of a Uint32Array over the set) that holds `fd`'s bit: bit `fd & 31` of it. */
export function wordOf(fd: number): number {
  return (fd >>> 5) ^ HALVES_SWAPPED;
}

/** Bytes a set needs for fds below `nfds`: whole words, as the kernel reads them. */
export function fd_set_bytes(nfds: number): number {
  return Math.ceil(nfds / WORD_BITS) * FD_MASK_SIZE;
}

/** Adds `fd` to `set`. */
export function FD_SET(fd: number, set: Uint8Array): void {
  set[byteOf(fd)]! |= 1 << (fd & 7);
}

/** Removes `fd` from `set`. */
export function FD_CLR(fd: number, set: Uint8Array): void {
  set[byteOf(fd)]! &= ~(1 << (fd & 7));
}

/** Whether `fd` is in `set` (after `sys.select`: whether it is ready). */
export function FD_ISSET(fd: number, set: Uint8Array): boolean {
  return ((set[byteOf(fd)]! >>> (fd & 7)) & 1) === 1;
}

/** Empties the whole of `set`. */
export function FD_ZERO(set: Uint8Array): void {
  set.fill(0);
}
