/**
 * Gaussian noise on a layer's values: x + ε, ε ~ N(0, σ²) drawn per element on the backend
 * (`sampleNormal`, so a compiled step draws anew at every call), the identity in eval mode. Like
 * dropout it perturbs hidden units during training; unlike dropout it keeps every unit and adds
 * zero-mean noise, so no rescaling is needed. The noise is a constant of the graph:
 * d(x + ε)/dx = 1.
 */
import { add } from '../../ops/elementwise.js';
import { sampleNormal } from '../../ops/random.js';
import { isFloat } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import { DTypeError, ValueError } from '../../util/errors.js';
import type { Rng } from '../../util/random.js';

/** Checks a noise standard deviation, naming the op: returns σ. */
export function checkNoiseStd(op: string, std: number): number {
  if (!(Number.isFinite(std) && std >= 0))
    throw new ValueError(`${op}: std must be a finite number ≥ 0, got ${std}`);
  return std;
}

/** x + N(0, std²) noise when `training` (default true); x itself otherwise or for std = 0. */
export function gaussianNoise(x: Tensor, std: number, training = true, generator?: Rng): Tensor {
  checkNoiseStd('gaussianNoise', std);
  if (!training || std === 0) return x;
  if (!isFloat(x.dtype)) throw new DTypeError(`gaussianNoise: expected a float tensor, got ${x.dtype}`);
  return add(x, sampleNormal(x.shape, { std, generator, dtype: x.dtype }));
}
