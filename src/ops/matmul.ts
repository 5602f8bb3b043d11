/**
 * Matrix products with PyTorch's `matmul` semantics: 2-D × 2-D, batched with broadcasting of batch
 * axes, and 1-D operands promoted to a row/column and squeezed back. The primitive works on rank ≥ 2;
 * its backward reads transposed views, which the backend multiplies in place.
 */

import { isGradEnabled } from '../autograd/mode.js';
import { record } from '../autograd/node.js';
import { backend } from '../backend/registry.js';
import { defaultFloatDType, isFloat, promote } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import type { DType } from '../util/dtype.js';
import { AutogradError, fmtShape, ShapeError, ValueError } from '../util/errors.js';
import {
  broadcastShapes,
  broadcastStrides,
  contiguousStrides,
  isRowMajor,
  sameShape,
} from '../util/shape.js';
import { copyAs, fromKernel, viewOf } from './core.js';
import { reshape, transpose } from './shape.js';

function resultDType(a: Tensor, b: Tensor) {
  const dtype = promote(a.dtype, b.dtype);
  return isFloat(dtype) ? dtype : defaultFloatDType();
}

/** What the backend multiplies: the operands as views of rank ≥ 2 with broadcast batch axes. */
interface Product {
  readonly a: Tensor;
  readonly b: Tensor;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

function product(a: Tensor, b: Tensor): Product {
  const dtype = resultDType(a, b);
  // Two matrices: the views go to the backend as they are (the common case, without batch logic).
  if (a.ndim === 2 && b.ndim === 2) {
    if (a.shape[1] !== b.shape[0])
      throw new ShapeError(`matmul: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)}`);
    return { a, b, shape: [a.shape[0], b.shape[1]], dtype };
  }
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) throw new ShapeError(`matmul: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)}`);
  let batch: number[];
  try {
    batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    throw new ShapeError(
      `matmul: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)} (batch axes do not broadcast)`,
    );
  }
  const av = viewOf(a, [...batch, m, k], broadcastStrides(a.shape, a.strides, [...batch, m, k]), a.offset);
  const bv = viewOf(b, [...batch, k, n], broadcastStrides(b.shape, b.strides, [...batch, k, n]), b.offset);
  return { a: av, b: bv, shape: [...batch, m, n], dtype };
}

function matmulNd(a: Tensor, b: Tensor): Tensor {
  const p = product(a, b);
  const y = fromKernel(backend().matmul(p.a, p.b, p.shape, p.dtype), p.shape, p.dtype);
  // d(A·B) = dY·Bᵀ (for A) and Aᵀ·dY (for B); broadcast batch axes are summed by the engine
  return record('matmul', y, [a, b], [a, b], null, (g, [a, b], _c, needs) => [
    needs[0] ? matmulNd(g, transpose(b)) : null,
    needs[1] ? matmulNd(transpose(a), g) : null,
  ]);
}

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /**
   * Writes the product into this tensor and returns it (PyTorch's `out=`): a contiguous tensor of
   * the product's shape and dtype, sharing no memory with the operands. A loop that multiplies
   * into the same `out` reuses its memory where each call would otherwise take fresh memory (on the
   * native backend BLAS writes into it directly). Records no gradient: refused while gradients are
   * recorded for an operand or for `out`.
   */
  out?: Tensor;
}

/** The product written into `out` (see MatmulOptions.out). */
function matmulOut(p: Product, out: Tensor, shape: readonly number[]): Tensor {
  const { a, b } = p;
  if (isGradEnabled() && (a.requiresGrad || b.requiresGrad || out.requiresGrad))
    throw new AutogradError(
      `matmul: out does not record gradients (as PyTorch's out=), and ${out.requiresGrad ? 'out' : 'an operand'} requires them; call it under noGrad(), or leave out out`,
    );
  if (!sameShape(out.shape, shape) || out.dtype !== p.dtype)
    throw new ShapeError(
      `matmul: out is ${fmtShape(out.shape)} ${out.dtype}, the product of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} is ${fmtShape(shape)} ${p.dtype}`,
    );
  if (!isRowMajor(out))
    throw new ValueError(
      `matmul: out must be contiguous (row-major, as zeros() or empty() make it), got strides [${out.strides}] for shape ${fmtShape(out.shape)}`,
    );
  if (out.storage === a.storage || out.storage === b.storage)
    throw new ValueError('matmul: out shares memory with an operand; multiply into a tensor of its own');
  // out's elements as the product's (possibly 1-D-promoted) shape.
  const dst = viewOf(out, p.shape, contiguousStrides(p.shape), out.offset);
  const be = backend();
  if (!be.matmulInto?.(dst, p.a, p.b)) {
    const y = be.matmul(p.a, p.b, p.shape, p.dtype);
    be.copyInto(dst, { storage: y, shape: p.shape, strides: contiguousStrides(p.shape), offset: 0 });
  }
  return out;
}

/**
 * Matrix product (PyTorch `matmul` rules): `matmul: cannot multiply [2,3] by [4,5]` on a mismatch.
 * With `{ out }`, the product is written into `out` (see {@link MatmulOptions}).
 */
export function matmul(a: Tensor, b: Tensor): Tensor;
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions): Tensor;
export function matmul(a: Tensor, b: Tensor, options?: MatmulOptions): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(
      `matmul: both operands need at least 1 dimension, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  if (a.ndim === 1 && b.ndim === 1 && a.shape[0] !== b.shape[0]) {
    throw new ShapeError(`matmul: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)}`);
  }
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0], 1]) : b;
  if (a2.shape[a2.ndim - 1] !== b2.shape[b2.ndim - 2]) {
    throw new ShapeError(`matmul: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)}`);
  }
  const a3 = a2.dtype === b2.dtype || isFloat(a2.dtype) ? a2 : copyAs(a2, b2.dtype);
  // The product's shape without the axes a 1-D operand was promoted with.
  const squeeze = (shape: readonly number[]) => {
    let s = [...shape];
    if (a.ndim === 1) s = [...s.slice(0, -2), s[s.length - 1]];
    if (b.ndim === 1) s = s.slice(0, -1);
    return s;
  };
  if (options?.out !== undefined) {
    const out = options.out;
    if (!(out instanceof Tensor)) throw new ValueError(`matmul: out must be a Tensor, got ${typeof out}`);
    const p = product(a3, b2);
    return matmulOut(p, out, squeeze(p.shape));
  }
  const y = matmulNd(a3, b2);
  return a.ndim === 1 || b.ndim === 1 ? reshape(y, squeeze(y.shape)) : y;
}

/** Dot product of two 1-D tensors. */
export function dot(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1)
    throw new ShapeError(`dot: expected two 1-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  return matmul(a, b);
}
