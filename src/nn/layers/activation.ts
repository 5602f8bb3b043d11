/** Activation layers: one-line modules over the functional activations (PReLU owns its slopes). */
import { logSoftmax, softmax } from '../../ops/activation.js';
import { relu, sigmoid, tanh } from '../../ops/elementwise.js';
import { full } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../util/errors.js';
import * as F from '../functional/activation.js';
import { keepsNoTensors, Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { unaryModule } from './functional.js';

/** max(x, 0). */
export class ReLU extends unaryModule((x) => relu(x)) {}

/** x for x > 0, slope·x otherwise (slope default 0.01). */
export class LeakyReLU extends unaryModule(
  F.leakyRelu,
  (negativeSlope = 0.01) => `negativeSlope=${negativeSlope}`,
) {}

/** Leaky ReLU with learnable slopes: one shared (default) or one per channel (axis 1). */
export class PReLU extends Module {
  readonly weight: Parameter;
  constructor(numParameters = 1, init = 0.25) {
    super();
    if (!Number.isInteger(numParameters) || numParameters < 1) {
      throw new ValueError(`PReLU: numParameters must be a positive integer, got ${numParameters}`);
    }
    this.weight = new Parameter(full([numParameters], init));
  }
  forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }
  override extraRepr(): string {
    return `numParameters=${this.weight.size}`;
  }
}

/** x for x > 0, α(eˣ − 1) otherwise (α default 1). */
export class ELU extends unaryModule(F.elu) {}

/** Self-normalizing SELU. */
export class SELU extends unaryModule(F.selu) {}

/** GELU, exact (erf, default) or tanh-approximated ('tanh'). */
export class GELU extends unaryModule(F.gelu) {}

/** x·σ(x). */
export class SiLU extends unaryModule(F.silu) {}

/** 1/(1 + e^(−x)). */
export class Sigmoid extends unaryModule((x) => sigmoid(x)) {}

/** tanh(x). */
export class Tanh extends unaryModule((x) => tanh(x)) {}

/** (1/β)·log(1 + e^(βx)) (β default 1; linear above `threshold`, default 20). */
export class Softplus extends unaryModule(F.softplus) {}

/** softmax along `axis` (default −1). */
export class Softmax extends unaryModule(softmax) {}

/** log-softmax along `axis` (default −1). */
export class LogSoftmax extends unaryModule(logSoftmax) {}

keepsNoTensors(ReLU, LeakyReLU, PReLU, ELU, SELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Softmax, LogSoftmax);
