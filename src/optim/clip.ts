/**
 * Gradient clipping (PyTorch's torch/nn/utils/clip_grad.py): by the total norm over all gradients
 * (returns that norm; scales by maxNorm/(norm + 1e-6) when above) or by value. Non-finite norms can
 * be made an error.
 */
import { replaceGrad } from '../autograd/engine.js';
import { noGrad } from '../autograd/mode.js';
import { add, cast, clamp, div, minimum, mul, sqrt } from '../ops/elementwise.js';
import { sum, vectorNorm } from '../ops/reduce.js';
import { zeros } from '../tensor/create.js';
import { peekGrad, type Tensor } from '../tensor/tensor.js';
import { KeelError, ValueError } from '../util/errors.js';

/** Options of `clipGradNorm_`. */
export interface ClipNormOptions {
  /** p of the p-norm (default 2; Infinity for the max norm). */
  normType?: number;
  /** Throw when the total norm is NaN or infinite (default false). */
  errorIfNonfinite?: boolean;
}

/** The total p-norm of the gradients of `params` (ignoring parameters without one). */
export function gradNorm(params: Iterable<Tensor>, normType = 2): number {
  // ‖(g₁, …, gₙ)‖ₚ = (Σ ‖gᵢ‖ₚᵖ)^(1/p); the max norm is the largest of the parts'.
  let total = 0;
  for (const p of params) {
    const g = peekGrad(p);
    if (!g) continue;
    const n = vectorNorm(g, normType);
    total = normType === Number.POSITIVE_INFINITY ? Math.max(total, n) : total + n ** normType;
  }
  return normType === Number.POSITIVE_INFINITY ? total : total ** (1 / normType);
}

/** Scales all gradients so their total norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm_(params: Iterable<Tensor>, maxNorm: number, opts: ClipNormOptions = {}): number {
  if (!(maxNorm >= 0)) throw new ValueError(`clipGradNorm_: maxNorm must be ≥ 0, got ${maxNorm}`);
  const normType = opts.normType ?? 2;
  if (!(normType > 0)) throw new ValueError(`clipGradNorm_: normType must be > 0, got ${normType}`);
  const list = [...params];
  const total = gradNorm(list, normType);
  if (!Number.isFinite(total) && opts.errorIfNonfinite) {
    throw new KeelError(
      `clipGradNorm_: the total norm of order ${normType} of the gradients is ${total}; set errorIfNonfinite: false to clip anyway`,
    );
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    noGrad(() => {
      for (const p of list) {
        const g = peekGrad(p);
        if (g) replaceGrad(p, mul(g, coef));
      }
    });
  }
  return total;
}

/**
 * `clipGradNorm_` by the total 2-norm with the norm left on the backend: returns it as a 0-d
 * float64 tensor and scales the gradients by min(1, maxNorm/(norm + 1e-6)) without reading anything
 * to the host — so a compiled training step can hold it (`fit` clips this way). Each gradient's sum
 * of squares is taken in its own dtype.
 */
export function clipGradNormTensor_(params: Iterable<Tensor>, maxNorm: number): Tensor {
  if (!(maxNorm >= 0)) throw new ValueError(`clipGradNormTensor_: maxNorm must be ≥ 0, got ${maxNorm}`);
  return noGrad(() => {
    const list = [...params].filter((p) => peekGrad(p));
    let total: Tensor = zeros([], { dtype: 'float64' });
    for (const p of list) {
      const g = peekGrad(p) as Tensor;
      total = add(total, cast(sum(mul(g, g)), 'float64'));
    }
    const norm = sqrt(total);
    const coef = minimum(div(maxNorm, add(norm, 1e-6)), 1);
    for (const p of list) {
      const g = peekGrad(p) as Tensor;
      replaceGrad(p, mul(g, cast(coef, g.dtype)));
    }
    return norm;
  });
}

/** Clamps every gradient element to [−clipValue, clipValue]. */
export function clipGradValue_(params: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0)) throw new ValueError(`clipGradValue_: clipValue must be ≥ 0, got ${clipValue}`);
  noGrad(() => {
    for (const p of params) {
      const g = peekGrad(p);
      if (g) replaceGrad(p, clamp(g, -clipValue, clipValue));
    }
  });
}
