/**
 * Reductions over axes with `keepdim`: sum and amax/amin are primitives (backward side by side);
 * mean, var, std, logsumexp, max/min, argmax/argmin are built on them. `axis` undefined means all
 * axes. Reductions of int/bool tensors sum to int32 (sum) or keep their dtype (max/min).
 */
import { record } from '../autograd/node.js';
import { backend } from '../backend/registry.js';
import type { DType, ReduceOp } from '../backend/types.js';
import { fromHost } from '../tensor/create.js';
import { defaultFloatDType, isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape, ShapeError, ValueError } from '../util/errors.js';
import { normAxes, normAxis, reducedShape, sameShape } from '../util/shape.js';
import { copyAs, fromKernel } from './core.js';
import { add, cast, div, eq, exp, isfinite, log, mul, sqrt, sub, where } from './elementwise.js';
import { expand, reshape } from './shape.js';

/** An axis argument: one axis, several, or undefined for all. */
export type Axes = number | readonly number[] | undefined;

interface ReduceCtx {
  axes: number[];
  keepShape: number[];
  inShape: readonly number[];
}

function reduceKernel(op: ReduceOp, x: Tensor, axes: number[], keepdim: boolean, dtype: DType): Tensor {
  const data = backend().reduce(op, x, axes, dtype);
  return fromKernel(data, reducedShape(x.shape, axes, keepdim), dtype);
}

/** Sum over `axis` (all axes when undefined). */
export function sum(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  const axes = normAxes('sum', axis, x.ndim);
  const dtype = isFloat(x.dtype) ? x.dtype : 'int32';
  const y = reduceKernel('sum', x, axes, keepdim, dtype);
  const ctx: ReduceCtx = { axes, keepShape: reducedShape(x.shape, axes, true), inShape: x.shape };
  // d Σx = broadcast(dy) over the reduced axes
  return record('sum', y, [x], [], ctx, (g, _s, c) => [expand(reshape(g, c.keepShape), c.inShape)]);
}

function extreme(op: 'max' | 'min', x: Tensor, axis: Axes, keepdim: boolean): Tensor {
  const name = op === 'max' ? 'amax' : 'amin';
  const axes = normAxes(name, axis, x.ndim);
  for (const a of axes) {
    if (x.shape[a] === 0)
      throw new ValueError(`${name}: cannot reduce axis ${a} of size 0 (no identity for ${op})`);
  }
  const y = reduceKernel(op, x, axes, keepdim, x.dtype);
  const ctx: ReduceCtx = { axes, keepShape: reducedShape(x.shape, axes, true), inShape: x.shape };
  // d max(x) = dy·[x = max]/#ties   (the gradient is shared evenly among tied maxima, as PyTorch's amax)
  return record(name, y, [x], [x, y], ctx, (g, [x, y], c) => {
    const mask = cast(eq(x, reshape(y, c.keepShape)), g.dtype);
    const count = sum(mask, c.axes, true);
    return [div(mul(reshape(g, c.keepShape), mask), count)];
  });
}

/** Maximum over `axis` (values only; ties share the gradient). */
export function amax(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  return extreme('max', x, axis, keepdim);
}

/** Minimum over `axis` (values only; ties share the gradient). */
export function amin(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  return extreme('min', x, axis, keepdim);
}

/** Alias of `amax`. */
export function max(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  return amax(x, axis, keepdim);
}
/** Alias of `amin`. */
export function min(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  return amin(x, axis, keepdim);
}

function count(x: Tensor, axes: number[]): number {
  return axes.reduce((n, a) => n * x.shape[a], 1);
}

/** Mean over `axis`. */
export function mean(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  const axes = normAxes('mean', axis, x.ndim);
  const xf = isFloat(x.dtype) ? x : copyAs(x, defaultFloatDType());
  return div(sum(xf, axes, keepdim), count(x, axes));
}

/** Options of `variance` and `std`. */
export interface VarOptions {
  /** Subtracted from the count in the denominator: 1 (default) is the unbiased estimator, 0 the population variance. */
  correction?: number;
  keepdim?: boolean;
}

/** Variance over `axis` (unbiased by default, as PyTorch's `var`). */
export function variance(x: Tensor, axis?: Axes, opts: VarOptions = {}): Tensor {
  const axes = normAxes('var', axis, x.ndim);
  const { correction = 1, keepdim = false } = opts;
  const d = sub(x, mean(x, axes, true));
  return div(sum(mul(d, d), axes, keepdim), Math.max(0, count(x, axes) - correction));
}

/** Standard deviation over `axis`. */
export function std(x: Tensor, axis?: Axes, opts: VarOptions = {}): Tensor {
  return sqrt(variance(x, axis, opts));
}

/**
 * The p-norm of all elements of `t` as a number (p = 2 by default, Infinity for the largest
 * magnitude), accumulated in float64 on a host copy; no gradient. Gradient clipping, the gradient
 * tracker and the diagnostics all measure with it.
 */
export function vectorNorm(t: Tensor, p = 2): number {
  const d = t.readSync();
  let s = 0;
  if (p === Number.POSITIVE_INFINITY) {
    for (let i = 0; i < d.length; i++) s = Math.max(s, Math.abs(d[i]));
    return s;
  }
  if (p === 2) {
    for (let i = 0; i < d.length; i++) s += d[i] * d[i];
    return Math.sqrt(s);
  }
  for (let i = 0; i < d.length; i++) s += Math.abs(d[i]) ** p;
  return s ** (1 / p);
}

/** log Σ exp(x) over `axis`, stable for any magnitude (the max is subtracted first). */
export function logsumexp(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  const axes = normAxes('logsumexp', axis, x.ndim);
  const m0 = amax(x, axes, true).detach();
  const m = where(isfinite(m0), m0, 0);
  const s = log(sum(exp(sub(x, m)), axes, true));
  const out = add(s, m);
  return keepdim ? out : reshape(out, reducedShape(x.shape, axes, false));
}

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepdim: boolean): Tensor {
  if (axis === undefined) {
    const flat = reshape(x.detach(), [-1]);
    if (flat.size === 0) throw new ValueError(`${op}: cannot take ${op} of an empty tensor`);
    const r = fromKernel(backend().argReduce(op, flat, 0), [], 'int32');
    return keepdim
      ? reshape(
          r,
          x.shape.map(() => 1),
        )
      : r;
  }
  const a = normAxis(op, axis, x.ndim);
  if (x.ndim > 0 && x.shape[a] === 0) throw new ValueError(`${op}: cannot reduce axis ${a} of size 0`);
  if (x.ndim === 0) return fromHost(new Int32Array(1), [], 'int32');
  return fromKernel(backend().argReduce(op, x, a), reducedShape(x.shape, [a], keepdim), 'int32');
}

/** Index of the maximum along `axis` (of the flattened tensor when undefined); int32, no gradient. */
export function argmax(x: Tensor, axis?: number, keepdim = false): Tensor {
  return argExtreme('argmax', x, axis, keepdim);
}

/** Index of the minimum along `axis`; int32, no gradient. */
export function argmin(x: Tensor, axis?: number, keepdim = false): Tensor {
  return argExtreme('argmin', x, axis, keepdim);
}

/** Sums a (broadcast) tensor down to `shape` — the inverse of broadcasting, used to un-broadcast gradients. */
export function sumToShape(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.ndim - shape.length;
  const fail = () => new ShapeError(`sumToShape: cannot sum ${fmtShape(x.shape)} down to ${fmtShape(shape)}`);
  if (lead < 0) throw fail();
  const axes: number[] = [];
  for (let i = 0; i < x.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
    else if (shape[i - lead] !== x.shape[i]) throw fail();
  }
  return reshape(sum(x, axes, true), shape);
}
