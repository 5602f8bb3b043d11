/**
 * The affine map of a fully connected layer: y = x·Wᵀ + b with W of shape [out, in] (PyTorch's
 * layout). The transpose is a view: the backend multiplies it in place.
 */
import { add } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { transpose } from '../../ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { fmtShape, ShapeError } from '../../util/errors.js';

/** x·Wᵀ + b. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2)
    throw new ShapeError(`linear: weight must be 2-D [out, in], got ${fmtShape(weight.shape)}`);
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new ShapeError(
      `linear: input ${fmtShape(x.shape)} does not end with in_features=${weight.shape[1]} of weight ${fmtShape(weight.shape)}`,
    );
  }
  const y = matmul(x, transpose(weight));
  return bias ? add(y, bias) : y;
}
