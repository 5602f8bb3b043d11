/**
 * The optimizers, each a chain of transforms (transforms.ts) with PyTorch's semantics and defaults.
 * `weightDecay` means: coupled L2 (grad += λw) in SGD, Adam, RMSprop and Adagrad; decoupled
 * (w ← w − lr·λ·w) in AdamW. `penalty: 'l1'` swaps in λ·sign(w), and `proximal: true` replaces it
 * by a soft-threshold step that produces exact zeros.
 */
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { type BaseOptions, checkNonNegative, checkUnit, type GroupSpec, Optimizer } from './optimizer.js';
import {
  type AdagradOptions,
  type AdamOptions,
  addDecayedWeights,
  type MomentumOptions,
  type RmsOptions,
  scaleByAdagrad,
  scaleByAdam,
  scaleByLearningRate,
  scaleByRms,
  type Transform,
  trace,
} from './transforms.js';

const decayDefaults = { weightDecay: 0, penalty: 'l2', proximal: false } as const;

/** Options of SGD. */
export interface SGDOptions extends BaseOptions, MomentumOptions {}

/** Stochastic gradient descent with momentum, dampening, Nesterov and coupled weight decay (PyTorch SGD). */
export class SGD extends Optimizer<SGDOptions> {
  constructor(
    params: readonly Tensor[] | readonly GroupSpec<SGDOptions>[],
    opts: Partial<SGDOptions> & { lr: number },
  ) {
    super('SGD', params, { ...decayDefaults, momentum: 0, dampening: 0, nesterov: false, ...opts });
  }
  protected chain(): Transform<SGDOptions>[] {
    return [addDecayedWeights, trace, scaleByLearningRate];
  }
  protected validate(o: SGDOptions): void {
    checkNonNegative('SGD', 'momentum', o.momentum);
    checkNonNegative('SGD', 'dampening', o.dampening);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new ValueError(
        `SGD: nesterov needs momentum > 0 and dampening = 0, got momentum=${o.momentum}, dampening=${o.dampening}`,
      );
    }
  }
}

/** Options of Adam and AdamW. */
export interface AdamFamilyOptions extends BaseOptions, AdamOptions {}

function validateAdam(name: string, o: AdamFamilyOptions): void {
  if (!Array.isArray(o.betas) || o.betas.length !== 2)
    throw new ValueError(`${name}: betas must be a pair [β1, β2], got ${String(o.betas)}`);
  checkUnit(name, 'betas[0]', o.betas[0]);
  checkUnit(name, 'betas[1]', o.betas[1]);
  checkNonNegative(name, 'eps', o.eps);
}

const adamDefaults = { betas: [0.9, 0.999] as [number, number], eps: 1e-8, amsgrad: false };

/** Adam with coupled L2 weight decay (grad += λw before the moments), as PyTorch's Adam. */
export class Adam extends Optimizer<AdamFamilyOptions> {
  constructor(
    params: readonly Tensor[] | readonly GroupSpec<AdamFamilyOptions>[],
    opts: Partial<AdamFamilyOptions> = {},
  ) {
    super('Adam', params, { lr: 1e-3, ...decayDefaults, ...adamDefaults, ...opts });
  }
  protected chain(): Transform<AdamFamilyOptions>[] {
    return [addDecayedWeights, scaleByAdam, scaleByLearningRate];
  }
  protected validate(o: AdamFamilyOptions): void {
    validateAdam('Adam', o);
  }
}

/** AdamW: Adam with decoupled weight decay w ← w − lr·λ·w (default λ = 0.01, as PyTorch). */
export class AdamW extends Optimizer<AdamFamilyOptions> {
  constructor(
    params: readonly Tensor[] | readonly GroupSpec<AdamFamilyOptions>[],
    opts: Partial<AdamFamilyOptions> = {},
  ) {
    super('AdamW', params, { lr: 1e-3, ...decayDefaults, weightDecay: 0.01, ...adamDefaults, ...opts });
  }
  protected chain(): Transform<AdamFamilyOptions>[] {
    return [scaleByAdam, addDecayedWeights, scaleByLearningRate];
  }
  protected validate(o: AdamFamilyOptions): void {
    validateAdam('AdamW', o);
  }
}

/** Options of RMSprop. */
export interface RMSpropOptions extends BaseOptions, RmsOptions {}

/** RMSprop (PyTorch's definition: α = 0.99, ε = 1e-8, optional centering and momentum). */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(
    params: readonly Tensor[] | readonly GroupSpec<RMSpropOptions>[],
    opts: Partial<RMSpropOptions> = {},
  ) {
    super('RMSprop', params, {
      lr: 1e-2,
      ...decayDefaults,
      alpha: 0.99,
      eps: 1e-8,
      centered: false,
      momentum: 0,
      ...opts,
    });
  }
  protected chain(): Transform<RMSpropOptions>[] {
    return [addDecayedWeights, scaleByRms, scaleByLearningRate];
  }
  protected validate(o: RMSpropOptions): void {
    checkUnit('RMSprop', 'alpha', o.alpha);
    checkNonNegative('RMSprop', 'eps', o.eps);
    checkNonNegative('RMSprop', 'momentum', o.momentum);
  }
}

/** Options of Adagrad. */
export interface AdagradOptimizerOptions extends BaseOptions, AdagradOptions {}

/** Adagrad (PyTorch's definition, with lrDecay and an initial accumulator value). */
export class Adagrad extends Optimizer<AdagradOptimizerOptions> {
  constructor(
    params: readonly Tensor[] | readonly GroupSpec<AdagradOptimizerOptions>[],
    opts: Partial<AdagradOptimizerOptions> = {},
  ) {
    super('Adagrad', params, {
      lr: 1e-2,
      ...decayDefaults,
      lrDecay: 0,
      initialAccumulatorValue: 0,
      eps: 1e-10,
      ...opts,
    });
  }
  protected chain(): Transform<AdagradOptimizerOptions>[] {
    return [addDecayedWeights, scaleByAdagrad, scaleByLearningRate];
  }
  protected validate(o: AdagradOptimizerOptions): void {
    checkNonNegative('Adagrad', 'lrDecay', o.lrDecay);
    checkNonNegative('Adagrad', 'initialAccumulatorValue', o.initialAccumulatorValue);
    checkNonNegative('Adagrad', 'eps', o.eps);
  }
}
