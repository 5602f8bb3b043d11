/**
 * Index primitives with their backward side by side: gather ↔ scatterAdd and indexSelect ↔
 * indexAdd are each other's gradient. Index tensors are int32. `oneHot` builds class indicators
 * (no gradient).
 */
import { record } from '../autograd/node.js';
import { backend } from '../backend/registry.js';
import type { DType } from '../backend/types.js';
import { fromHost } from '../tensor/create.js';
import { defaultFloatDType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { arrayType } from '../util/dtype.js';
import { fmtShape, ShapeError, ValueError } from '../util/errors.js';
import { normAxis, sizeOf } from '../util/shape.js';
import { fromKernel, requireInt } from './core.js';
import { add } from './elementwise.js';

function checkGatherShapes(op: string, target: readonly number[], index: Tensor, axis: number): void {
  if (index.ndim !== target.length || index.shape.some((d, i) => i !== axis && d > target[i])) {
    throw new ShapeError(
      `${op}: index of shape ${fmtShape(index.shape)} does not fit ${fmtShape(target)} along axis ${axis} (same rank, other axes no larger)`,
    );
  }
}

/** out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis` (PyTorch `gather`). */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  requireInt('gather', 'index', index);
  const a = normAxis('gather', axis, x.ndim);
  checkGatherShapes('gather', x.shape, index, a);
  const y = fromKernel(backend().gather(x, a, index, x.dtype), index.shape, x.dtype);
  // d gather(x) = scatterAdd of dy into zeros(shape(x)) at the gathered positions
  return record('gather', y, [x], [index], { axis: a, shape: x.shape }, (g, [index], c) => [
    scatterAddInto(c.shape, c.axis, index, g),
  ]);
}

/** zeros(shape) with src[..., j, ...] added at index[..., j, ...] along `axis`. */
export function scatterAddInto(shape: readonly number[], axis: number, index: Tensor, src: Tensor): Tensor {
  requireInt('scatterAdd', 'index', index);
  const a = normAxis('scatterAdd', axis, shape.length);
  checkGatherShapes('scatterAdd', shape, index, a);
  if (src.ndim !== index.ndim || index.shape.some((d, i) => d > src.shape[i])) {
    throw new ShapeError(
      `scatterAdd: src of shape ${fmtShape(src.shape)} is smaller than index ${fmtShape(index.shape)}`,
    );
  }
  const y = fromKernel(backend().scatterAdd(shape, a, index, src, src.dtype), shape, src.dtype);
  // d scatterAdd(src) = gather(dy) at the same positions
  return record('scatterAdd', y, [src], [index], a, (g, [index], axis) => [gather(g, axis, index)]);
}

/** input + src scattered at `index` along `axis` (PyTorch `scatter_add`, out of place). */
export function scatterAdd(input: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  return add(input, scatterAddInto(input.shape, axis, index, src));
}

/** The entries `index` (1-D int32) along `axis`. */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  requireInt('indexSelect', 'index', index);
  if (index.ndim !== 1) throw new ShapeError(`indexSelect: index must be 1-D, got ${fmtShape(index.shape)}`);
  const a = normAxis('indexSelect', axis, x.ndim);
  const shape = x.shape.map((d, i) => (i === a ? index.shape[0] : d));
  const y = fromKernel(backend().indexSelect(x, a, index, x.dtype), shape, x.dtype);
  // d indexSelect(x) = indexAdd of dy into zeros(shape(x))
  return record('indexSelect', y, [x], [index], { axis: a, shape: x.shape }, (g, [index], c) => [
    indexAddInto(c.shape, c.axis, index, g),
  ]);
}

/** zeros(shape) with src[..., j, ...] added at position index[j] along `axis`. */
export function indexAddInto(shape: readonly number[], axis: number, index: Tensor, src: Tensor): Tensor {
  requireInt('indexAdd', 'index', index);
  const a = normAxis('indexAdd', axis, shape.length);
  if (index.ndim !== 1) throw new ShapeError(`indexAdd: index must be 1-D, got ${fmtShape(index.shape)}`);
  const expected = shape.map((d, i) => (i === a ? index.shape[0] : d));
  if (src.ndim !== shape.length || src.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(
      `indexAdd: src of shape ${fmtShape(src.shape)} does not match ${fmtShape(expected)}`,
    );
  }
  const y = fromKernel(backend().indexAdd(shape, a, index, src, src.dtype), shape, src.dtype);
  // d indexAdd(src) = indexSelect(dy)
  return record('indexAdd', y, [src], [index], a, (g, [index], axis) => [indexSelect(g, axis, index)]);
}

/** input + src added at positions `index` along `axis` (PyTorch `index_add`, out of place). */
export function indexAdd(input: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  return add(input, indexAddInto(input.shape, axis, index, src));
}

/** One-hot rows: a [..., numClasses] tensor with 1 at each class index. */
export function oneHot(index: Tensor, numClasses: number, dtype: DType = defaultFloatDType()): Tensor {
  requireInt('oneHot', 'index', index);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ValueError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  }
  const idx = index.readSync();
  const out = new (arrayType(dtype))(sizeOf(index.shape) * numClasses);
  idx.forEach((k, i) => {
    if (k < 0 || k >= numClasses)
      throw new ValueError(`oneHot: class ${k} is out of range 0..${numClasses - 1}`);
    out[i * numClasses + k] = 1;
  });
  return fromHost(out, [...index.shape, numClasses], dtype);
}
