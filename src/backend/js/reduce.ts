/**
 * Reductions of the js backend. `reduce` walks the input once in memory order and accumulates into
 * a float64 buffer whose strides are 0 along reduced axes (so sums over any axes, contiguous or not,
 * are one pass); `argReduce` scans one axis. max/min propagate NaN as PyTorch does.
 */
import { contiguousStrides, sizeOf } from '../../util/shape.js';
import type { HostView as View } from '../host.js';
import { allocate } from '../host.js';
import type { DType, ReduceOp, TypedArray } from '../types.js';
import { forEachRun, runKind } from './iter.js';

/** Strides of the reduced output placed over the input's index space: 0 along reduced axes. */
function outStridesOver(shape: readonly number[], axes: readonly number[]): number[] {
  const kept = shape.filter((_, i) => !axes.includes(i));
  const ks = contiguousStrides(kept);
  let j = 0;
  return shape.map((_, i) => (axes.includes(i) ? 0 : ks[j++]));
}

/**
 * Sums of a contiguous float32 tensor over a leading or a trailing block of axes (bias gradients,
 * means, row sums): monomorphic loops; column sums in the general walk's order, row sums with four
 * partial sums (float64 either way, so the float32 result rarely differs in the last bit).
 * Returns false when the case does not apply.
 */
export function sumF32Blocks(x: View, axes: readonly number[], acc: Float64Array): boolean {
  const xd = x.data;
  if (!(xd instanceof Float32Array)) return false;
  const shape = x.shape;
  const nd = shape.length;
  const na = axes.length;
  if (runKind(x, shape) !== 1) return false;
  let leading = true;
  let trailing = true;
  for (let i = 0; i < na; i++) {
    if (axes[i] !== i) leading = false;
    if (axes[i] !== nd - na + i) trailing = false;
  }
  if (!leading && !trailing) return false;
  // A full reduction is one row (a sequential sum), as in the general walk.
  const split = trailing ? nd - na : na;
  let rows = 1;
  for (let d = 0; d < split; d++) rows *= shape[d];
  const cols = sizeOf(shape) / rows;
  if (trailing) rowSums(xd, x.offset, rows, cols, acc);
  else colSums(xd, x.offset, rows, cols, acc);
  return true;
}

function colSums(x: Float32Array, off: number, rows: number, cols: number, acc: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const o = off + i * cols;
    for (let j = 0; j < cols; j++) acc[j] += x[o + j];
  }
}

function rowSums(x: Float32Array, off: number, rows: number, cols: number, acc: Float64Array): void {
  for (let i = 0; i < rows; i++) acc[i] += rowSum(x, off + i * cols, cols);
}

/**
 * Σ of n contiguous float32s from x[off] in float64, as the reductions of this backend sum a row:
 * four interleaved partial sums (a sequential sum waits on each add's latency), then
 * (t0 + t1) + (t2 + t3).
 */
export function rowSum(x: Float32Array, off: number, n: number): number {
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    t0 += x[off + j];
    t1 += x[off + j + 1];
    t2 += x[off + j + 2];
    t3 += x[off + j + 3];
  }
  for (; j < n; j++) t0 += x[off + j];
  return t0 + t1 + (t2 + t3);
}

/**
 * Writes into a new array, or into `into` from index `at` with `scratch` (outSize doubles) as the
 * float64 accumulator when given (a compiled plan's arena: nothing allocated).
 */
export function reduce(
  op: ReduceOp,
  x: View,
  axes: readonly number[],
  outDtype: DType,
  into?: TypedArray,
  at = 0,
  scratch?: Float64Array,
): TypedArray {
  const outSize = sizeOf(x.shape.filter((_, i) => !axes.includes(i)));
  const acc = scratch ?? (allocate('float64', outSize) as Float64Array);
  if (scratch) acc.fill(0);
  const finish = (): TypedArray => {
    if (into) {
      into.set(acc, at);
      return into;
    }
    if (outDtype === 'float64') return acc;
    const out = allocate(outDtype, outSize);
    out.set(acc);
    return out;
  };
  if (op === 'sum' && sizeOf(x.shape) > 0 && sumF32Blocks(x, axes, acc)) return finish();
  const init = op === 'sum' ? 0 : op === 'max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  acc.fill(init);
  const xd = x.data;
  const os = outStridesOver(x.shape, axes);
  forEachRun(x.shape, [x.strides, os], [x.offset, 0], (p, n, s) => {
    let xi = p[0];
    const oi = p[1];
    const xs = s[0];
    const ost = s[1];
    if (op === 'sum') {
      if (ost === 0) {
        let t = 0;
        for (let i = 0; i < n; i++, xi += xs) t += xd[xi];
        acc[oi] += t;
      } else for (let i = 0; i < n; i++, xi += xs) acc[oi + i * ost] += xd[xi];
    } else if (op === 'max') {
      for (let i = 0; i < n; i++, xi += xs) {
        const v = xd[xi];
        const j = oi + i * ost;
        if (v > acc[j] || v !== v) acc[j] = v;
      }
    } else {
      for (let i = 0; i < n; i++, xi += xs) {
        const v = xd[xi];
        const j = oi + i * ost;
        if (v < acc[j] || v !== v) acc[j] = v;
      }
    }
  });
  return finish();
}

/** Into a new array, or into `into` from index `at` when given. */
export function argReduce(
  op: 'argmax' | 'argmin',
  x: View,
  axis: number,
  into?: Int32Array,
  at = 0,
): Int32Array {
  const others = x.shape.filter((_, i) => i !== axis);
  const otherStrides = x.strides.filter((_, i) => i !== axis);
  const out = into ?? new Int32Array(sizeOf(others));
  const len = x.shape[axis];
  const as = x.strides[axis];
  const xd = x.data;
  const isMax = op === 'argmax';
  forEachRun(others, [otherStrides, contiguousStrides(others)], [x.offset, at], (p, n, s) => {
    let base = p[0];
    for (let i = 0; i < n; i++, base += s[0]) {
      let best = xd[base];
      let bi = 0;
      if (best === best) {
        for (let j = 1, xi = base + as; j < len; j++, xi += as) {
          const v = xd[xi];
          if (v !== v) {
            bi = j;
            break;
          }
          if (isMax ? v > best : v < best) {
            best = v;
            bi = j;
          }
        }
      }
      out[p[1] + i] = bi;
    }
  });
  return out;
}
