/**
 * What a data transform is: a function of a batch's inputs that draws its randomness from a
 * generator on the backend (`sampleUniform`/`sampleNormal`, keyed by two words of the generator per
 * draw) and is the identity outside training. A transform never loops over images on the host and
 * never reads a tensor: it is built from ops, so inside a compiled training step (TrainStep gathers
 * the batch inside its plan and applies the loader's transform right after) it runs as part of the
 * plan and draws anew at every step, as dropout does.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Rng } from '../../util/random.js';

/** Where a transform is applied. */
export interface TransformContext {
  /** The generator its draws are keyed by (a DataLoader passes its own). */
  generator: Rng;
  /** False: the transform returns its input unchanged (evaluation). */
  training: boolean;
}

/** A random perturbation of a batch's inputs (the first axis is the sample axis). */
export interface Transform {
  /** What it does, with its settings: `randomTranslate(2)`, for logs and reports. */
  readonly name: string;
  /** The perturbed batch; `x` itself when `ctx.training` is false. */
  apply(x: Tensor, ctx: TransformContext): Tensor;
}
