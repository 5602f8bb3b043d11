/**
 * Normalization as composites: layer norm over the trailing axes, batch norm over the batch (and
 * length) axes with running statistics updated outside the graph, in place on the backend (`copy_`,
 * in float32 as PyTorch, so a compiled step updates them too). Biased variance normalizes; the
 * running variance uses the unbiased estimate, as PyTorch.
 */
import { noGrad } from '../../autograd/mode.js';
import { add, div, mul, sqrt, sub } from '../../ops/elementwise.js';
import { copy_ } from '../../ops/inplace.js';
import { mean, variance } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { fmtShape, ShapeError } from '../../util/errors.js';

/** (x − mean)/√(var + eps) over the trailing `normalizedShape` axes, then ·weight + bias. */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k > x.ndim || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(
      `layerNorm: input ${fmtShape(x.shape)} does not end with normalizedShape ${fmtShape(normalizedShape)}`,
    );
  }
  const axes = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  const mu = mean(x, axes, true);
  const v = variance(x, axes, { correction: 0, keepdim: true });
  let y = div(sub(x, mu), sqrt(add(v, eps)));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalization of [N, C] or [N, C, L] inputs per channel C. In training, normalizes with the
 * batch statistics and updates `runningMean`/`runningVar` in place (running ← (1−m)·running + m·batch);
 * in evaluation, uses the running statistics.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  opts: BatchNormOptions,
): Tensor {
  const { training, momentum = 0.1, eps = 1e-5 } = opts;
  if (x.ndim !== 2 && x.ndim !== 3)
    throw new ShapeError(`batchNorm: expected [N, C] or [N, C, L] input, got ${fmtShape(x.shape)}`);
  const c = x.shape[1];
  const axes = x.ndim === 2 ? [0] : [0, 2];
  const statShape = x.ndim === 2 ? [1, c] : [1, c, 1];
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  let mu: Tensor;
  let v: Tensor;
  if (training || !runningMean || !runningVar) {
    if (count <= 1 && training) {
      throw new ShapeError(
        `batchNorm: expected more than 1 value per channel in training, got input ${fmtShape(x.shape)}`,
      );
    }
    mu = mean(x, axes, true);
    v = variance(x, axes, { correction: 0, keepdim: true });
    if (training && runningMean && runningVar) {
      // running ← (1 − momentum)·running + momentum·batch (the variance unbiased), outside the graph.
      const unbiased = count / (count - 1);
      noGrad(() => {
        copy_(runningMean, add(mul(runningMean, 1 - momentum), mul(reshape(mu, [c]), momentum)));
        copy_(runningVar, add(mul(runningVar, 1 - momentum), mul(reshape(v, [c]), momentum * unbiased)));
      });
    }
  } else {
    mu = reshape(runningMean, statShape);
    v = reshape(runningVar, statShape);
  }
  let y = div(sub(x, mu), sqrt(add(v, eps)));
  if (weight) y = mul(y, reshape(weight, statShape));
  if (bias) y = add(y, reshape(bias, statShape));
  return y;
}
