/**
 * Additive Gaussian input noise: x + ε with ε ~ N(0, σ²) drawn for every element on the backend
 * (nn.F.gaussianNoise, the function `nn.GaussianNoise` applies to hidden units). Training with it is,
 * to first order, Tikhonov regularization of the input–output map (Bishop 1995): the network is
 * pushed to change little under small changes of its input.
 */
import { gaussianNoise as addNoise, checkNoiseStd } from '../../nn/functional/noise.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Transform, TransformContext } from './types.js';

/** Adds N(0, `std`²) noise to every input element in training (σ = 0: the identity). */
export function gaussianNoise(std: number): Transform {
  checkNoiseStd('gaussianNoise', std);
  return {
    name: `gaussianNoise(${std})`,
    apply: (x: Tensor, ctx: TransformContext): Tensor => addNoise(x, std, ctx.training, ctx.generator),
  };
}
