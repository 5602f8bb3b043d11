/**
 * The `wasm` backend: the js backend with the kernels that dominate MLP training replaced by
 * WebAssembly SIMD versions — today the float32 matrix product (packed 4×8 micro-kernel, every
 * operand layout read in place); everything else, and float64, falls back to js kernel by kernel.
 * Created only where WebAssembly SIMD is available.
 */
import { contiguousStrides, sizeOf } from '../../util/shape.js';
import { jsBackend } from '../js/index.js';
import { forEachRun } from '../js/iter.js';
import type { Backend, DType, TypedArray, View } from '../types.js';
import { WasmGemm } from './gemm.js';

/** Creates the wasm backend, or null when this engine lacks WebAssembly SIMD. */
export function createWasmBackend(): (Backend & { gemm: WasmGemm }) | null {
  const gemm = WasmGemm.load();
  if (!gemm) return null;
  const matmul = (a: View, b: View, outShape: readonly number[], outDtype: DType): TypedArray => {
    if (!(a.data instanceof Float32Array) || !(b.data instanceof Float32Array) || outDtype !== 'float32') {
      return jsBackend.matmul(a, b, outShape, outDtype);
    }
    const r = outShape.length;
    const m = outShape[r - 2];
    const n = outShape[r - 1];
    const k = a.shape[r - 1];
    const out = new Float32Array(sizeOf(outShape));
    if (out.length === 0) return out;
    const os = contiguousStrides(outShape);
    const [ars, acs] = [a.strides[r - 2], a.strides[r - 1]];
    const [brs, bcs] = [b.strides[r - 2], b.strides[r - 1]];
    const ad = a.data;
    const bd = b.data as Float32Array;
    forEachRun(
      outShape.slice(0, r - 2),
      [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2), os.slice(0, r - 2)],
      [a.offset, b.offset, 0],
      (p, count, s) => {
        for (let q = 0; q < count; q++) {
          gemm.multiply(
            ad,
            p[0] + q * s[0],
            ars,
            acs,
            bd,
            p[1] + q * s[1],
            brs,
            bcs,
            out,
            p[2] + q * s[2],
            m,
            n,
            k,
          );
        }
      },
    );
    return out;
  };
  return { ...jsBackend, name: 'wasm', matmul, gemm };
}
