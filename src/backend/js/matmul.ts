/**
 * Batched, strided matrix product of the js backend. Operands are read in place whatever their
 * layout (transposed views cost no copy): with unit column stride in b the i-p-j (axpy) order runs
 * along contiguous rows; otherwise the i-j-p (dot) order. Accumulation is in float64.
 */
import { contiguousStrides, sizeOf } from '../../util/shape.js';
import type { DType, TypedArray, View } from '../types.js';
import { allocate } from '../types.js';
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
  if (bcs === 1) {
    const row = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      row.fill(0);
      const ai = ao + i * ars;
      for (let p = 0; p < k; p++) {
        const av = a[ai + p * acs];
        const bi = bo + p * brs;
        for (let j = 0; j < n; j++) row[j] += av * b[bi + j];
      }
      const oi = oo + i * n;
      for (let j = 0; j < n; j++) o[oi + j] = row[j];
    }
    return;
  }
  for (let i = 0; i < m; i++) {
    const ai = ao + i * ars;
    const oi = oo + i * n;
    for (let j = 0; j < n; j++) {
      let t = 0;
      let x = ai;
      let y = bo + j * bcs;
      for (let p = 0; p < k; p++, x += acs, y += brs) t += a[x] * b[y];
      o[oi + j] = t;
    }
  }
}

export function matmul(a: View, b: View, outShape: readonly number[], outDtype: DType): TypedArray {
  const r = outShape.length;
  const m = outShape[r - 2];
  const n = outShape[r - 1];
  const k = a.shape[r - 1];
  const out = allocate(outDtype, sizeOf(outShape));
  if (out.length === 0) return out;
  const batch = outShape.slice(0, r - 2);
  const os = contiguousStrides(outShape);
  const [ars, acs] = [a.strides[r - 2], a.strides[r - 1]];
  const [brs, bcs] = [b.strides[r - 2], b.strides[r - 1]];
  forEachRun(
    batch,
    [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2), os.slice(0, r - 2)],
    [a.offset, b.offset, 0],
    (p, count, s) => {
      for (let q = 0; q < count; q++) {
        gemm(
          a.data,
          p[0] + q * s[0],
          ars,
          acs,
          b.data,
          p[1] + q * s[1],
          brs,
          bcs,
          out,
          p[2] + q * s[2],
          m,
          k,
          n,
        );
      }
    },
  );
  return out;
}
