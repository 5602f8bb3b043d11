/**
 * The built-in optimizers, each one fused backend update per parameter (fused.ts) with PyTorch's
 * semantics and defaults, their hyper-parameters read from the parameter groups at every step (so
 * groups may differ and schedulers change `lr`, momentum and betas). `weightDecay` means: coupled L2
 * (grad += λw) in SGD, Adam, RMSprop and Adagrad; decoupled (w ← w − lr·λ·w) in AdamW.
 * `penalty: 'l1'` swaps in λ·sign(w), and `proximal: true` replaces it by a soft-threshold step after
 * the update that produces exact zeros. `ChainOptimizer` (chainOptimizer.ts) runs a chain of your own.
 */
import { H } from '../ops/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { FusedOptimizer, fillDecay } from './fused.js';
import { type BaseOptions, checkNonNegative, checkUnit, type GroupSpec } from './optimizer.js';
import type { AdagradOptions, AdamOptions, MomentumOptions, RmsOptions } from './transforms.js';

/** Checks each named option of `o` with its range check (checkNonNegative, checkUnit). */
function checkRanges<K extends string>(
  name: string,
  o: Record<NoInfer<K>, number>,
  checks: Record<K, (op: string, field: string, value: number) => void>,
): void {
  for (const field in checks) checks[field](name, field, o[field]);
}

const decayDefaults = { weightDecay: 0, penalty: 'l2', proximal: false } as const;
type Params<O> = readonly Tensor[] | readonly GroupSpec<O>[];

/** Options of SGD. */
export interface SGDOptions extends BaseOptions, MomentumOptions {}

/** Stochastic gradient descent with momentum, dampening, Nesterov and coupled weight decay (PyTorch SGD). */
export class SGD extends FusedOptimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    super(
      'SGD',
      params,
      { lr: opts.lr, ...decayDefaults, momentum: 0, dampening: 0, nesterov: false },
      opts,
      'sgd',
    );
  }
  protected override validate(o: SGDOptions): void {
    checkRanges('SGD', o, { momentum: checkNonNegative, dampening: checkNonNegative });
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new ValueError(
        `SGD: nesterov needs momentum > 0 and dampening = 0, got momentum=${o.momentum}, dampening=${o.dampening}`,
      );
    }
  }
  protected fill(h: Float64Array, o: SGDOptions, _t: number, momentumStarted: boolean): void {
    fillDecay(h, o, 'coupled');
    h[H.momentum] = o.momentum;
    h[H.dampening] = o.dampening;
    h[H.nesterov] = o.nesterov ? 1 : 0;
    h[H.first] = momentumStarted ? 0 : 1;
  }
}

/** Options of Adam and AdamW. */
export interface AdamFamilyOptions extends BaseOptions, AdamOptions {}

function validateAdam(name: string, o: AdamFamilyOptions): void {
  if (!Array.isArray(o.betas) || o.betas.length !== 2)
    throw new ValueError(`${name}: betas must be a pair [β1, β2], got ${String(o.betas)}`);
  checkUnit(name, 'betas[0]', o.betas[0]);
  checkUnit(name, 'betas[1]', o.betas[1]);
  checkRanges(name, o, { eps: checkNonNegative });
}

/** Adam's slots: betas, ε, AMSGrad and the bias corrections of step t. */
function fillAdam(h: Float64Array, o: AdamFamilyOptions, t: number): void {
  const [b1, b2] = o.betas;
  h[H.beta1] = b1;
  h[H.beta2] = b2;
  h[H.eps] = o.eps;
  h[H.amsgrad] = o.amsgrad ? 1 : 0;
  h[H.bc1] = 1 - b1 ** t;
  h[H.sqrtBc2] = Math.sqrt(1 - b2 ** t);
}

const adamDefaults = { betas: [0.9, 0.999] as [number, number], eps: 1e-8, amsgrad: false };

/** Adam with coupled L2 weight decay (grad += λw before the moments), as PyTorch's Adam. */
export class Adam extends FusedOptimizer<AdamFamilyOptions> {
  constructor(params: Params<AdamFamilyOptions>, opts: Partial<AdamFamilyOptions> = {}) {
    super('Adam', params, { lr: 1e-3, ...decayDefaults, ...adamDefaults }, opts, 'adam');
  }
  protected override validate(o: AdamFamilyOptions): void {
    validateAdam('Adam', o);
  }
  protected fill(h: Float64Array, o: AdamFamilyOptions, t: number): void {
    fillDecay(h, o, 'coupled');
    fillAdam(h, o, t);
  }
}

/** AdamW: Adam with decoupled weight decay w ← w − lr·λ·w (default λ = 0.01, as PyTorch). */
export class AdamW extends FusedOptimizer<AdamFamilyOptions> {
  constructor(params: Params<AdamFamilyOptions>, opts: Partial<AdamFamilyOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, ...decayDefaults, weightDecay: 0.01, ...adamDefaults }, opts, 'adam');
  }
  protected override validate(o: AdamFamilyOptions): void {
    validateAdam('AdamW', o);
  }
  protected fill(h: Float64Array, o: AdamFamilyOptions, t: number): void {
    fillDecay(h, o, 'decoupled');
    fillAdam(h, o, t);
  }
}

/** Options of RMSprop. */
export interface RMSpropOptions extends BaseOptions, RmsOptions {}

/** RMSprop (PyTorch's definition: α = 0.99, ε = 1e-8, optional centering and momentum). */
export class RMSprop extends FusedOptimizer<RMSpropOptions> {
  constructor(params: Params<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    const defaults = { lr: 1e-2, ...decayDefaults, alpha: 0.99, eps: 1e-8, centered: false, momentum: 0 };
    super('RMSprop', params, defaults, opts, 'rmsprop');
  }
  protected override validate(o: RMSpropOptions): void {
    checkRanges('RMSprop', o, { alpha: checkUnit, eps: checkNonNegative, momentum: checkNonNegative });
  }
  protected fill(h: Float64Array, o: RMSpropOptions): void {
    fillDecay(h, o, 'coupled');
    h[H.alpha] = o.alpha;
    h[H.rmsEps] = o.eps;
    h[H.centered] = o.centered ? 1 : 0;
    h[H.rmsMomentum] = o.momentum;
  }
}

/** Options of Adagrad. */
export interface AdagradOptimizerOptions extends BaseOptions, AdagradOptions {}

/** Adagrad (PyTorch's definition, with lrDecay and an initial accumulator value). */
export class Adagrad extends FusedOptimizer<AdagradOptimizerOptions> {
  constructor(params: Params<AdagradOptimizerOptions>, opts: Partial<AdagradOptimizerOptions> = {}) {
    const defaults = { lr: 1e-2, ...decayDefaults, lrDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 };
    super('Adagrad', params, defaults, opts, 'adagrad');
  }
  protected override validate(o: AdagradOptimizerOptions): void {
    const nonNegative = checkNonNegative;
    checkRanges('Adagrad', o, {
      lrDecay: nonNegative,
      initialAccumulatorValue: nonNegative,
      eps: nonNegative,
    });
  }
  protected fill(h: Float64Array, o: AdagradOptimizerOptions, t: number): void {
    fillDecay(h, o, 'coupled');
    h[H.adagradEps] = o.eps;
    h[H.lrDecayFactor] = 1 / (1 + (t - 1) * o.lrDecay);
  }
  protected override initialValue(_buffer: string, o: AdagradOptimizerOptions): number {
    return o.initialAccumulatorValue;
  }
}
