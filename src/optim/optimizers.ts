/**
 * The optimizers: each one gradient transformation (transforms.ts) with PyTorch's semantics and
 * defaults, its hyper-parameters read from the parameter groups (so groups may differ and schedulers
 * change `lr`). `weightDecay` means: coupled L2 (grad += λw) in SGD, Adam, RMSprop and Adagrad;
 * decoupled (w ← w − lr·λ·w) in AdamW. `penalty: 'l1'` swaps in λ·sign(w), and `proximal: true`
 * replaces it by a soft-threshold step after the update that produces exact zeros. `ChainOptimizer`
 * runs a chain of your own.
 */
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { type BaseOptions, checkNonNegative, checkUnit, type GroupSpec, Optimizer } from './optimizer.js';
import {
  type AdagradOptions,
  type AdamOptions,
  addDecayedWeights,
  chain,
  type GradientTransform,
  type MomentumOptions,
  proximalL1,
  type RmsOptions,
  scaleByAdagrad,
  scaleByAdam,
  scaleByLearningRate,
  scaleByRms,
  traceMomentum,
} from './transforms.js';

const decayDefaults = { weightDecay: 0, penalty: 'l2', proximal: false } as const;
type Params<O> = readonly Tensor[] | readonly GroupSpec<O>[];

/** Options of SGD. */
export interface SGDOptions extends BaseOptions, MomentumOptions {}

/** Stochastic gradient descent with momentum, dampening, Nesterov and coupled weight decay (PyTorch SGD). */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    super(
      'SGD',
      params,
      { ...decayDefaults, momentum: 0, dampening: 0, nesterov: false, ...opts },
      chain(addDecayedWeights(), traceMomentum(), scaleByLearningRate(), proximalL1()),
    );
  }
  protected override validate(o: SGDOptions): void {
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
  constructor(params: Params<AdamFamilyOptions>, opts: Partial<AdamFamilyOptions> = {}) {
    super(
      'Adam',
      params,
      { lr: 1e-3, ...decayDefaults, ...adamDefaults, ...opts },
      chain(addDecayedWeights(), scaleByAdam(), scaleByLearningRate(), proximalL1()),
    );
  }
  protected override validate(o: AdamFamilyOptions): void {
    validateAdam('Adam', o);
  }
}

/** AdamW: Adam with decoupled weight decay w ← w − lr·λ·w (default λ = 0.01, as PyTorch). */
export class AdamW extends Optimizer<AdamFamilyOptions> {
  constructor(params: Params<AdamFamilyOptions>, opts: Partial<AdamFamilyOptions> = {}) {
    super(
      'AdamW',
      params,
      { lr: 1e-3, ...decayDefaults, weightDecay: 0.01, ...adamDefaults, ...opts },
      chain(scaleByAdam(), addDecayedWeights(), scaleByLearningRate(), proximalL1()),
    );
  }
  protected override validate(o: AdamFamilyOptions): void {
    validateAdam('AdamW', o);
  }
}

/** Options of RMSprop. */
export interface RMSpropOptions extends BaseOptions, RmsOptions {}

/** RMSprop (PyTorch's definition: α = 0.99, ε = 1e-8, optional centering and momentum). */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Params<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    super(
      'RMSprop',
      params,
      { lr: 1e-2, ...decayDefaults, alpha: 0.99, eps: 1e-8, centered: false, momentum: 0, ...opts },
      chain(addDecayedWeights(), scaleByRms(), scaleByLearningRate(), proximalL1()),
    );
  }
  protected override validate(o: RMSpropOptions): void {
    checkUnit('RMSprop', 'alpha', o.alpha);
    checkNonNegative('RMSprop', 'eps', o.eps);
    checkNonNegative('RMSprop', 'momentum', o.momentum);
  }
}

/** Options of Adagrad. */
export interface AdagradOptimizerOptions extends BaseOptions, AdagradOptions {}

/** Adagrad (PyTorch's definition, with lrDecay and an initial accumulator value). */
export class Adagrad extends Optimizer<AdagradOptimizerOptions> {
  constructor(params: Params<AdagradOptimizerOptions>, opts: Partial<AdagradOptimizerOptions> = {}) {
    super(
      'Adagrad',
      params,
      { lr: 1e-2, ...decayDefaults, lrDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, ...opts },
      chain(addDecayedWeights(), scaleByAdagrad(), scaleByLearningRate(), proximalL1()),
    );
  }
  protected override validate(o: AdagradOptimizerOptions): void {
    checkNonNegative('Adagrad', 'lrDecay', o.lrDecay);
    checkNonNegative('Adagrad', 'initialAccumulatorValue', o.initialAccumulatorValue);
    checkNonNegative('Adagrad', 'eps', o.eps);
  }
}

/**
 * An optimizer running a transformation of your own, e.g.
 * `new ChainOptimizer(params, chain(clipByGlobalNorm(1), scaleByAdam(), addDecayedWeights({ weightDecay: 0.01 }), scaleByLearningRate()), { lr: 1e-3 })`.
 * Options (`lr`, …) are the groups' defaults; transforms read those they were not given.
 */
export class ChainOptimizer extends Optimizer<BaseOptions> {
  constructor(
    params: Params<BaseOptions>,
    transform: GradientTransform,
    opts: Partial<BaseOptions> & Record<string, unknown> = {},
  ) {
    super(`ChainOptimizer(${transform.name})`, params, { lr: 1e-3, ...decayDefaults, ...opts }, transform);
  }
}
