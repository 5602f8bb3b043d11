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
import { CTRL_WORDS, gemmThreads } from './threads.js';

/** What the kernel module exports (assembly/index.ts). */
export interface GemmExports {
  memory: WebAssembly.Memory;
  packB(b: number, brs: number, bcs: number, n: number, k: number, dst: number): void;
  packedBFloats(n: number, k: number): number;
  rowsWorkspaceBytes(): number;
  gemmRows(
    a: number,
    ars: number,
    acs: number,
    pb: number,
    c: number,
    ldc: number,
    i0: number,
    i1: number,
    n: number,
    k: number,
    work: number,
    init: number,
  ): void;
  gemmSmall(
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    c: number,
    m: number,
    n: number,
    k: number,
  ): void;
  heapBase(): number;
  fill32(dst: number, n: number, value: number): void;
  binary(
    op: number,
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    o: number,
    rows: number,
    cols: number,
  ): void;
  unary(op: number, x: number, xrs: number, xcs: number, o: number, rows: number, cols: number): void;
  sgd(w: number, g: number, n: number, lr: number): void;
  dropout(
    x: number,
    n: number,
    threshold: number,
    dropAll: number,
    scale: number,
    out: number,
    mask: number,
    lanes: number,
  ): void;
}

/** Which build was loaded. */
export type GemmFlavour = 'relaxed-simd' | 'simd';

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Products with at most this many multiply-adds skip packing (gemmSmall). */
const SMALL_WORK = 4096;

/** Products with at least this many multiply-adds are split across threads. */
const THREAD_MIN_WORK = 1 << 21;

/** A loaded GEMM instance with its memory (and helper threads, when installed). */
export class WasmGemm {
  private constructor(
    /** The module's exports: `gemm` and the element-wise kernels (kernels.ts). */
    readonly ex: GemmExports,
    readonly flavour: GemmFlavour,
    /** Control blocks of the helper threads (empty: single-threaded). */
    private readonly helpers: Int32Array[],
  ) {}

  private cachedView: Float32Array | null = null;
  private ws = -1;
  private base = -1;

  /** A float view of the linear memory, made anew only when the memory has grown. */
  private view(): Float32Array {
    return this.cachedView ?? this.refresh();
  }

  /** Bytes of linear memory the cached view covers (only `ensure` grows the memory). */
  private capacity = 0;

  private refresh(): Float32Array {
    const buf = this.ex.memory.buffer;
    this.capacity = buf.byteLength;
    this.cachedView = new Float32Array(buf);
    return this.cachedView;
  }

  /** First byte of linear memory free for operands (above the module's own data). */
  get heapStart(): number {
    if (this.base < 0) this.base = this.ex.heapBase();
    return this.base;
  }

  /** Grows the linear memory to at least `end` bytes; returns a float view of all of it. */
  ensure(end: number): Float32Array {
    if (end <= this.capacity && this.cachedView) return this.cachedView;
    const mem = this.ex.memory;
    if (mem.buffer.byteLength < end) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
    return this.refresh();
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
          // One shared block: word 0 is the row-block counter all threads draw from; helper h's
          // control words follow, CTRL_WORDS each (threads.ts).
          const bytes = 4 * CTRL_WORDS;
          const sab = new SharedArrayBuffer(bytes * (helpers + 1));
          const ctrls = Array.from({ length: helpers }, (_, h) => {
            const ctrl = new Int32Array(sab, bytes * (h + 1), CTRL_WORDS);
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
   * C[m×n] = A·B (+ bias in every row, when given) for float32 data. A is read from `a` starting at `aOff` with strides (ars, acs), B
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
    bias: Float32Array | null = null,
  ): void {
    // An operand broadcast from one element (e.g. the gradient of a sum, expanded) is filled in
    // densely, so packing takes its vector paths instead of element-by-element gathers.
    const aFill = ars === 0 && acs === 0 && m * k > 1;
    const bFill = brs === 0 && bcs === 0 && k * n > 1;
    if (aFill) {
      ars = k;
      acs = 1;
    }
    if (bFill) {
      brs = n;
      bcs = 1;
    }
    const aSpan = m > 0 && k > 0 ? (m - 1) * ars + (k - 1) * acs + 1 : 0;
    const bSpan = k > 0 && n > 0 ? (k - 1) * brs + (n - 1) * bcs + 1 : 0;
    const ex = this.ex;
    const aPtr = this.heapStart;
    const bPtr = align(aPtr + aSpan * 4);
    const cPtr = align(bPtr + bSpan * 4);
    if (n <= 2 || (m * n * k <= SMALL_WORK && acs === 1 && brs === 1)) {
      // Matrix-vector, or tiny with contiguous dot products: no packing (which pads n to 8 columns).
      const f = this.ensure(cPtr + m * n * 4);
      this.copyIn(f, a, aOff, aSpan, aPtr, aFill);
      this.copyIn(f, b, bOff, bSpan, bPtr, bFill);
      ex.gemmSmall(aPtr, ars, acs, bPtr, brs, bcs, cPtr, m, n, k);
      c.set(f.subarray(cPtr >> 2, (cPtr >> 2) + m * n), cOff);
      if (bias)
        for (let i = 0, at = cOff; i < m; i++, at += n) for (let j = 0; j < n; j++) c[at + j] += bias[j];
      return;
    }
    // Helpers that are running (word 15; a worker still starting is left out of this product).
    const active = m * n * k >= THREAD_MIN_WORK && m >= 8 ? this.runningHelpers() : NO_HELPERS;
    const parts = active.length + 1;
    const pbPtr = align(cPtr + m * n * 4);
    if (this.ws < 0) this.ws = align(ex.rowsWorkspaceBytes());
    const ws = this.ws;
    const wPtr = align(pbPtr + ex.packedBFloats(n, k) * 4);
    const f = this.ensure(wPtr + ws * parts);
    const init = bias ? 1 : 0;
    // Threads: the helpers are called before the operands are copied in, so their wake-up
    // overlaps the copies; they start on row blocks once word 14 of their control block
    // says the data is ready. Row blocks (multiples of 4, the micro-kernel's height) are drawn from
    // a shared counter, so a thread that starts late or runs slow takes fewer; about sixteen each,
    // so the caller waits at most one small block for a helper that woke late (faster per MLP
    // step than four each: bench/NOTES.md).
    const block = Math.max(4, Math.ceil(m / (parts * 16) / 4) * 4);
    const seqs: number[] = [];
    if (parts > 1) {
      Atomics.store(this.counter, 0, 0);
      for (let h = 0; h < active.length; h++) {
        const ctrl = active[h];
        const seq = Atomics.load(ctrl, 0) + 1;
        ctrl[2] = aPtr;
        ctrl[3] = ars;
        ctrl[4] = acs;
        ctrl[5] = pbPtr;
        ctrl[6] = cPtr;
        ctrl[7] = n;
        ctrl[8] = m;
        ctrl[9] = n;
        ctrl[10] = k;
        ctrl[11] = wPtr + ws * (h + 1);
        ctrl[12] = block;
        ctrl[13] = init;
        Atomics.store(ctrl, 14, 0);
        Atomics.store(ctrl, 0, seq);
        Atomics.notify(ctrl, 0);
        seqs.push(seq);
      }
    }
    this.copyIn(f, a, aOff, aSpan, aPtr, aFill);
    this.copyIn(f, b, bOff, bSpan, bPtr, bFill);
    ex.packB(bPtr, brs, bcs, n, k, pbPtr);
    // A bias (n floats) starts every row of C; the product then accumulates onto it.
    if (bias) for (let i = 0, at = cPtr >> 2; i < m; i++, at += n) f.set(bias, at);
    if (parts === 1) {
      ex.gemmRows(aPtr, ars, acs, pbPtr, cPtr, n, 0, m, n, k, wPtr, init);
    } else {
      for (let h = 0; h < seqs.length; h++) Atomics.store(active[h], 14, seqs[h]);
      const counter = this.counter;
      for (;;) {
        const i0 = Atomics.add(counter, 0, block);
        if (i0 >= m) break;
        ex.gemmRows(aPtr, ars, acs, pbPtr, cPtr, n, i0, Math.min(i0 + block, m), n, k, wPtr, init);
      }
      for (let h = 0; h < seqs.length; h++) {
        const ctrl = active[h];
        const seq = seqs[h];
        // Helpers finish their last block about when this thread does: spin first, then sleep
        // (a browser's main thread may not block: it spins on).
        for (let i = 0; i < 20000 && Atomics.load(ctrl, 1) !== seq; i++);
        if (canBlock()) while (Atomics.load(ctrl, 1) !== seq) Atomics.wait(ctrl, 1, seq - 1, 10);
        else while (Atomics.load(ctrl, 1) !== seq);
      }
    }
    const out = this.view();
    c.set(out.subarray(cPtr >> 2, (cPtr >> 2) + m * n), cOff);
  }

  /** Helpers whose worker is running (it set word 15 of its control block). */
  private runningHelpers(): Int32Array[] {
    if (this.running.length < this.helpers.length)
      this.running = this.helpers.filter((c) => Atomics.load(c, 15) === 1);
    return this.running;
  }
  private running: Int32Array[] = [];

  /** Helper threads started and running (they may still be starting just after load). */
  get readyHelpers(): number {
    return this.runningHelpers().length;
  }

  /** Row blocks computed by helper threads so far (for tests and benchmarks). */
  get helperBlocks(): number {
    return this.helpers.reduce((s, c) => s + Atomics.load(c, 16), 0);
  }

  /**
   * Copies `span` floats of `src` from `off` into linear memory at byte address `at`; with `fill`,
   * writes `span` copies of src[off] instead (a broadcast operand made dense).
   */
  private copyIn(
    f: Float32Array,
    src: Float32Array,
    off: number,
    span: number,
    at: number,
    fill: boolean,
  ): void {
    if (fill) this.ex.fill32(at, span, src[off]);
    else f.set(off === 0 && span === src.length ? src : src.subarray(off, off + span), at >> 2);
  }

  /** The shared row-block counter (word 0 of the control block's buffer). */
  private get counter(): Int32Array {
    if (!this.counterView) this.counterView = new Int32Array(this.helpers[0].buffer, 0, 1);
    return this.counterView;
  }
  private counterView: Int32Array | null = null;
}

const NO_HELPERS: Int32Array[] = [];

let blocking: boolean | null = null;
/** Whether this thread may block in Atomics.wait (false on a browser's main thread). */
function canBlock(): boolean {
  if (blocking === null) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // value differs: returns at once
      blocking = true;
    } catch {
      blocking = false;
    }
  }
  return blocking;
}

/** Rounds a byte address up to 16 (one v128). */
export function align(p: number): number {
  return (p + 15) & ~15;
}
