/**
 * The fully connected layer as one primitive: y = x·Wᵀ + b with W of shape [out, in]. The composite
 * (transpose view, matmul, broadcast add) gives the same values, but its backward delivers dW as a
 * transposed view (a strided copy in every optimizer step) and the bias gradient through a generic
 * un-broadcast; here dW = gᵀ·x comes out contiguous and db = Σ g directly. Tested against the
 * composite (test/linear.test.ts) and gradchecked; the backward is built from ops, so it stays
 * differentiable (createGraph).
 */
import { record } from '../autograd/node.js';
import { backend } from '../backend/registry.js';
import { isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape, ShapeError } from '../util/errors.js';
import { fromKernel, viewOf } from './core.js';
import { add } from './elementwise.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { reshape, transpose } from './shape.js';

/** x·Wᵀ + b for x [..., in], W [out, in], b [out] (optional). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2)
    throw new ShapeError(`linear: weight must be 2-D [out, in], got ${fmtShape(weight.shape)}`);
  const [out, inF] = weight.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError(
      `linear: input ${fmtShape(x.shape)} does not end with inFeatures=${inF} of weight ${fmtShape(weight.shape)}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== out)) {
    throw new ShapeError(`linear: bias must have shape [${out}], got ${fmtShape(bias.shape)}`);
  }
  const sameFloat = isFloat(x.dtype) && x.dtype === weight.dtype && (!bias || bias.dtype === x.dtype);
  if (!sameFloat || x.ndim === 1) {
    // Mixed dtypes or a single vector: the composite handles promotion and 1-D rules.
    const y = matmul(x, transpose(weight));
    return bias ? add(y, bias) : y;
  }
  const rows = x.size / inF;
  const x2 = reshape(x.detach(), [rows, inF]);
  const wT = viewOf(weight, [inF, out], [weight.strides[1], weight.strides[0]], weight.offset);
  const be = backend();
  // The bias is the product's epilogue (Backend.matmul adds it to every row).
  const data = be.matmul(x2, wT, [rows, out], x.dtype, bias ?? undefined);
  const y = fromKernel(data, [...x.shape.slice(0, -1), out], x.dtype);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  // d(x·Wᵀ + b) = g·W (for x), gᵀ·x (for W), Σ_rows g (for b)
  return record('linear', y, inputs, [x, weight], { rows, inF, out }, (g, [x, w], c, needs) => {
    const g2 = reshape(g, [c.rows, c.out]);
    return [
      needs[0] ? reshape(matmul(g2, w), x.shape) : null,
      needs[1] ? matmul(transpose(g2), reshape(x, [c.rows, c.inF])) : null,
      needs[2] ? sum(g2, 0) : null,
    ];
  });
}
