/**
 * Softmax cross-entropy from logits at class indices as one fused primitive:
 * the backend computes each row's loss and softmax in one pass (Backend.softmaxCrossEntropy) and
 * the gradient from that softmax in another, instead of the composite logSoftmax → gather → neg → sum → div
 * (about ten kernels and graph nodes forward, as many backward, on [N, C] tensors). Same values as
 * that composite to float32 rounding (test/fused.test.ts). Backward with `createGraph` is built
 * from ops, so higher-order gradients still flow through the graph.
 */

import { isGradEnabled } from '../autograd/mode.js';
import { record } from '../autograd/node.js';
import { backend } from '../backend/registry.js';
import { isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../util/errors.js';
import { softmax } from './activation.js';
import { fromKernel } from './core.js';
import { mul, sub } from './elementwise.js';
import { oneHot } from './indexing.js';
import { expand, reshape } from './shape.js';

/** How the per-sample losses are combined. */
export type CrossEntropyReduction = 'mean' | 'sum' | 'none';

interface Ctx {
  target: Tensor;
  reduction: CrossEntropyReduction;
}

/**
 * −log softmax(logits)[t] per sample for logits [N, C] (float) and int32 targets [N], reduced by
 * `reduction`: 'mean' (over N), 'sum', or 'none' ([N]). Targets outside 0..C−1 throw.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  target: Tensor,
  reduction: CrossEntropyReduction = 'mean',
): Tensor {
  if (logits.ndim !== 2)
    throw new ShapeError(`crossEntropy: expected input of shape [N, C], got ${fmtShape(logits.shape)}`);
  if (!isFloat(logits.dtype))
    throw new DTypeError(`crossEntropy: expected float logits, got ${logits.dtype}`);
  if (target.dtype !== 'int32')
    throw new DTypeError(`crossEntropy: class targets must be int32, got ${target.dtype}`);
  const [n, c] = logits.shape;
  if (target.ndim !== 1 || target.shape[0] !== n)
    throw new ShapeError(
      `crossEntropy: target ${fmtShape(target.shape)} must be [N] for input ${fmtShape(logits.shape)}`,
    );
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none')
    throw new ValueError(
      `crossEntropy: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`,
    );
  if (c === 0 && n > 0) throw new ShapeError('crossEntropy: input has no classes (shape [N, 0])');
  const dtype = logits.dtype;
  const [lossData, probs] = backend().softmaxCrossEntropy(logits, target, dtype);
  let y: Tensor;
  if (reduction === 'none') y = fromKernel(lossData, [n], dtype);
  else {
    // Σ in float64 on the backend, then the mean's division, rounded once into the loss dtype.
    const be = backend();
    const rows = { storage: lossData, shape: [n], strides: [1], offset: 0 };
    const total = be.reduce('sum', rows, [0], 'float64');
    const scalar = { storage: total, shape: [], strides: [], offset: 0 };
    const count = {
      storage: be.fromHost(Float64Array.of(reduction === 'mean' ? Math.max(n, 1) : 1)),
      shape: [],
      strides: [],
      offset: 0,
    };
    y = fromKernel(be.binary('div', scalar, count, [], dtype), [], dtype);
  }
  const ctx: Ctx = { target, reduction };
  // The softmax is saved as a tensor, so graph memory accounting (graphStats) sees it.
  const p = fromKernel(probs, [n, c], 'float64');
  // d lossᵢ/d xᵢⱼ = softmax(xᵢ)ⱼ − [j = tᵢ]   (times dy, and 1/N for the mean)
  return record('crossEntropy', y, [logits], [logits, p], ctx, (g, [x, sm], c2) => {
    const factor = c2.reduction === 'mean' ? 1 / Math.max(n, 1) : 1;
    const gRows = c2.reduction === 'none' ? g : expand(reshape(g, [1]), [n]);
    if (isGradEnabled()) {
      // createGraph: the same gradient from differentiable ops.
      const d = sub(softmax(x, 1), oneHot(c2.target, c, x.dtype));
      return [mul(mul(d, reshape(gRows, [n, 1])), factor)];
    }
    const dx = backend().softmaxCrossEntropyGrad(sm, c2.target, gRows, factor, x.dtype);
    return [fromKernel(dx, [n, c], x.dtype)];
  });
}
