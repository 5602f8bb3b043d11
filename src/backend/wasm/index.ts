/**
 * The `wasm` backend: the js backend with the kernels that dominate MLP training replaced by
 * WebAssembly SIMD versions — the float32 matrix product (packed 4×8 micro-kernel, every operand
 * layout read in place), float32 element-wise ops (add, sub, mul, div, maximum, minimum, relu and
 * its fused backward, neg, abs, sqrt, strided copies), fused inverted dropout, the optimizer's
 * axpy and its fused step (which moves the parameters and state it updates into the kernels'
 * memory once, then updates them in place); everything else, float64, and shapes a kernel does not
 * cover fall back to js kernel by kernel. Created only where WebAssembly SIMD is available.
 */
import { bytesPerElement } from '../../util/dtype.js';
import { sizeOf } from '../../util/shape.js';
import { allocate, HostStorage, hostView as hv, wrap } from '../host.js';
import { jsBackend } from '../js/index.js';
import { forEachMatrix } from '../js/matmul.js';
import type { Backend, DType, Storage, View } from '../types.js';
import { wasmElementwise } from './elementwise.js';
import { WasmGemm } from './gemm.js';
import { type CpuPlanEnv, prepareCpuPlan } from './planRunner.js';

/** Storages smaller than this (floats) stay where they are (the kernels copy them; see `adopt`). */
const ADOPT_MIN = 4096;

/** Creates the wasm backend, or null when this engine lacks WebAssembly SIMD. */
export function createWasmBackend(): (Backend & { gemm: WasmGemm }) | null {
  const gemm = WasmGemm.load();
  if (!gemm) return null;
  const ew = wasmElementwise(gemm.ex, gemm.arena);
  const heap = gemm.arena.heap;
  /**
   * Moves a float32 storage an eager optimizer step updates (a parameter, its state) into the
   * kernels' memory, once: later steps update it in place instead of copying it in and out (as a
   * compiled plan's steps do; its tensors follow, `HostStorage.relocate`). Left where it is when
   * small or when the memory has no room.
   */
  const adopt = (v: View): void => {
    const s = v.storage;
    if (s instanceof HostStorage && s.dtype === 'float32' && s.region === null && s.length >= ADOPT_MIN)
      heap.adopt(s);
  };
  const matmul = (
    av: View,
    bv: View,
    outShape: readonly number[],
    outDtype: DType,
    biasv?: View,
  ): Storage => {
    const a = hv(av);
    const b = hv(bv);
    if (!(a.data instanceof Float32Array) || !(b.data instanceof Float32Array) || outDtype !== 'float32') {
      return jsBackend.matmul(av, bv, outShape, outDtype, biasv);
    }
    const out = allocate('float32', sizeOf(outShape)) as Float32Array;
    if (out.length === 0) return wrap(out);
    const ad = a.data;
    const bd = b.data as Float32Array;
    const r = outShape.length;
    const n = outShape[r - 1];
    let bv32: Float32Array | null = null;
    if (biasv) {
      const bias = hv(biasv);
      // The epilogue wants n contiguous floats: a contiguous float32 bias as is, any other copied.
      bv32 =
        bias.data instanceof Float32Array && (bias.strides[0] === 1 || n <= 1)
          ? bias.data.subarray(bias.offset, bias.offset + n)
          : Float32Array.from({ length: n }, (_, j) => bias.data[bias.offset + j * bias.strides[0]]);
    }
    if (r === 2) {
      // One matrix: no batch walk.
      gemm.multiply(
        { data: ad, offset: a.offset, rowStride: a.strides[0], colStride: a.strides[1] },
        { data: bd, offset: b.offset, rowStride: b.strides[0], colStride: b.strides[1] },
        { data: out, offset: 0 },
        { m: outShape[0], n, k: a.shape[1] },
        bv32,
      );
      return wrap(out);
    }
    forEachMatrix(a, b, outShape, (p, ao, bo, co) => {
      gemm.multiply(
        { data: ad, offset: ao, rowStride: p.ars, colStride: p.acs },
        { data: bd, offset: bo, rowStride: p.brs, colStride: p.bcs },
        { data: out, offset: co },
        p,
        bv32,
      );
    });
    return wrap(out);
  };
  const self: Backend & { gemm: WasmGemm } = {
    ...jsBackend,
    name: 'wasm',
    matmul,
    unary: (op, x, outDtype) => {
      const out = ew.unary(op, hv(x), outDtype);
      return out ? wrap(out) : jsBackend.unary(op, x, outDtype);
    },
    binary: (op, a, b, outShape, outDtype) => {
      const out = ew.binary(op, hv(a), hv(b), outShape, outDtype);
      return out ? wrap(out) : jsBackend.binary(op, a, b, outShape, outDtype);
    },
    dropout: (x, p, scale, rng) => {
      const out = ew.dropout(hv(x), p, scale, rng);
      return out ? [wrap(out[0]), wrap(out[1])] : jsBackend.dropout(x, p, scale, rng);
    },
    reduce: (op, x, axes, outDtype) => {
      const out = op === 'sum' ? ew.columnSums(hv(x), axes, outDtype) : null;
      return out ? wrap(out) : jsBackend.reduce(op, x, axes, outDtype);
    },
    axpy: (y, alpha, x) => {
      if (!ew.axpy(hv(y), alpha, hv(x))) jsBackend.axpy(y, alpha, x);
    },
    optimizerStep: (family, w, g, state, h) => {
      adopt(w);
      for (const v of state) adopt(v);
      if (!ew.optimizerStep(family, hv(w), hv(g), state.map(hv), h))
        jsBackend.optimizerStep(family, w, g, state, h);
    },
    prepare: (plan) => prepareCpuPlan(plan, cpuPlanEnv(gemm, self, null)),
    resident: (dtype, length) => {
      // No room in the memory: null, and the caller makes an ordinary host array.
      const r = heap.region(length * bytesPerElement(dtype));
      return r ? HostStorage.inRegion(r, r.at, dtype, length) : null;
    },
    gemm,
  };
  return self;
}

/** What the plan runner needs of a wasm kernel instance, with the backend it falls back on. */
export function cpuPlanEnv(gemm: WasmGemm, fallback: Backend, blas: CpuPlanEnv['blas']): CpuPlanEnv {
  return { ex: gemm.ex, heap: gemm.arena.heap, arena: gemm.arena, gemm, fallback, blas };
}
