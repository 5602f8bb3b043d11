/**
 * Activation functions beyond the primitives (relu, sigmoid, tanh live in ops): composites whose
 * gradients follow from their parts. Branches never evaluate exp of a large positive number, so
 * neither values nor gradients turn into inf·0 = NaN.
 */
import {
  abs,
  add,
  erf,
  exp,
  gt,
  log,
  maximum,
  minimum,
  mul,
  sigmoid,
  sub,
  tanh,
  where,
} from '../../ops/elementwise.js';
import { reshape } from '../../ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { fmtShape, ShapeError, ValueError } from '../../util/errors.js';

/** x for x > 0, slope·x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return where(gt(x, 0), x, mul(x, negativeSlope));
}

/**
 * Parametric ReLU: x for x > 0, a·x otherwise, with learnable a (one value, or one per channel —
 * axis 1 of the input).
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  let w = weight;
  if (weight.size > 1) {
    if (x.ndim < 2 || x.shape[1] !== weight.size) {
      throw new ShapeError(
        `prelu: ${weight.size} parameters need ${weight.size} channels on axis 1, got input ${fmtShape(x.shape)}`,
      );
    }
    w = reshape(weight, [weight.size, ...x.shape.slice(2).map(() => 1)]);
  }
  return where(gt(x, 0), x, mul(x, w));
}

/** x for x > 0, α(eˣ − 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  return where(gt(x, 0), x, mul(sub(exp(minimum(x, 0)), 1), alpha));
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Scaled ELU with the self-normalizing constants (λ ≈ 1.0507, α ≈ 1.6733). */
export function selu(x: Tensor): Tensor {
  return mul(elu(x, SELU_ALPHA), SELU_SCALE);
}

/** GELU: x·Φ(x) exactly (`approximate: 'none'`, default) or with the tanh approximation. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate === 'none') return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
  if (approximate === 'tanh') {
    // ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
    const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
  throw new ValueError(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
}

/** SiLU (swish): x·σ(x). */
export function silu(x: Tensor): Tensor {
  return mul(x, sigmoid(x));
}

/**
 * Softplus (1/β)·log(1 + e^(βx)), computed as max(z, 0) + log(1 + e^(−|z|)) with z = βx; linear
 * above `threshold` (as PyTorch).
 */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  const z = mul(x, beta);
  const smooth = mul(add(maximum(z, 0), log(add(exp(mul(abs(z), -1)), 1))), 1 / beta);
  return where(gt(z, threshold), x, smooth);
}
