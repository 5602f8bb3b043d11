/**
 * Dropout family. Inverted dropout zeroes each element with probability p and scales survivors by
 * 1/(1−p), so the expected value is unchanged and evaluation is the identity; p = 1 gives zeros
 * (never NaN). Masks come from an explicit generator: same seed, same masks. The mask is a constant
 * of the graph, so gradients flow through the kept elements only.
 */

import { checkDropoutP, dropoutMasked } from '../../ops/dropout.js';
import { add, mul } from '../../ops/elementwise.js';
import { ones } from '../../tensor/create.js';
import { isFloat } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import { DTypeError } from '../../util/errors.js';
import { defaultGenerator, type Rng } from '../../util/random.js';

/**
 * A mask of x's shape holding 1 with probability 1 − p and 0 otherwise, drawn by the backend's
 * dropout kernel (the Philox masks of `fillDropoutMask`, the same as the generator's `fillMask`), so a
 * compiled step draws a new one at every call.
 */
function mask(x: Tensor, p: number, g: Rng): Tensor {
  if (!isFloat(x.dtype)) throw new DTypeError(`dropout: expected a float tensor, got ${x.dtype}`);
  return dropoutMasked(ones(x.shape, { dtype: x.dtype }), p, 1, g);
}

/** Inverted dropout; identity when `training` is false or p = 0. */
export function dropout(x: Tensor, p = 0.5, training = true, generator?: Rng): Tensor {
  checkDropoutP('dropout', p);
  if (!training || p === 0) return x;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  return dropoutMasked(x, p, scale, generator ?? defaultGenerator());
}

const SELU_ALPHA_PRIME = -1.7580993408473766; // −λα of SELU

/**
 * Alpha dropout (for SELU networks): dropped elements are set to SELU's negative saturation value
 * and an affine correction keeps zero mean and unit variance (PyTorch's definition).
 */
export function alphaDropout(x: Tensor, p = 0.5, training = true, generator?: Rng): Tensor {
  checkDropoutP('alphaDropout', p);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const a = 1 / Math.sqrt((1 - p) * (1 + p * SELU_ALPHA_PRIME ** 2));
  const b = -a * SELU_ALPHA_PRIME * p;
  const m = mask(x, p, generator ?? defaultGenerator());
  // a·(x·m + α'(1 − m)) + b
  const dropped = mul(add(mul(m, -1), 1), SELU_ALPHA_PRIME);
  return add(mul(add(mul(x, m), dropped), a), b);
}
