/**
 * Matrix products with PyTorch's `matmul` semantics: 2-D × 2-D, batched with broadcasting of batch
 * axes, and 1-D operands promoted to a row/column and squeezed back. The primitive works on rank ≥ 2;
 * its backward reads transposed views, which the backend multiplies in place.
 */
import { record } from '../autograd/node.js';
import { backend } from '../backend/registry.js';
import { defaultFloatDType, isFloat, promote } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape, ShapeError } from '../util/errors.js';
import { broadcastShapes, broadcastStrides } from '../util/shape.js';
import { copyAs, fromKernel, viewOf } from './core.js';
import { reshape, transpose } from './shape.js';

function matmulNd(a: Tensor, b: Tensor): Tensor {
  const y = a.ndim === 2 && b.ndim === 2 ? matmul2d(a, b) : matmulBatched(a, b);
  // d(A·B) = dY·Bᵀ (for A) and Aᵀ·dY (for B); broadcast batch axes are summed by the engine
  return record('matmul', y, [a, b], [a, b], null, (g, [a, b], _c, needs) => [
    needs[0] ? matmulNd(g, transpose(b)) : null,
    needs[1] ? matmulNd(transpose(a), g) : null,
  ]);
}

function resultDType(a: Tensor, b: Tensor) {
  const dtype = promote(a.dtype, b.dtype);
  return isFloat(dtype) ? dtype : defaultFloatDType();
}

/** Two matrices: the views go to the backend as they are (the common case, without batch logic). */
function matmul2d(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[0];
  const n = b.shape[1];
  if (a.shape[1] !== b.shape[0])
    throw new ShapeError(`matmul: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)}`);
  const dtype = resultDType(a, b);
  const shape = [m, n];
  return fromKernel(backend().matmul(a, b, shape, dtype), shape, dtype);
}

function matmulBatched(a: Tensor, b: Tensor): Tensor {
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
  const dtype = resultDType(a, b);
  const av = viewOf(a, [...batch, m, k], broadcastStrides(a.shape, a.strides, [...batch, m, k]), a.offset);
  const bv = viewOf(b, [...batch, k, n], broadcastStrides(b.shape, b.strides, [...batch, k, n]), b.offset);
  const shape = [...batch, m, n];
  return fromKernel(backend().matmul(av, bv, shape, dtype), shape, dtype);
}

/** Matrix product (PyTorch `matmul` rules): `matmul: cannot multiply [2,3] by [4,5]` on a mismatch. */
export function matmul(a: Tensor, b: Tensor): Tensor {
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
  let y = matmulNd(a2.dtype === b2.dtype || isFloat(a2.dtype) ? a2 : copyAs(a2, b2.dtype), b2);
  if (a.ndim === 1) y = reshape(y, [...y.shape.slice(0, -2), y.shape[y.ndim - 1]]);
  if (b.ndim === 1) y = reshape(y, y.shape.slice(0, -1));
  return y;
}

/** Dot product of two 1-D tensors. */
export function dot(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1)
    throw new ShapeError(`dot: expected two 1-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  return matmul(a, b);
}
