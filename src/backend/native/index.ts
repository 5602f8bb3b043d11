/**
 * The `native` backend: matrix products in the system BLAS (OpenBLAS, Accelerate — handed in by the
 * platform layer as a `Blas`, so this file loads nothing itself), float32 through `sgemm` and
 * float64 through `dgemm`, every other kernel from the backend below it (wasm where WebAssembly SIMD
 * runs, else js), kernel by kernel. Operands are read in place whatever their layout: a matrix whose
 * rows or columns are contiguous is handed to BLAS as is (transposed when its columns are), only an
 * operand with neither (a broadcast, a strided slice) is copied first. The `linear` layer's bias
 * starts every row of the output and the product accumulates onto it (beta = 1): no extra pass.
 * Threads: products of at least THREAD_MIN_WORK multiply-adds use every BLAS thread, smaller ones
 * one (waking a second thread costs more than it saves there, e.g. the MLP's 10-wide products);
 * products under TINY_WORK stay in the base backend, whose call costs less than the FFI crossing
 * (the measurements: bench/NOTES.md).
 */
import { isRowMajor, sizeOf } from '../../util/shape.js';
import { allocate, type HostView, hostArray, hostView, wrap } from '../host.js';
import { forEachMatrix } from '../js/matmul.js';
import { repeatRow } from '../repeatRow.js';
import type { Backend, DType, Storage, TypedArray, View } from '../types.js';
import type { WasmGemm } from '../wasm/gemm.js';
import { cpuPlanEnv } from '../wasm/index.js';
import { prepareCpuPlan } from '../wasm/planRunner.js';

/** A dense matrix product in a BLAS library (row-major). */
export interface Blas {
  /** The library and how it was found, e.g. `OpenBLAS 0.3.21 Haswell (libopenblas.so.0)`. */
  readonly name: string;
  /**
   * C[m×n] = alpha·op(A)·op(B) + beta·C with op(X) = Xᵀ when `transX`, row-major, leading
   * dimensions `lda`, `ldb`, `ldc`; `a`, `b`, `c` start at the first element.
   */
  gemm(
    dtype: 'float32' | 'float64',
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: TypedArray,
    lda: number,
    b: TypedArray,
    ldb: number,
    beta: number,
    c: TypedArray,
    ldc: number,
  ): void;
  /** Threads the library uses for large products. */
  threads(): number;
  /** Sets the threads of the next products (a no-op where the library picks its own). */
  setThreads(n: number): void;
}

/** Products with fewer multiply-adds run in the base backend (16³ is faster there, 32³ slower). */
const TINY_WORK = 16384;
/** Products with at least this many multiply-adds use every BLAS thread. */
const THREAD_MIN_WORK = 1 << 21;

/** How BLAS reads a rows×cols matrix with strides (rs, cs): as is, transposed, or not at all. */
export function blasLayout(
  rows: number,
  cols: number,
  rs: number,
  cs: number,
): { trans: boolean; ld: number } | null {
  if (rows === 1 && cols === 1) return { trans: false, ld: 1 };
  if ((cs === 1 || cols === 1) && (rows === 1 || rs >= Math.max(1, cols)))
    return { trans: false, ld: rows === 1 ? Math.max(1, cols) : rs };
  if ((rs === 1 || rows === 1) && (cols === 1 || cs >= Math.max(1, rows)))
    return { trans: true, ld: cols === 1 ? Math.max(1, rows) : cs };
  return null;
}

/** The native backend over `base` (whose kernels it uses for everything but matmul). */
export function createNativeBackend(blas: Blas, base: Backend): Backend & { blas: Blas } {
  const maxThreads = blas.threads();
  let current = -1;
  const threadsFor = (work: number) => {
    const t = work >= THREAD_MIN_WORK ? maxThreads : 1;
    if (t !== current) {
      blas.setThreads(t);
      current = t;
    }
  };
  /** Whether BLAS takes this product: one float dtype throughout, and not too small. */
  const takes = (
    a: HostView,
    b: HostView,
    outShape: readonly number[],
    dt: DType,
  ): dt is 'float32' | 'float64' => {
    if ((dt !== 'float32' && dt !== 'float64') || a.data.constructor !== b.data.constructor) return false;
    const r = outShape.length;
    return sameFloat(a.data, dt) && outShape[r - 2] * outShape[r - 1] * a.shape[r - 1] >= TINY_WORK;
  };
  /**
   * The product (which BLAS `takes`) into `out`, row-major, `outShape`'s elements from `at`; with
   * `bias`, the bias rows first and the product accumulated onto them.
   */
  const gemmInto = (
    av: View,
    bv: View,
    a: HostView,
    b: HostView,
    outShape: readonly number[],
    dt: 'float32' | 'float64',
    out: TypedArray,
    at: number,
    bias?: View,
  ): void => {
    const r = outShape.length;
    const n = outShape[r - 1];
    threadsFor(outShape[r - 2] * n * a.shape[r - 1]);
    const size = sizeOf(outShape);
    if (size === 0) return;
    if (bias) {
      // The bias starts every row; the product accumulates onto it.
      const bd = hostArray(bias.storage);
      for (let j = 0, i = bias.offset; j < n; j++, i += bias.strides[0] ?? 0) out[at + j] = bd[i];
      repeatRow(out, at, at, size / n, n);
    } else if (a.shape[r - 1] === 0) out.fill(0, at, at + size);
    const beta = bias ? 1 : 0;
    /** One operand as BLAS reads it: in place (maybe transposed), or a dense copy. */
    const operand = (
      v: View,
      data: TypedArray,
      off: number,
      rows: number,
      cols: number,
      rs: number,
      cs: number,
    ) => {
      const l = blasLayout(rows, cols, rs, cs);
      if (l) return { data: off === 0 ? data : data.subarray(off), ...l };
      return { data: dense(base, v.storage, off, rows, cols, rs, cs, dt), trans: false, ld: cols };
    };
    forEachMatrix(a, b, outShape, (p, ao, bo, co) => {
      const { m, k } = p;
      if (k === 0) return;
      const A = operand(av, a.data, ao, m, k, p.ars, p.acs);
      const B = operand(bv, b.data, bo, k, n, p.brs, p.bcs);
      const C = at + co === 0 && m * n === out.length ? out : out.subarray(at + co, at + co + m * n);
      blas.gemm(dt, A.trans, B.trans, m, n, k, 1, A.data, A.ld, B.data, B.ld, beta, C, n);
    });
  };
  const matmul = (av: View, bv: View, outShape: readonly number[], outDtype: DType, bias?: View): Storage => {
    const a = hostView(av);
    const b = hostView(bv);
    if (!takes(a, b, outShape, outDtype)) return base.matmul(av, bv, outShape, outDtype, bias);
    // BLAS (or the bias rows) writes every element; gemmInto zeroes an empty inner dimension.
    const out = allocate(outDtype, sizeOf(outShape), false);
    gemmInto(av, bv, a, b, outShape, outDtype, out, 0, bias);
    return wrap(out);
  };
  // A product into the caller's row-major view (k.matmul's `out`): BLAS writes there directly.
  const matmulInto = (out: View, av: View, bv: View): boolean => {
    const a = hostView(av);
    const b = hostView(bv);
    const dt = out.storage.dtype;
    if (!isRowMajor(out) || !takes(a, b, out.shape, dt)) return false;
    gemmInto(av, bv, a, b, out.shape, dt, hostArray(out.storage), out.offset);
    return true;
  };
  const self: Backend & { blas: Blas } = { ...base, name: 'native', matmul, matmulInto, blas };
  // Plans bind to the wasm kernels' memory, with products on BLAS (where the base is wasm).
  const wasmGemm = (base as Partial<{ gemm: WasmGemm }>).gemm;
  if (wasmGemm)
    self.prepare = (plan) =>
      prepareCpuPlan(plan, cpuPlanEnv(wasmGemm, self, { lib: blas, threadsFor, tinyWork: TINY_WORK }));
  else delete self.prepare;
  return self;
}

function sameFloat(x: TypedArray, dt: 'float32' | 'float64'): boolean {
  return dt === 'float32' ? x instanceof Float32Array : x instanceof Float64Array;
}

/** A rows×cols matrix copied into row-major order (for operands BLAS cannot read in place). */
function dense(
  base: Backend,
  storage: Storage,
  offset: number,
  rows: number,
  cols: number,
  rs: number,
  cs: number,
  dt: DType,
): TypedArray {
  return hostArray(base.unary('copy', { storage, offset, shape: [rows, cols], strides: [rs, cs] }, dt));
}
