/**
 * Batched, strided matrix product of the js backend. Operands are read in place whatever their
 * layout (transposed views cost no copy): with unit column stride in b the i-p-j (axpy) order runs
 * along contiguous rows; otherwise the i-j-p (dot) order; both block four rows of a so each load of
 * b feeds four accumulators. Accumulation is in float64.
 */
import { contiguousStrides, sizeOf } from '../../util/shape.js';
import type { HostView as View } from '../host.js';
import { allocate } from '../host.js';
import type { DType, TypedArray } from '../types.js';
import { forEachRun } from './iter.js';

function gemm(
  a: TypedArray,
  ao: number,
  ars: number,
  acs: number,
  b: TypedArray,
  bo: number,
  brs: number,
  bcs: number,
  o: TypedArray,
  oo: number,
  m: number,
  k: number,
  n: number,
): void {
  // Four rows of A at a time: each element of B read from memory serves four accumulators.
  let i = 0;
  if (bcs === 1) {
    // i-p-j: rows of B are contiguous.
    const r0 = allocate('float64', n) as Float64Array;
    const r1 = allocate('float64', n) as Float64Array;
    const r2 = allocate('float64', n) as Float64Array;
    const r3 = allocate('float64', n) as Float64Array;
    for (; i + 4 <= m; i += 4) {
      r0.fill(0);
      r1.fill(0);
      r2.fill(0);
      r3.fill(0);
      for (let p = 0; p < k; p++) {
        const pa = ao + i * ars + p * acs;
        const x0 = a[pa];
        const x1 = a[pa + ars];
        const x2 = a[pa + 2 * ars];
        const x3 = a[pa + 3 * ars];
        const bi = bo + p * brs;
        for (let j = 0; j < n; j++) {
          const bv = b[bi + j];
          r0[j] += x0 * bv;
          r1[j] += x1 * bv;
          r2[j] += x2 * bv;
          r3[j] += x3 * bv;
        }
      }
      const oi = oo + i * n;
      for (let j = 0; j < n; j++) {
        o[oi + j] = r0[j];
        o[oi + n + j] = r1[j];
        o[oi + 2 * n + j] = r2[j];
        o[oi + 3 * n + j] = r3[j];
      }
    }
    for (; i < m; i++) {
      r0.fill(0);
      for (let p = 0; p < k; p++) {
        const x0 = a[ao + i * ars + p * acs];
        const bi = bo + p * brs;
        for (let j = 0; j < n; j++) r0[j] += x0 * b[bi + j];
      }
      const oi = oo + i * n;
      for (let j = 0; j < n; j++) o[oi + j] = r0[j];
    }
    return;
  }
  // i-j-p: dot products along columns of B.
  for (; i + 4 <= m; i += 4) {
    const a0 = ao + i * ars;
    const oi = oo + i * n;
    for (let j = 0; j < n; j++) {
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      let x = a0;
      let y = bo + j * bcs;
      for (let p = 0; p < k; p++, x += acs, y += brs) {
        const bv = b[y];
        t0 += a[x] * bv;
        t1 += a[x + ars] * bv;
        t2 += a[x + 2 * ars] * bv;
        t3 += a[x + 3 * ars] * bv;
      }
      o[oi + j] = t0;
      o[oi + n + j] = t1;
      o[oi + 2 * n + j] = t2;
      o[oi + 3 * n + j] = t3;
    }
  }
  for (; i < m; i++) {
    const oi = oo + i * n;
    for (let j = 0; j < n; j++) {
      let t = 0;
      let x = ao + i * ars;
      let y = bo + j * bcs;
      for (let p = 0; p < k; p++, x += acs, y += brs) t += a[x] * b[y];
      o[oi + j] = t;
    }
  }
}

/** The dimensions and per-matrix strides of a batched product, as backends need them. */
export interface MatmulPlan {
  m: number;
  n: number;
  k: number;
  ars: number;
  acs: number;
  brs: number;
  bcs: number;
}

/**
 * Calls `fn(aOffset, bOffset, cOffset)` for every matrix of a batched product whose batch axes are
 * already broadcast (stride 0); the output is contiguous. Shared by every backend's matmul.
 */
export function forEachMatrix(
  a: View,
  b: View,
  outShape: readonly number[],
  fn: (plan: MatmulPlan, aOff: number, bOff: number, cOff: number) => void,
): void {
  const r = outShape.length;
  const plan: MatmulPlan = {
    m: outShape[r - 2],
    n: outShape[r - 1],
    k: a.shape[r - 1],
    ars: a.strides[r - 2],
    acs: a.strides[r - 1],
    brs: b.strides[r - 2],
    bcs: b.strides[r - 1],
  };
  const os = contiguousStrides(outShape);
  forEachRun(
    outShape.slice(0, r - 2),
    [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2), os.slice(0, r - 2)],
    [a.offset, b.offset, 0],
    (p, count, s) => {
      for (let q = 0; q < count; q++) fn(plan, p[0] + q * s[0], p[1] + q * s[1], p[2] + q * s[2]);
    },
  );
}

export function matmul(
  a: View,
  b: View,
  outShape: readonly number[],
  outDtype: DType,
  bias?: View,
): TypedArray {
  const out = allocate(outDtype, sizeOf(outShape));
  if (out.length === 0) return out;
  forEachMatrix(a, b, outShape, (p, ao, bo, co) => {
    gemm(a.data, ao, p.ars, p.acs, b.data, bo, p.brs, p.bcs, out, co, p.m, p.k, p.n);
  });
  if (bias) addRows(out, outShape[outShape.length - 1], bias);
  return out;
}

/** out[r, j] += bias[j] for every row r of a contiguous buffer with rows of n. */
export function addRows(out: TypedArray, n: number, bias: View): void {
  const bd = bias.data;
  const bs = bias.strides[0] ?? 0;
  for (let r = 0; r < out.length; r += n) {
    for (let j = 0, bi = bias.offset; j < n; j++, bi += bs) out[r + j] += bd[bi];
  }
}
