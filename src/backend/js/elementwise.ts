/**
 * Element-wise kernels of the js backend: unary, binary (broadcast through stride 0) and where.
 * Each op has its own inner loop (no per-element closure); iteration is by runs (iter.ts).
 */

import { contiguousStrides, sizeOf } from '../../util/shape.js';
import { erf } from '../../util/special.js';
import type { HostView as View } from '../host.js';
import { allocate } from '../host.js';
import type { BinaryOp, DType, TypedArray, UnaryOp } from '../types.js';
import { forEachRun, runKind } from './iter.js';

type Arr = TypedArray;
type UnaryLoop = (x: Arr, xi: number, xs: number, o: Arr, oi: number, n: number) => void;
type BinaryLoop = (
  a: Arr,
  ai: number,
  as: number,
  b: Arr,
  bi: number,
  bs: number,
  o: Arr,
  oi: number,
  n: number,
) => void;

function sigmoid(v: number): number {
  // Stable on both sides: never evaluates exp of a large positive number.
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

const unaryLoops: { [K in UnaryOp]: UnaryLoop } = {
  copy: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = x[xi];
  },
  neg: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = -x[xi];
  },
  exp: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = Math.exp(x[xi]);
  },
  log: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = Math.log(x[xi]);
  },
  sqrt: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = Math.sqrt(x[xi]);
  },
  abs: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = Math.abs(x[xi]);
  },
  sign: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = Math.sign(x[xi]);
  },
  relu: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) {
      const v = x[xi];
      o[oi + i] = v > 0 || v !== v ? v : 0;
    }
  },
  sigmoid: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = sigmoid(x[xi]);
  },
  tanh: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = Math.tanh(x[xi]);
  },
  erf: (x, xi, xs, o, oi, n) => {
    for (let i = 0; i < n; i++, xi += xs) o[oi + i] = erf(x[xi]);
  },
};

const toBool: UnaryLoop = (x, xi, xs, o, oi, n) => {
  for (let i = 0; i < n; i++, xi += xs) o[oi + i] = x[xi] !== 0 ? 1 : 0;
};

const binaryLoops: { [K in BinaryOp]: BinaryLoop } = {
  reluGrad: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = b[bi] > 0 ? a[ai] : 0;
  },
  add: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] + b[bi];
  },
  sub: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] - b[bi];
  },
  mul: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] * b[bi];
  },
  div: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] / b[bi];
  },
  pow: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] ** b[bi];
  },
  maximum: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = Math.max(a[ai], b[bi]);
  },
  minimum: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = Math.min(a[ai], b[bi]);
  },
  eq: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] === b[bi] ? 1 : 0;
  },
  ne: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] !== b[bi] ? 1 : 0;
  },
  lt: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] < b[bi] ? 1 : 0;
  },
  le: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] <= b[bi] ? 1 : 0;
  },
  gt: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] > b[bi] ? 1 : 0;
  },
  ge: (a, ai, as, b, bi, bs, o, oi, n) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai] >= b[bi] ? 1 : 0;
  },
};

/** Every unary and binary kernel op, from the tables above (the conformance suite walks them). */
export const UNARY_OPS = Object.keys(unaryLoops) as UnaryOp[];
export const BINARY_OPS = Object.keys(binaryLoops) as BinaryOp[];

/**
 * The kernels below write into a new array, or into `out` from index `at` when given (a compiled
 * plan's arena: nothing allocated).
 */
export function unary(op: UnaryOp, x: View, outDtype: DType, out?: TypedArray, at = 0): TypedArray {
  const n = sizeOf(x.shape);
  const o = out ?? allocate(outDtype, n, false);
  const loop = op === 'copy' && outDtype === 'bool' ? toBool : unaryLoops[op];
  const xd = x.data;
  const kind = runKind(x, x.shape);
  if (kind >= 0) {
    loop(xd, x.offset, kind, o, at, n);
    return o;
  }
  forEachRun(x.shape, [x.strides, contiguousStrides(x.shape)], [x.offset, at], (p, n, s) => {
    loop(xd, p[0], s[0], o, p[1], n);
  });
  return o;
}

export function binary(
  op: BinaryOp,
  a: View,
  b: View,
  outShape: readonly number[],
  outDtype: DType,
  out?: TypedArray,
  at = 0,
): TypedArray {
  const n = sizeOf(outShape);
  const o = out ?? allocate(outDtype, n, false);
  const loop = binaryLoops[op];
  const ad = a.data;
  const bd = b.data;
  const ka = runKind(a, outShape);
  const kb = runKind(b, outShape);
  if (ka >= 0 && kb >= 0) {
    loop(ad, a.offset, ka, bd, b.offset, kb, o, at, n);
    return o;
  }
  forEachRun(
    outShape,
    [a.strides, b.strides, contiguousStrides(outShape)],
    [a.offset, b.offset, at],
    (p, n, s) => {
      loop(ad, p[0], s[0], bd, p[1], s[1], o, p[2], n);
    },
  );
  return o;
}

export function where(
  cond: View,
  a: View,
  b: View,
  outShape: readonly number[],
  outDtype: DType,
  into?: TypedArray,
  at = 0,
): TypedArray {
  const out = into ?? allocate(outDtype, sizeOf(outShape), false);
  const cd = cond.data;
  const ad = a.data;
  const bd = b.data;
  const strides = [cond.strides, a.strides, b.strides, contiguousStrides(outShape)];
  forEachRun(outShape, strides, [cond.offset, a.offset, b.offset, at], (p, n, s) => {
    let ci = p[0];
    let ai = p[1];
    let bi = p[2];
    const oi = p[3];
    for (let i = 0; i < n; i++, ci += s[0], ai += s[1], bi += s[2]) out[oi + i] = cd[ci] ? ad[ai] : bd[bi];
  });
  return out;
}

export function copyInto(dst: View, src: View): void {
  const dd = dst.data;
  const sd = src.data;
  const toBoolean = dd instanceof Uint8Array && !(sd instanceof Uint8Array);
  const sameType = dd.constructor === sd.constructor;
  forEachRun(dst.shape, [dst.strides, src.strides], [dst.offset, src.offset], (p, n, s) => {
    let di = p[0];
    let si = p[1];
    // Dense runs of one type: one memmove (a gradient's copy_ into a step's buffer: ~20× faster).
    if (sameType && s[0] === 1 && s[1] === 1 && n >= 16) dd.set(sd.subarray(si, si + n), di);
    else if (toBoolean) for (let i = 0; i < n; i++, di += s[0], si += s[1]) dd[di] = sd[si] !== 0 ? 1 : 0;
    else for (let i = 0; i < n; i++, di += s[0], si += s[1]) dd[di] = sd[si];
  });
}
