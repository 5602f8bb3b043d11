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
