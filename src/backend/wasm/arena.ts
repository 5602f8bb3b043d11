/**
 * The eager kernels' scratch: one region of the kernel memory's heap (heap.ts) that every kernel
 * call copies its operands into, computes in, and copies the result out of, so one region is reused
 * by every call. It grows to the largest call seen (moving, so callers take addresses from
 * `reserve` after calling it) and never shrinks, so memory stays flat across epochs and nobody
 * calls dispose.
 */
import type { WasmHeap } from './heap.js';

/** Rounds a byte address up to 16 (one v128). */
export function align(p: number): number {
  return (p + 15) & ~15;
}

/** The scratch region of one kernel instance's memory. */
export class Arena {
  private at = -1;
  private size = 0;

  constructor(readonly heap: WasmHeap) {}

  /**
   * The base address of a scratch region of at least `bytes` bytes (16-aligned). A larger request
   * than before moves the region: addresses from an earlier call are then stale.
   */
  reserve(bytes: number): number {
    if (bytes > this.size) {
      if (this.at >= 0) this.heap.release(this.at);
      this.size = Math.max(bytes, 2 * this.size, 1 << 16);
      this.at = this.heap.alloc(this.size);
    }
    return this.at;
  }

  /**
   * `reserve` for a call whose operands may live in this memory (parameters and data adopted by a
   * compiled plan): growing a non-shared memory detaches every array over it, so each of `arrays`
   * that viewed this memory is replaced, in place, by a view of the same bytes in the grown one.
   */
  reserveFor(bytes: number, arrays: Float32Array[]): number {
    const before = this.heap.memory.buffer;
    const spots = arrays.map((a) => (a.buffer === before ? [a.byteOffset, a.length] : null));
    const at = this.reserve(bytes);
    const after = this.heap.memory.buffer;
    if (after !== before)
      for (let i = 0; i < arrays.length; i++) {
        const spot = spots[i];
        if (spot) arrays[i] = new Float32Array(after, spot[0], spot[1]);
      }
    return at;
  }

  /** A float view of the whole memory (current after any growth). */
  floats(): Float32Array {
    return this.heap.floats();
  }

  /** Bytes of linear memory in use. */
  get bytes(): number {
    return this.heap.memory.buffer.byteLength;
  }

  /**
   * Copies `span` floats of `src` from `off` to byte address `at`; with `fill`, writes `span` copies
   * of src[off] instead (a broadcast operand made dense).
   */
  copyIn(
    f: Float32Array,
    src: Float32Array,
    off: number,
    span: number,
    at: number,
    fill: boolean,
    fill32: (at: number, n: number, v: number) => void,
  ): void {
    if (fill) fill32(at, span, src[off]);
    else f.set(off === 0 && span === src.length ? src : src.subarray(off, off + span), at >> 2);
  }
}
