/**
 * Loading and calling the WebAssembly GEMM (assembly/gemm.ts). The module is tiny, so it is
 * compiled synchronously on first use: the relaxed-SIMD (FMA) build when `WebAssembly.validate`
 * accepts it, else the baseline SIMD128 build, else none (the caller falls back to js). One linear
 * memory is reused by every call and grows to the largest product seen, so memory stays flat
 * across epochs and nobody calls dispose.
 */
import { GEMM_RELAXED, GEMM_SIMD } from './binary.generated.js';

interface GemmExports {
  memory: WebAssembly.Memory;
  gemm(
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    c: number,
    ldc: number,
    m: number,
    n: number,
    k: number,
    work: number,
  ): void;
  workspaceBytes(m: number, n: number, k: number): number;
  heapBase(): number;
}

/** Which build was loaded. */
export type GemmFlavour = 'relaxed-simd' | 'simd';

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A loaded GEMM instance with its memory. */
export class WasmGemm {
  private constructor(
    private readonly ex: GemmExports,
    readonly flavour: GemmFlavour,
  ) {}

  /** Loads the best build this engine accepts; null when WebAssembly SIMD is unavailable. */
  static load(): WasmGemm | null {
    if (typeof WebAssembly !== 'object') return null;
    for (const [flavour, b64] of [
      ['relaxed-simd', GEMM_RELAXED],
      ['simd', GEMM_SIMD],
    ] as const) {
      const bytes = decode(b64);
      if (!WebAssembly.validate(bytes)) continue;
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      return new WasmGemm(instance.exports as unknown as GemmExports, flavour);
    }
    return null;
  }

  /** Bytes of linear memory in use. */
  get memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /**
   * C[m×n] = A·B for float32 data. A is read from `a` starting at `aOff` with strides (ars, acs), B
   * likewise; the result is written row-major into `c` at `cOff`.
   */
  multiply(
    a: Float32Array,
    aOff: number,
    ars: number,
    acs: number,
    b: Float32Array,
    bOff: number,
    brs: number,
    bcs: number,
    c: Float32Array,
    cOff: number,
    m: number,
    n: number,
    k: number,
  ): void {
    const aSpan = m > 0 && k > 0 ? (m - 1) * ars + (k - 1) * acs + 1 : 0;
    const bSpan = k > 0 && n > 0 ? (k - 1) * brs + (n - 1) * bcs + 1 : 0;
    const base = this.ex.heapBase();
    const aPtr = base;
    const bPtr = align(aPtr + aSpan * 4);
    const cPtr = align(bPtr + bSpan * 4);
    const wPtr = align(cPtr + m * n * 4);
    const end = wPtr + this.ex.workspaceBytes(m, n, k) + 64;
    const mem = this.ex.memory;
    if (mem.buffer.byteLength < end) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
    const f = new Float32Array(mem.buffer);
    f.set(a.subarray(aOff, aOff + aSpan), aPtr / 4);
    f.set(b.subarray(bOff, bOff + bSpan), bPtr / 4);
    this.ex.gemm(aPtr, ars, acs, bPtr, brs, bcs, cPtr, n, m, n, k, wPtr);
    c.set(f.subarray(cPtr / 4, cPtr / 4 + m * n), cOff);
  }
}

function align(p: number): number {
  return (p + 15) & ~15;
}
