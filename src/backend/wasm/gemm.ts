/**
 * Loading and calling the WebAssembly GEMM (assembly/gemm.ts). The module is tiny, so it is
 * compiled synchronously on first use: the relaxed-SIMD (FMA) build when `WebAssembly.validate`
 * accepts it, else the baseline SIMD128 build, else none (the caller falls back to js). When a
 * platform installed worker threads (threads.ts), the shared-memory build is used and products big
 * enough to pay are split by rows between this thread and the helpers. One linear memory is reused
 * by every call and grows to the largest product seen, so memory stays flat across epochs and
 * nobody calls dispose.
 */
import { GEMM_RELAXED, GEMM_SHARED_RELAXED, GEMM_SHARED_SIMD, GEMM_SIMD } from './binary.generated.js';
import { gemmThreads } from './threads.js';

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

/** Products with at least this many multiply-adds are split across threads. */
const THREAD_MIN_WORK = 1 << 21;

/** A loaded GEMM instance with its memory (and helper threads, when installed). */
export class WasmGemm {
  private constructor(
    private readonly ex: GemmExports,
    readonly flavour: GemmFlavour,
    /** Control blocks of the helper threads (empty: single-threaded). */
    private readonly helpers: Int32Array[],
  ) {}

  private cachedView: Float32Array | null = null;
  private base = -1;

  /** A float view of the linear memory, made anew only when the memory has grown. */
  private view(): Float32Array {
    const buf = this.ex.memory.buffer;
    if (!this.cachedView || this.cachedView.buffer !== buf) this.cachedView = new Float32Array(buf);
    return this.cachedView;
  }

  /** Number of threads a large product uses. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Loads the best build this engine accepts; null when WebAssembly SIMD is unavailable. */
  static load(): WasmGemm | null {
    if (typeof WebAssembly !== 'object') return null;
    const { spawn, helpers } = gemmThreads();
    for (const [flavour, b64, sharedB64] of [
      ['relaxed-simd', GEMM_RELAXED, GEMM_SHARED_RELAXED],
      ['simd', GEMM_SIMD, GEMM_SHARED_SIMD],
    ] as const) {
      const bytes = decode(b64);
      if (!WebAssembly.validate(bytes)) continue;
      if (spawn && helpers > 0) {
        const shared = decode(sharedB64);
        if (WebAssembly.validate(shared)) {
          const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true });
          const instance = new WebAssembly.Instance(new WebAssembly.Module(shared), { env: { memory } });
          const ctrls = Array.from({ length: helpers }, () => {
            const ctrl = new Int32Array(new SharedArrayBuffer(64));
            spawn(shared, memory, ctrl);
            return ctrl;
          });
          return new WasmGemm(instance.exports as unknown as GemmExports, flavour, ctrls);
        }
      }
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      return new WasmGemm(instance.exports as unknown as GemmExports, flavour, []);
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
    if (this.base < 0) this.base = this.ex.heapBase();
    const base = this.base;
    const aPtr = base;
    const bPtr = align(aPtr + aSpan * 4);
    const cPtr = align(bPtr + bSpan * 4);
    const parts = m * n * k >= THREAD_MIN_WORK && m >= 8 ? this.helpers.length + 1 : 1;
    const ws = align(this.ex.workspaceBytes(m, n, k) + 64);
    const wPtr = align(cPtr + m * n * 4);
    const end = wPtr + ws * parts;
    const mem = this.ex.memory;
    if (mem.buffer.byteLength < end) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
    const f = this.view();
    f.set(a.subarray(aOff, aOff + aSpan), aPtr / 4);
    f.set(b.subarray(bOff, bOff + bSpan), bPtr / 4);
    if (parts === 1) {
      this.ex.gemm(aPtr, ars, acs, bPtr, brs, bcs, cPtr, n, m, n, k, wPtr);
    } else {
      // Rows split in multiples of 4 (the micro-kernel's height); helper h takes block h + 1.
      const rows = Math.ceil(m / parts / 4) * 4;
      const pending: [Int32Array, number][] = [];
      for (let h = 0; h < this.helpers.length; h++) {
        const r0 = rows * (h + 1);
        if (r0 >= m) break;
        const ctrl = this.helpers[h];
        const seq = Atomics.load(ctrl, 0) + 1;
        ctrl.set(
          [
            aPtr + r0 * ars * 4,
            ars,
            acs,
            bPtr,
            brs,
            bcs,
            cPtr + r0 * n * 4,
            n,
            Math.min(rows, m - r0),
            n,
            k,
            wPtr + ws * (h + 1),
          ],
          2,
        );
        Atomics.store(ctrl, 0, seq);
        Atomics.notify(ctrl, 0);
        pending.push([ctrl, seq]);
      }
      this.ex.gemm(aPtr, ars, acs, bPtr, brs, bcs, cPtr, n, Math.min(rows, m), n, k, wPtr);
      for (const [ctrl, seq] of pending) {
        // The halves take about the same time: spin first, sleep only if the helper lags.
        for (let i = 0; i < 20000 && Atomics.load(ctrl, 1) !== seq; i++);
        while (Atomics.load(ctrl, 1) !== seq) Atomics.wait(ctrl, 1, seq - 1, 10);
      }
    }
    const out = this.view();
    c.set(out.subarray(cPtr / 4, cPtr / 4 + m * n), cOff);
  }
}

function align(p: number): number {
  return (p + 15) & ~15;
}
