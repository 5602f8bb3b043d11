/**
 * Element-wise primitives with their backward rules side by side, and element-wise composites.
 * Binary ops broadcast (NumPy rules) and promote dtypes (bool < int32 < float32 < float64); a JS
 * number next to a tensor takes the tensor's dtype. Rules return gradients in the broadcast output
 * shape; the autograd engine sums them down to each input's shape.
 */

import { record } from '../autograd/node.js';
import { backend } from '../backend/registry.js';
import type { BinaryOp, DType, UnaryOp } from '../backend/types.js';
import { defaultFloatDType, isFloat, promote } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { DTypeError, ValueError } from '../util/errors.js';
import { broadcastShapes, broadcastStrides } from '../util/shape.js';
import { copyAs, fromKernel, liftPair, type Operand, viewOf } from './core.js';

// ---------------------------------------------------------------- helpers

function floatOf(t: Tensor): Tensor {
  return isFloat(t.dtype) ? t : copyAs(t, defaultFloatDType());
}

function unaryKernel(op: UnaryOp, x: Tensor, dtype: DType = x.dtype): Tensor {
  return fromKernel(backend().unary(op, x, dtype), x.shape, dtype);
}

function broadcastTo(t: Tensor, shape: readonly number[]): Tensor {
  return viewOf(t, shape, broadcastStrides(t.shape, t.strides, shape), t.offset);
}

function binaryKernel(op: BinaryOp, a: Tensor, b: Tensor, dtype: DType): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  return fromKernel(
    backend().binary(op, broadcastTo(a, shape), broadcastTo(b, shape), shape, dtype),
    shape,
    dtype,
  );
}

// ---------------------------------------------------------------- unary primitives

/** -x */
export function neg(x: Tensor): Tensor {
  const y = unaryKernel('neg', x, x.dtype === 'bool' ? 'int32' : x.dtype);
  // d(-x) = -dx
  return record('neg', y, [x], [], null, (g) => [neg(g)]);
}

/** e^x */
export function exp(x: Tensor): Tensor {
  const y = unaryKernel('exp', floatOf(x));
  // d(e^x) = e^x·dx
  return record('exp', y, [x], [y], null, (g, [y]) => [mul(g, y)]);
}

/** Natural logarithm (NaN below 0, -inf at 0). */
export function log(x: Tensor): Tensor {
  const y = unaryKernel('log', floatOf(x));
  // d(ln x) = dx / x
  return record('log', y, [x], [x], null, (g, [x]) => [div(g, x)]);
}

/** √x */
export function sqrt(x: Tensor): Tensor {
  const y = unaryKernel('sqrt', floatOf(x));
  // d(√x) = dx / (2√x)
  return record('sqrt', y, [x], [y], null, (g, [y]) => [div(g, mul(y, 2))]);
}

/** |x| */
export function abs(x: Tensor): Tensor {
  const y = unaryKernel('abs', x);
  // d|x| = sign(x)·dx   (0 at x = 0, as PyTorch)
  return record('abs', y, [x], [x], null, (g, [x]) => [mul(g, sign(x))]);
}

/** -1, 0 or 1 (NaN stays NaN); its gradient is zero. */
export function sign(x: Tensor): Tensor {
  const y = unaryKernel('sign', x, x.dtype === 'bool' ? 'int32' : x.dtype);
  // d sign(x) = 0
  return record('sign', y, [x], [], null, (g) => [mul(g, 0)]);
}

/** max(x, 0) */
export function relu(x: Tensor): Tensor {
  const y = unaryKernel('relu', x);
  // d relu(x) = [x > 0]·dx = [relu(x) > 0]·dx, one fused pass (reluGrad)
  return record('relu', y, [x], [y], null, (g, [y]) => [reluGrad(g, y)]);
}

/**
 * relu's backward as one pass: g where y > 0, else 0 (also where y is NaN). The same values as
 * where(gt(y, 0), g, 0), without the bool mask; differentiable in g (it is linear in g).
 */
export function reluGrad(g: Tensor, y: Tensor): Tensor {
  if (!isFloat(g.dtype) || g.dtype !== y.dtype)
    throw new DTypeError(`reluGrad: expected float tensors of one dtype, got ${g.dtype} and ${y.dtype}`);
  const out = binaryKernel('reluGrad', g, y, g.dtype);
  // d reluGrad(g, y) = [y > 0]·dg   (0 with respect to y, almost everywhere)
  return record('reluGrad', out, [g, y], [y], null, (gg, [y], _c, needs) => [
    needs[0] ? reluGrad(gg, y) : null,
    needs[1] ? mul(gg, 0) : null,
  ]);
}

/** 1 / (1 + e^-x), computed without overflow for any x. */
export function sigmoid(x: Tensor): Tensor {
  const y = unaryKernel('sigmoid', floatOf(x));
  // d σ(x) = σ(x)(1 − σ(x))·dx
  return record('sigmoid', y, [x], [y], null, (g, [y]) => [mul(g, mul(y, rsub(1, y)))]);
}

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  const y = unaryKernel('tanh', floatOf(x));
  // d tanh(x) = (1 − tanh²x)·dx
  return record('tanh', y, [x], [y], null, (g, [y]) => [mul(g, rsub(1, mul(y, y)))]);
}

/** The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt (used by exact GELU). */
export function erf(x: Tensor): Tensor {
  const y = unaryKernel('erf', floatOf(x));
  // d erf(x) = 2/√π · e^(−x²)·dx
  return record('erf', y, [x], [x], null, (g, [x]) => [
    mul(g, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))),
  ]);
}

/** Converts to another dtype (float ↔ float conversions carry gradients). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const y = unaryKernel('copy', x, dtype);
  if (!isFloat(x.dtype)) return y;
  // d cast(x) = cast⁻¹(dx)
  return record('cast', y, [x], [], x.dtype, (g, _s, from) => [cast(g, from)]);
}

// ---------------------------------------------------------------- binary primitives

function arith(op: BinaryOp, a: Operand, b: Operand): [Tensor, Tensor, Tensor] {
  const [ta, tb] = liftPair(op, a, b);
  let dtype = promote(ta.dtype, tb.dtype);
  if (dtype === 'bool') dtype = 'int32';
  if (op === 'div' && !isFloat(dtype)) dtype = defaultFloatDType();
  return [ta, tb, binaryKernel(op, ta, tb, dtype)];
}

/** a + b */
export function add(a: Operand, b: Operand): Tensor {
  const [ta, tb, y] = arith('add', a, b);
  // d(a+b) = da + db
  return record('add', y, [ta, tb], [], null, (g) => [g, g]);
}

/** a − b */
export function sub(a: Operand, b: Operand): Tensor {
  const [ta, tb, y] = arith('sub', a, b);
  // d(a−b) = da − db
  return record('sub', y, [ta, tb], [], null, (g, _s, _c, needs) => [g, needs[1] ? neg(g) : null]);
}

/** a · b */
export function mul(a: Operand, b: Operand): Tensor {
  const [ta, tb, y] = arith('mul', a, b);
  // d(a·b) = b·da + a·db
  return record('mul', y, [ta, tb], [ta, tb], null, (g, [a, b], _c, needs) => [
    needs[0] ? mul(g, b) : null,
    needs[1] ? mul(g, a) : null,
  ]);
}

/** a / b (true division: integer operands give floats). */
export function div(a: Operand, b: Operand): Tensor {
  const [ta, tb, y] = arith('div', a, b);
  // d(a/b) = da/b − a·db/b²
  return record('div', y, [ta, tb], [ta, tb], null, (g, [a, b], _c, needs) => [
    needs[0] ? div(g, b) : null,
    needs[1] ? neg(div(mul(g, a), mul(b, b))) : null,
  ]);
}

/** a^b */
export function pow(a: Operand, b: Operand): Tensor {
  const [ta, tb, y] = arith('pow', a, b);
  // d(a^b) = b·a^(b−1)·da + a^b·ln(a)·db   (the db term is 0 where a = 0, as PyTorch)
  return record('pow', y, [ta, tb], [ta, tb, y], null, (g, [a, b, y], _c, needs) => [
    needs[0] ? mul(g, mul(b, pow(a, sub(b, 1)))) : null,
    needs[1] ? mul(g, where(eq(a, 0), 0, mul(y, log(a)))) : null,
  ]);
}

/** Element-wise maximum (NaN propagates). */
export function maximum(a: Operand, b: Operand): Tensor {
  const [ta, tb, y] = arith('maximum', a, b);
  // d max(a,b) = [a>b]·da + [b>a]·db, split ½/½ where a = b (as PyTorch)
  return record('maximum', y, [ta, tb], [ta, tb], null, (g, [a, b], _c, needs) => [
    needs[0] ? mul(g, tieMask(gt(a, b), eq(a, b), g.dtype)) : null,
    needs[1] ? mul(g, tieMask(gt(b, a), eq(a, b), g.dtype)) : null,
  ]);
}

/** Element-wise minimum (NaN propagates). */
export function minimum(a: Operand, b: Operand): Tensor {
  const [ta, tb, y] = arith('minimum', a, b);
  // d min(a,b) = [a<b]·da + [b<a]·db, split ½/½ where a = b
  return record('minimum', y, [ta, tb], [ta, tb], null, (g, [a, b], _c, needs) => [
    needs[0] ? mul(g, tieMask(lt(a, b), eq(a, b), g.dtype)) : null,
    needs[1] ? mul(g, tieMask(lt(b, a), eq(a, b), g.dtype)) : null,
  ]);
}

function tieMask(strict: Tensor, ties: Tensor, dtype: DType): Tensor {
  return add(cast(strict, dtype), mul(cast(ties, dtype), 0.5));
}

// ---------------------------------------------------------------- comparisons (no gradient)

function compare(op: BinaryOp, a: Operand, b: Operand): Tensor {
  const [ta, tb] = liftPair(op, a, b);
  return binaryKernel(op, ta, tb, 'bool');
}

/** a == b (bool). */
export function eq(a: Operand, b: Operand): Tensor {
  return compare('eq', a, b);
}
/** a != b (bool). */
export function ne(a: Operand, b: Operand): Tensor {
  return compare('ne', a, b);
}
/** a < b (bool). */
export function lt(a: Operand, b: Operand): Tensor {
  return compare('lt', a, b);
}
/** a <= b (bool). */
export function le(a: Operand, b: Operand): Tensor {
  return compare('le', a, b);
}
/** a > b (bool). */
export function gt(a: Operand, b: Operand): Tensor {
  return compare('gt', a, b);
}
/** a >= b (bool). */
export function ge(a: Operand, b: Operand): Tensor {
  return compare('ge', a, b);
}

// (Function declarations, not consts: ops/methods.ts reads them while the op modules, which import
// each other, are still loading; declarations are initialized before any module body runs.)

// ---------------------------------------------------------------- where

/** Picks `a` where `cond` is true, else `b` (all three broadcast). */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  if (!(cond instanceof Tensor)) throw new ValueError(`where: cond must be a Tensor, got ${typeof cond}`);
  const c = cond.dtype === 'bool' ? cond : ne(cond, 0);
  const [ta, tb] = liftPair('where', a, b);
  const dtype = promote(ta.dtype, tb.dtype);
  const shape = broadcastShapes('where', broadcastShapes('where', c.shape, ta.shape), tb.shape);
  const y = fromKernel(
    backend().where(broadcastTo(c, shape), broadcastTo(ta, shape), broadcastTo(tb, shape), shape, dtype),
    shape,
    dtype,
  );
  // d where(c, a, b) = c·da + (1−c)·db
  return record('where', y, [ta, tb], [c], null, (g, [c], _x, needs) => [
    needs[0] ? where(c, g, 0) : null,
    needs[1] ? where(c, 0, g) : null,
  ]);
}

// ---------------------------------------------------------------- composites

/** s − x for a scalar s. */
export function rsub(s: number, x: Tensor): Tensor {
  return sub(s, x);
}

/** x² */
export function square(x: Tensor): Tensor {
  return mul(x, x);
}

/** 1 / x */
export function reciprocal(x: Tensor): Tensor {
  return div(1, x);
}

/** Limits values to [min, max]; the gradient passes where min ≤ x ≤ max (as PyTorch). */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min === undefined && max === undefined) throw new ValueError('clamp: give at least one of min and max');
  if (min !== undefined && max !== undefined && min > max) {
    throw new ValueError(`clamp: min must be ≤ max, got min=${min}, max=${max}`);
  }
  let y = x;
  if (min !== undefined) y = where(lt(x, min), min, y);
  if (max !== undefined) y = where(gt(x, max), max, y);
  return y;
}

/** Logical not of a bool tensor. */
export function logicalNot(x: Tensor): Tensor {
  if (x.dtype !== 'bool') throw new DTypeError(`logicalNot: expected a bool tensor, got ${x.dtype}`);
  return eq(x, false);
}

/** Elements that are NaN (bool). */
export function isnan(x: Tensor): Tensor {
  return ne(x, x);
}

/** Elements that are finite (bool). */
export function isfinite(x: Tensor): Tensor {
  return eq(sub(x, x), 0);
}
