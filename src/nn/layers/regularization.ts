/**
 * Dropout, noise and normalization layers. Dropout and noise layers are the identity in eval mode
 * and draw from their own generator when given one (same seed → same masks and noise); BatchNorm1d keeps running
 * statistics as buffers under PyTorch's names (running_mean, running_var, num_batches_tracked: the
 * state dict's keys match PyTorch's) and uses them in eval mode.
 */

import { noGrad } from '../../autograd/mode.js';
import { checkDropoutP } from '../../ops/dropout.js';
import { add } from '../../ops/elementwise.js';
import { copy_ } from '../../ops/inplace.js';
import { ones, zeros } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Rng } from '../../util/random.js';
import { alphaDropout, dropout } from '../functional/dropout.js';
import { checkNoiseStd, gaussianNoise } from '../functional/noise.js';
import { batchNorm, layerNorm } from '../functional/normalization.js';
import { keepsNoTensors, Module } from '../module.js';
import { Parameter } from '../parameter.js';

/** A dropout layer class around `fn`: probability `p` checked at construction, identity in eval mode. */
function dropoutModule(name: string, fn: typeof dropout) {
  return class extends Module {
    readonly p: number;
    constructor(
      p = 0.5,
      /** Draws this layer's masks (default: the global generator). */
      readonly generator?: Rng,
    ) {
      super();
      this.p = checkDropoutP(name, p);
    }
    forward(x: Tensor): Tensor {
      return fn(x, this.p, this.training, this.generator);
    }
    override extraRepr(): string {
      return `p=${this.p}`;
    }
  };
}

/** Inverted dropout with probability p (default 0.5). */
export class Dropout extends dropoutModule('Dropout', dropout) {}

/** Alpha dropout for SELU networks. */
export class AlphaDropout extends dropoutModule('AlphaDropout', alphaDropout) {}

/**
 * Adds N(0, σ²) noise to its input in training — hidden-unit noise, the perturbation dropout is a
 * multiplicative cousin of — and is the identity in eval mode. Drawn on the backend, so a compiled
 * step draws anew at every call.
 */
export class GaussianNoise extends Module {
  readonly std: number;
  constructor(
    std: number,
    /** Draws this layer's noise (default: the global generator). */
    readonly generator?: Rng,
  ) {
    super();
    this.std = checkNoiseStd('GaussianNoise', std);
  }
  forward(x: Tensor): Tensor {
    return gaussianNoise(x, this.std, this.training, this.generator);
  }
  override extraRepr(): string {
    return `std=${this.std}`;
  }
}

/** Options of the normalization layers. */
export interface NormOptions {
  eps?: number;
  /** Learnable scale and shift (default true). */
  elementwiseAffine?: boolean;
}

/** Layer normalization over the trailing `normalizedShape` axes. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  constructor(normalizedShape: number | readonly number[], opts: NormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(ones(this.normalizedShape)) : null;
    this.bias = affine ? new Parameter(zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
  override extraRepr(): string {
    return `[${this.normalizedShape}], eps=${this.eps}`;
  }
}

/** Options of `BatchNorm1d`. */
export interface BatchNormLayerOptions {
  eps?: number;
  /** Weight of the newest batch in the running statistics (default 0.1). */
  momentum?: number;
  affine?: boolean;
  /** Keep running statistics for eval mode (default true). */
  trackRunningStats?: boolean;
}

/** Batch normalization over [N, C] or [N, C, L] inputs. */
export class BatchNorm1d extends Module {
  readonly eps: number;
  readonly momentum: number;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  private readonly track: boolean;
  constructor(
    readonly numFeatures: number,
    opts: BatchNormLayerOptions = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    const affine = opts.affine ?? true;
    this.weight = affine ? new Parameter(ones([numFeatures])) : null;
    this.bias = affine ? new Parameter(zeros([numFeatures])) : null;
    this.track = opts.trackRunningStats ?? true;
    // PyTorch's buffer names, so state dicts (and safetensors files) carry the same keys.
    if (this.track) {
      this.registerBuffer('running_mean', zeros([numFeatures]));
      this.registerBuffer('running_var', ones([numFeatures]));
      this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
    }
  }
  forward(x: Tensor): Tensor {
    const rm = this.track ? this.buffer('running_mean') : null;
    const rv = this.track ? this.buffer('running_var') : null;
    if (this.track && this.training) {
      const n = this.buffer('num_batches_tracked');
      noGrad(() => copy_(n, add(n, 1)));
    }
    return batchNorm(x, rm, rv, this.weight, this.bias, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

keepsNoTensors(Dropout, AlphaDropout, GaussianNoise, LayerNorm);
