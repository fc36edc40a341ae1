/**
 * A provided buffer ring (IORING_REGISTER_PBUF_RING) beside the `Ring` of `uring.ts`: memory
 * the kernel picks a buffer from for each completion of a buffer-select recv, so a
 * connection needs no receive buffer of its own. Written through shared memory as the SQ is:
 * adding a buffer is a store, publishing them is one release store of the tail.
 */
import { sys } from '../sys.js';
import {
  IORING_REGISTER_PBUF_RING,
  IORING_UNREGISTER_PBUF_RING,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from '../constants.js';
import { EtltSystemError } from '../errors.js';

const TWO32 = 4294967296;

/** A provided buffer ring (IORING_REGISTER_PBUF_RING): `count` buffers of `size` bytes. */
export class BufferRing {
  readonly group: number;
  readonly count: number;
  readonly size: number;
  /** The buffers' memory: buffer `bid` is `bytes[bid * size, (bid + 1) * size)`. */
  readonly bytes: Buffer;
  readonly #ring: ArrayBuffer;
  readonly #u32: Uint32Array;
  readonly #u16: Uint16Array;
  readonly #base: number;
  #tail = 0;
  #published = 0;

  constructor(ringFd: number, group: number, count: number, size: number) {
    if ((count & (count - 1)) !== 0 || count < 1 || count > 32768)
      throw new RangeError('count: a power of two <= 32768');
    this.group = group;
    this.count = count;
    this.size = size;
    const ring = sys.mmap(count * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (typeof ring === 'number') throw new EtltSystemError(ring, 'mmap');
    const mem = sys.mmap(count * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (typeof mem === 'number') throw new EtltSystemError(mem, 'mmap');
    this.#ring = ring;
    this.#u32 = new Uint32Array(ring);
    this.#u16 = new Uint16Array(ring);
    this.bytes = Buffer.from(mem);
    this.#base = sys.address_of(this.bytes);
    // struct io_uring_buf_reg { u64 ring_addr; u32 ring_entries; u16 bgid; u16 flags; u64 resv[3]; }
    const reg = new Uint32Array(10);
    const at = sys.address_of(new Uint8Array(ring));
    reg[0] = at % TWO32;
    reg[1] = Math.floor(at / TWO32);
    reg[2] = count;
    reg[3] = group;
    const r = sys.io_uring_register(ringFd, IORING_REGISTER_PBUF_RING, reg, 1);
    if (r < 0) throw new EtltSystemError(r, 'io_uring_register', 'IORING_REGISTER_PBUF_RING');
    for (let bid = 0; bid < count; bid++) this.add(bid);
    this.publish();
  }

  /** Gives buffer `bid` back to the kernel (visible at the next `publish`). */
  add(bid: number): void {
    const i = this.#tail & (this.count - 1);
    const addr = this.#base + bid * this.size;
    // struct io_uring_buf { u64 addr; u32 len; u16 bid; u16 resv; }: entry 0's resv is the tail.
    const w = i * 4;
    this.#u32[w] = addr % TWO32;
    this.#u32[w + 1] = Math.floor(addr / TWO32);
    this.#u32[w + 2] = this.size;
    this.#u16[i * 8 + 6] = bid;
    this.#tail = (this.#tail + 1) & 0xffff;
  }

  /** Publishes the buffers added since the last call (a release store of the tail). */
  publish(): void {
    if (this.#published === this.#tail) return;
    this.#published = this.#tail;
    Atomics.store(this.#u16, 7, this.#tail);
  }

  /** Keeps the mappings reachable while the kernel may write into them. */
  get mappings(): readonly ArrayBuffer[] {
    return [this.#ring, this.bytes.buffer as ArrayBuffer];
  }

  unregister(ringFd: number): number {
    const reg = new Uint32Array(10);
    reg[3] = this.group;
    return sys.io_uring_register(ringFd, IORING_UNREGISTER_PBUF_RING, reg, 1);
  }
}
