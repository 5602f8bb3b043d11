/**
 * The kernel module's linear memory above its own data, as a heap of regions: the eager kernels'
 * scratch (arena.ts), compiled plans' arenas, and storages adopted into this memory so kernels read
 * them in place (parameters, data sets). First fit over a sorted free list with coalescing; the
 * memory grows when no free region fits and never shrinks (a freed region is reused). Regions are
 * 64-byte aligned and sized in multiples of 64, so SIMD loads never straddle two regions' lines.
 */

import { bytesPerElement } from '../../util/dtype.js';
import { KeelError } from '../../util/errors.js';
import { type HostStorage, MemoryRegion } from '../host.js';

/** Rounds up to a multiple of 64 bytes. */
export function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

/** Regions of one WebAssembly.Memory. */
export class WasmHeap {
  /** Free [start, end) ranges below `top`, sorted by start, never touching each other. */
  private readonly free: { start: number; end: number }[] = [];
  /** Sizes of the regions handed out, by start. */
  private readonly sizes = new Map<number, number>();
  private top: number;
  private view: Float32Array | null = null;

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = align64(base);
  }

  /** A region of at least `bytes` bytes (64-aligned); grows the memory when none is free. */
  alloc(bytes: number): number {
    const size = Math.max(64, align64(bytes));
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f.end - f.start < size) continue;
      const at = f.start;
      if (f.end - f.start === size) this.free.splice(i, 1);
      else f.start += size;
      this.sizes.set(at, size);
      return at;
    }
    const at = this.top;
    this.ensure(at + size);
    this.top = at + size;
    this.sizes.set(at, size);
    return at;
  }

  /**
   * A region of at least `bytes` bytes owned by a MemoryRegion (given back when that is disposed or
   * collected), or null when the memory cannot grow that far.
   */
  region(bytes: number): MemoryRegion | null {
    let at: number;
    try {
      at = this.alloc(bytes);
    } catch {
      return null;
    }
    return new MemoryRegion(this.memory, at, bytes, () => this.release(at));
  }

  /**
   * Moves a host storage's elements into this memory (its tensors follow, `HostStorage.relocate`),
   * unless they live here already; false when there is no room (they stay where they are).
   */
  adopt(s: HostStorage): boolean {
    if (s.region?.memory === this.memory && !s.region.dead) return true;
    const r = this.region(s.length * bytesPerElement(s.dtype));
    if (!r) return false;
    s.relocate(r, r.at);
    return true;
  }

  /** Returns a region to the heap. */
  release(at: number): void {
    const size = this.sizes.get(at);
    if (size === undefined) throw new KeelError(`WasmHeap: ${at} is not the start of a region`);
    this.sizes.delete(at);
    let start = at;
    let end = at + size;
    let i = this.free.findIndex((f) => f.start > start);
    if (i < 0) i = this.free.length;
    const before = this.free[i - 1];
    if (before && before.end === start) {
      start = before.start;
      this.free.splice(--i, 1);
    }
    const after = this.free[i];
    if (after && after.start === end) {
      end = after.end;
      this.free.splice(i, 1);
    }
    if (end === this.top) this.top = start;
    else this.free.splice(i, 0, { start, end });
  }

  /** Bytes handed out now (regions in use). */
  get used(): number {
    let n = 0;
    for (const s of this.sizes.values()) n += s;
    return n;
  }

  /** Grows the memory to at least `end` bytes. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    try {
      this.memory.grow(Math.ceil((end - have) / 65536));
    } catch {
      throw new KeelError(
        `the wasm kernels' memory cannot grow to ${Math.ceil(end / 2 ** 20)} MiB (it holds ${Math.ceil(have / 2 ** 20)} MiB; WebAssembly allows at most the module's maximum)`,
      );
    }
  }

  /** A float view of all of the memory, remade after it grew. */
  floats(): Float32Array {
    const buf = this.memory.buffer;
    if (!this.view || this.view.buffer !== buf) this.view = new Float32Array(buf);
    return this.view;
  }
}
