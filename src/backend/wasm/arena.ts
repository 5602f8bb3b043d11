/**
 * The kernels' linear memory as a scratch arena: every kernel call copies its operands in above the
 * module's own data (`start`), computes, and copies the result out, so one region is reused by
 * every call. The memory grows to the largest call seen and never shrinks, so it stays flat across
 * epochs and nobody calls dispose. Only `ensure` grows it; the float view is remade only then.
 */
import type { KernelExports } from './module.js';

/** Rounds a byte address up to 16 (one v128). */
export function align(p: number): number {
  return (p + 15) & ~15;
}

/** The scratch region of one kernel instance's linear memory. */
export class Arena {
  private view: Float32Array | null = null;
  /** Bytes the cached view covers. */
  private capacity = 0;
  private base = -1;

  constructor(private readonly ex: KernelExports) {}

  /** First byte free for operands (above the module's own data), 16-aligned. */
  get start(): number {
    if (this.base < 0) this.base = align(this.ex.heapBase());
    return this.base;
  }

  /** Grows the memory to at least `end` bytes; returns a float view of all of it. */
  ensure(end: number): Float32Array {
    if (end <= this.capacity && this.view) return this.view;
    const mem = this.ex.memory;
    if (mem.buffer.byteLength < end) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
    const buf = mem.buffer;
    this.capacity = buf.byteLength;
    this.view = new Float32Array(buf);
    return this.view;
  }

  /** Bytes of linear memory in use. */
  get bytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /**
   * Copies `span` floats of `src` from `off` to byte address `at` (within a view from `ensure`);
   * with `fill`, writes `span` copies of src[off] instead (a broadcast operand made dense).
   */
  copyIn(f: Float32Array, src: Float32Array, off: number, span: number, at: number, fill: boolean): void {
    if (fill) this.ex.fill32(at, span, src[off]);
    else f.set(off === 0 && span === src.length ? src : src.subarray(off, off + span), at >> 2);
  }
}
