/**
 * The wasm backend's element-wise kernels (assembly/elementwise.ts) for float32: unary and binary
 * ops on views that collapse to at most two dimensions with non-negative strides, and fused inverted
 * dropout, and axpy (the optimizer's update). Tensors live in host memory (host.ts), so each call
 * copies the spans its operands cover into linear memory and the result out into a host array
 * (memcpy speed, a few µs per 256 KB); below `MIN_SIZE` elements the js kernel is cheaper and runs
 * instead. Results equal the js backend's bit for bit.
 */
import { dropThreshold } from '../../util/random.js';
import { sizeOf } from '../../util/shape.js';
import { allocate, type HostView as View } from '../host.js';
import { collapse, runKind } from '../js/iter.js';
import type { OptimizerFamily } from '../optimizer.js';
import type { BinaryOp, DType, RandomState, TypedArray, UnaryOp } from '../types.js';
import { type Arena, align } from './arena.js';
import type { KernelExports } from './module.js';

/** Op codes of assembly/elementwise.ts (the plan runner uses them too). */
export const BINARY: Partial<Record<BinaryOp, number>> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
  reluGrad: 6,
};
export const UNARY: Partial<Record<UnaryOp, number>> = { copy: 0, neg: 1, abs: 2, sqrt: 3, relu: 4 };
/** Family codes of assembly/optimizer.ts. */
export const FAMILY: Record<OptimizerFamily, number> = { sgd: 0, adam: 1, rmsprop: 2, adagrad: 3 };

/** Updates of fewer elements run in the js loop (copying in and out costs more). */
const AXPY_MIN_SIZE = 4096;

/** Below this many output elements the js loop beats copying in and out. */
const MIN_SIZE = 512;

/** A view reduced to rows × cols with row and column strides (elements) and its span. */
export interface Plan2 {
  rows: number;
  cols: number;
  /** [rowStride, colStride] per operand. */
  strides: [number, number][];
}

/** Collapses `shape` for all operands to ≤ 2 dims with non-negative strides, else null. */
export function plan2(shape: readonly number[], strides: readonly (readonly number[])[]): Plan2 | null {
  const c = collapse(shape, strides);
  const nd = c.shape.length;
  if (nd > 2) return null;
  for (const s of c.strides) for (const v of s) if (v < 0) return null;
  if (nd === 0) return { rows: 1, cols: 1, strides: strides.map(() => [0, 0]) };
  if (nd === 1) return { rows: 1, cols: c.shape[0], strides: c.strides.map((s) => [0, s[0]]) };
  return { rows: c.shape[0], cols: c.shape[1], strides: c.strides.map((s) => [s[0], s[1]]) };
}

/**
 * [rows, cols] when a sum over `axes` of `shape` is over its leading axes with some left (a bias
 * gradient: the column-sum kernel's case), else null.
 */
export function leadingColumns(shape: readonly number[], axes: readonly number[]): [number, number] | null {
  const na = axes.length;
  if (na === 0 || na >= shape.length) return null;
  let rows = 1;
  for (let d = 0; d < na; d++) {
    if (axes[d] !== d) return null;
    rows *= shape[d];
  }
  return [rows, rows === 0 ? 0 : sizeOf(shape) / rows];
}

/**
 * [rows, cols] when `axes` are the trailing axes of `shape` in order (all of them: one row), else
 * null: a sum over them is a row sum per leading index.
 */
export function trailingRows(shape: readonly number[], axes: readonly number[]): [number, number] | null {
  const nd = shape.length;
  const na = axes.length;
  if (na === 0 || na > nd) return null;
  let cols = 1;
  for (let d = 0; d < na; d++) {
    if (axes[d] !== nd - na + d) return null;
    cols *= shape[nd - na + d];
  }
  return [cols === 0 ? 0 : sizeOf(shape) / cols, cols];
}

/**
 * The byte address kernels read `n` floats of `a` from `offset` at: in place when `a` lives in the
 * memory `f` views (a storage the backend or a plan adopted), else copied to `scratch` first.
 */
function place(f: Float32Array, a: Float32Array, offset: number, n: number, scratch: number): number {
  if (a.buffer === f.buffer) return a.byteOffset + 4 * offset;
  f.set(a.subarray(offset, offset + n), scratch >> 2);
  return scratch;
}

/** n floats at byte address `at` as a new host array (from the slabs or the pool, see allocate). */
function copyOut(f: Float32Array, at: number, n: number): Float32Array {
  const out = allocate('float32', n, false) as Float32Array;
  out.set(f.subarray(at >> 2, (at >> 2) + n));
  return out;
}

function span(p: Plan2, k: number): number {
  const [rs, cs] = p.strides[k];
  return 1 + (p.rows - 1) * rs + (p.cols - 1) * cs;
}

/** The float32 element-wise kernels bound to one wasm instance; null means "use js". */
export function wasmElementwise(ex: KernelExports, arena: Arena) {
  const f32 = (t: TypedArray): t is Float32Array => t instanceof Float32Array;

  function unary(op: UnaryOp, x: View, outDtype: DType): TypedArray | null {
    const code = UNARY[op];
    if (code === undefined || outDtype !== 'float32' || !f32(x.data)) return null;
    const n = sizeOf(x.shape);
    if (n < MIN_SIZE) return null;
    const p = plan2(x.shape, [x.strides]);
    if (!p) return null;
    const sx = span(p, 0);
    const ops = [x.data];
    const base = arena.reserveFor(align(sx * 4) + n * 4, ops);
    const px = base;
    const po = align(px + sx * 4);
    const f = arena.floats();
    f.set(ops[0].subarray(x.offset, x.offset + sx), px >> 2);
    ex.unary(code, px, p.strides[0][0], p.strides[0][1], po, p.rows, p.cols);
    return copyOut(f, po, n);
  }

  function binary(
    op: BinaryOp,
    a: View,
    b: View,
    outShape: readonly number[],
    outDtype: DType,
  ): TypedArray | null {
    const code = BINARY[op];
    if (code === undefined || outDtype !== 'float32' || !f32(a.data) || !f32(b.data)) return null;
    const n = sizeOf(outShape);
    if (n < MIN_SIZE) return null;
    const p = plan2(outShape, [a.strides, b.strides]);
    if (!p) return null;
    const sa = span(p, 0);
    const sb = span(p, 1);
    const ops = [a.data, b.data];
    const pa = arena.reserveFor(align(sa * 4) + align(sb * 4) + n * 4, ops);
    const pb = align(pa + sa * 4);
    const po = align(pb + sb * 4);
    const f = arena.floats();
    f.set(ops[0].subarray(a.offset, a.offset + sa), pa >> 2);
    f.set(ops[1].subarray(b.offset, b.offset + sb), pb >> 2);
    const [ars, acs] = p.strides[0];
    const [brs, bcs] = p.strides[1];
    ex.binary(code, pa, ars, acs, pb, brs, bcs, po, p.rows, p.cols);
    return copyOut(f, po, n);
  }

  function dropout(x: View, p: number, scale: number, rng: RandomState): [TypedArray, TypedArray] | null {
    if (!f32(x.data)) return null;
    const n = sizeOf(x.shape);
    // The kernel reads x contiguously: only contiguous views qualify.
    if (n < MIN_SIZE || runKind(x, x.shape) !== 1) return null;
    const k0 = rng.nextUint32();
    const k1 = rng.nextUint32();
    const ops = [x.data];
    const px = arena.reserveFor(3 * align(n * 4), ops);
    const pout = align(px + n * 4);
    const pmask = align(pout + n * 4);
    const f = arena.floats();
    f.set(ops[0].subarray(x.offset, x.offset + n), px >> 2);
    const [t, all] = dropThreshold(p);
    ex.dropout(px, n, k0, k1, 0, t, all, scale, pout, pmask);
    return [copyOut(f, pout, n), copyOut(f, pmask, n)];
  }

  /** y ← y + alpha·x for contiguous float32 y and x (the kernel computes w − lr·g: lr = −alpha). */
  function axpy(y: View, alpha: number, x: View): boolean {
    const n = sizeOf(y.shape);
    if (!f32(y.data) || !f32(x.data) || n < AXPY_MIN_SIZE) return false;
    if (runKind(y, y.shape) !== 1 || runKind(x, y.shape) !== 1) return false;
    const ops = [y.data, x.data];
    const pw = arena.reserveFor(2 * align(n * 4), ops);
    const pg = align(pw + n * 4);
    const f = arena.floats();
    const wv = ops[0].subarray(y.offset, y.offset + n);
    f.set(wv, pw >> 2);
    f.set(ops[1].subarray(x.offset, x.offset + n), pg >> 2);
    ex.sgd(pw, pg, n, -alpha);
    wv.set(f.subarray(pw >> 2, (pw >> 2) + n));
    return true;
  }

  /**
   * One fused optimizer step on contiguous float32 operands: an operand already in the kernels'
   * memory (a parameter or state the backend adopted, or a compiled plan did) is updated in place;
   * the others are copied in, updated, and w and the state copied back (false for what the kernel
   * does not take).
   */
  function optimizerStep(
    family: OptimizerFamily,
    w: View,
    g: View,
    state: readonly View[],
    h: Float64Array,
  ): boolean {
    const n = sizeOf(w.shape);
    if (!f32(w.data) || !f32(g.data) || !state.every((v) => f32(v.data)) || n < AXPY_MIN_SIZE) return false;
    if (runKind(g, w.shape) !== 1) return false;
    const views = [w, g, ...state];
    const ops = views.map((v) => v.data as Float32Array);
    const ph = arena.reserveFor(align(8 * h.length) + views.length * align(n * 4), ops);
    const f = arena.floats();
    new Float64Array(f.buffer, ph, h.length).set(h);
    const addr = views.map((v, k) =>
      place(f, ops[k], v.offset, n, align(ph + 8 * h.length) + k * align(n * 4)),
    );
    const [pw, pg, ...ps] = addr;
    ex.optimizerStep(FAMILY[family], pw, pg, ps[0] ?? 0, ps[1] ?? 0, ps[2] ?? 0, n, ph);
    // What was copied in goes back out (all but the gradient, k = 1).
    for (let k = 0; k < views.length; k++)
      if (k !== 1 && ops[k].buffer !== f.buffer)
        ops[k].set(f.subarray(addr[k] >> 2, (addr[k] >> 2) + n), views[k].offset);
    return true;
  }

  /**
   * Sums of a contiguous float32 over its leading axes (a bias gradient), into a new float32 array:
   * the js backend's column sums (float64, row by row, rounded once) in wasm; null where they do
   * not apply (the js reduction runs).
   */
  function columnSums(x: View, axes: readonly number[], outDtype: DType): Float32Array | null {
    const columns = leadingColumns(x.shape, axes);
    const n = sizeOf(x.shape);
    if (!columns || outDtype !== 'float32' || !f32(x.data) || n < MIN_SIZE || runKind(x, x.shape) !== 1)
      return null;
    const [rows, cols] = columns;
    const ops = [x.data as Float32Array];
    const at = arena.reserveFor(align(n * 4) + align(cols * 8) + align(cols * 4), ops);
    const acc = at + align(n * 4);
    const out = acc + align(cols * 8);
    const f = arena.floats();
    ex.columnSums(place(f, ops[0], x.offset, n, at), rows, cols, acc, out);
    return copyOut(f, out, cols);
  }

  return { unary, binary, dropout, axpy, optimizerStep, columnSums };
}
