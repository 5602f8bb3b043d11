/**
 * Fully connected layers. `Linear` holds W [out, in] and b [out] with PyTorch's default init
 * (W ~ U(−1/√in, 1/√in) via kaiming_uniform(a=√5), b ~ U(−1/√in, 1/√in)), so results compare one
 * to one. `DropConnectLinear` drops individual weights (not activations) during training.
 */

import { zeros } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { DType } from '../../util/dtype.js';
import { ValueError } from '../../util/errors.js';
import type { Rng } from '../../util/random.js';
import { dropout } from '../functional/dropout.js';
import { linear } from '../functional/linear.js';
import { kaimingUniform_, uniform_ } from '../init.js';
import { keepsNoTensors, Module } from '../module.js';
import { Parameter } from '../parameter.js';

/** Options of `Linear`. */
export interface LinearOptions {
  /** Add a learnable bias (default true). */
  bias?: boolean;
  dtype?: DType;
  /** Rng for the initial weights (default: the global one). */
  generator?: Rng;
}

/** y = x·Wᵀ + b. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new ValueError(`Linear: ${name} must be a positive integer, got ${v}`);
    }
    const dtype = opts.dtype ?? 'float32';
    this.weight = new Parameter(zeros([outFeatures, inFeatures], { dtype }));
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias =
      opts.bias === false
        ? null
        : new Parameter(uniform_(zeros([outFeatures], { dtype }), -bound, bound, opts));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in=${this.inFeatures}, out=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** Options of `DropConnectLinear`. */
export interface DropConnectOptions extends LinearOptions {
  /** Probability of dropping each weight in training (default 0.5). */
  p?: number;
  /** Rng for the weight masks. */
  maskGenerator?: Rng;
}

/**
 * A Linear layer with DropConnect: in training each forward pass drops weights with probability p
 * and scales the kept ones by 1/(1−p) (inverted); in evaluation it is a plain Linear.
 */
export class DropConnectLinear extends Linear {
  readonly p: number;
  private readonly maskGenerator: Rng | undefined;

  constructor(inFeatures: number, outFeatures: number, opts: DropConnectOptions = {}) {
    super(inFeatures, outFeatures, opts);
    this.p = opts.p ?? 0.5;
    if (!(this.p >= 0 && this.p <= 1))
      throw new ValueError(`DropConnectLinear: p must be in [0, 1], got ${this.p}`);
    this.maskGenerator = opts.maskGenerator;
  }

  override forward(x: Tensor): Tensor {
    const w = dropout(this.weight, this.p, this.training, this.maskGenerator);
    return linear(x, w, this.bias);
  }

  override extraRepr(): string {
    return `${super.extraRepr()}, p=${this.p}`;
  }
}

keepsNoTensors(Linear);
