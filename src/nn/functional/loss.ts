/**
 * Loss functions with PyTorch's definitions and `reduction` ('mean' default, 'sum', 'none'), plus
 * the textbook penalties. Cross-entropy works from logits through logSoftmax (stable at any scale;
 * at plain class targets one fused primitive, ops/crossentropy.ts);
 * it supports class-index or probability targets, label smoothing, class weights and per-sample
 * weights (for importance weighting under distribution shift). BCE-with-logits uses the stable
 * form max(x,0) − x·y + log(1 + e^(−|x|)).
 */
import { logSoftmax } from '../../ops/activation.js';
import { softmaxCrossEntropy } from '../../ops/crossentropy.js';
import { abs, add, div, exp, log, lt, maximum, mul, neg, square, sub, where } from '../../ops/elementwise.js';
import { gather, indexSelect } from '../../ops/indexing.js';
import { sum } from '../../ops/reduce.js';
import { reshape, unsqueeze } from '../../ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../../util/errors.js';
import { sameShape } from '../../util/shape.js';

/** How per-element losses are combined. */
export type Reduction = 'mean' | 'sum' | 'none';

function checkReduction(op: string, reduction: Reduction): void {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ValueError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  }
}

function reduce(op: string, l: Tensor, reduction: Reduction): Tensor {
  checkReduction(op, reduction);
  switch (reduction) {
    case 'mean':
      return div(sum(l), Math.max(l.size, 1));
    case 'sum':
      return sum(l);
    default:
      return l;
  }
}

function sameShapes(op: string, input: Tensor, target: Tensor): void {
  if (!sameShape(input.shape, target.shape)) {
    throw new ShapeError(
      `${op}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape`,
    );
  }
}

/** Mean squared error (x − y)². */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  sameShapes('mseLoss', input, target);
  return reduce('mseLoss', square(sub(input, target)), reduction);
}

/** Mean absolute error |x − y|. */
export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  sameShapes('l1Loss', input, target);
  return reduce('l1Loss', abs(sub(input, target)), reduction);
}

/** Huber: ½d² for |d| < δ, δ(|d| − ½δ) beyond. */
export function huberLoss(input: Tensor, target: Tensor, delta = 1, reduction: Reduction = 'mean'): Tensor {
  sameShapes('huberLoss', input, target);
  if (!(delta > 0)) throw new ValueError(`huberLoss: delta must be > 0, got ${delta}`);
  const d = abs(sub(input, target));
  return reduce(
    'huberLoss',
    where(lt(d, delta), mul(square(d), 0.5), mul(sub(d, 0.5 * delta), delta)),
    reduction,
  );
}

/** Smooth L1: ½d²/β for |d| < β, |d| − ½β beyond (β = 0 gives L1). */
export function smoothL1Loss(input: Tensor, target: Tensor, beta = 1, reduction: Reduction = 'mean'): Tensor {
  sameShapes('smoothL1Loss', input, target);
  if (!(beta >= 0)) throw new ValueError(`smoothL1Loss: beta must be ≥ 0, got ${beta}`);
  const d = abs(sub(input, target));
  if (beta === 0) return reduce('smoothL1Loss', d, reduction);
  return reduce(
    'smoothL1Loss',
    where(lt(d, beta), mul(square(d), 0.5 / beta), sub(d, 0.5 * beta)),
    reduction,
  );
}

/** Options of `crossEntropy` and `nllLoss`. */
export interface ClassLossOptions {
  /** Per-class weights, shape [C]. */
  weight?: Tensor;
  reduction?: Reduction;
}

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions extends ClassLossOptions {
  /** Mix ε of the uniform distribution into the targets (0 ≤ ε ≤ 1). */
  labelSmoothing?: number;
  /**
   * Per-sample weights, shape [N]: each sample's loss is multiplied by its weight before reduction;
   * 'mean' then divides by N (importance weighting: (1/n) Σ βᵢ·lᵢ).
   */
  sampleWeights?: Tensor;
}

function checkLogits(op: string, input: Tensor): number {
  if (input.ndim !== 2)
    throw new ShapeError(`${op}: expected input of shape [N, C], got ${fmtShape(input.shape)}`);
  return input.shape[1];
}

function checkTarget(op: string, input: Tensor, target: Tensor): void {
  if (target.dtype !== 'int32')
    throw new DTypeError(`${op}: class targets must be int32, got ${target.dtype}`);
  if (target.ndim !== 1 || target.shape[0] !== input.shape[0]) {
    throw new ShapeError(
      `${op}: target ${fmtShape(target.shape)} must be [N] for input ${fmtShape(input.shape)}`,
    );
  }
}

/** Negative log-likelihood of log-probabilities [N, C] at class targets [N] (int32). */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: ClassLossOptions = {}): Tensor {
  checkLogits('nllLoss', logProbs);
  checkTarget('nllLoss', logProbs, target);
  const reduction = opts.reduction ?? 'mean';
  const picked = reshape(gather(logProbs, 1, unsqueeze(target, 1)), [-1]);
  if (!opts.weight) return reduce('nllLoss', neg(picked), reduction);
  const w = indexSelect(opts.weight, 0, target);
  const l = neg(mul(picked, w));
  return reduction === 'mean' ? div(sum(l), sum(w)) : reduce('nllLoss', l, reduction);
}

/**
 * Cross-entropy from logits [N, C]. Targets: class indices [N] (int32) or probabilities [N, C]
 * (float). With class weights and 'mean', the sum is divided by the total weight of the targets,
 * as PyTorch.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const c = checkLogits('crossEntropy', logits);
  const reduction = opts.reduction ?? 'mean';
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1))
    throw new ValueError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (opts.weight && (opts.weight.ndim !== 1 || opts.weight.shape[0] !== c)) {
    throw new ShapeError(`crossEntropy: weight must have shape [${c}], got ${fmtShape(opts.weight.shape)}`);
  }
  const sw = opts.sampleWeights;
  if (sw && (sw.ndim !== 1 || sw.shape[0] !== logits.shape[0])) {
    throw new ShapeError(
      `crossEntropy: sampleWeights must have shape [${logits.shape[0]}], got ${fmtShape(sw.shape)}`,
    );
  }
  checkReduction('crossEntropy', reduction);
  if (target.dtype === 'int32' && eps === 0 && !opts.weight && !sw) {
    // The common case as one fused primitive (same values as the composite below; it checks the
    // target as checkTarget does).
    return softmaxCrossEntropy(logits, target, reduction);
  }
  const logp = logSoftmax(logits, 1);
  const wrow = opts.weight ? reshape(opts.weight, [1, c]) : null;
  if (target.dtype !== 'int32') {
    // Probability targets: −Σ_c w_c·q_c·log p_c with q smoothed; 'mean' divides by N.
    if (!sameShape(logits.shape, target.shape)) {
      throw new ShapeError(
        `crossEntropy: target must be class indices (int32 [${logits.shape[0]}]) or probabilities (float ${fmtShape(logits.shape)}), got ${target.dtype} ${fmtShape(target.shape)}`,
      );
    }
    const q = eps > 0 ? add(mul(target, 1 - eps), eps / c) : target;
    let l = neg(sum(wrow ? mul(mul(q, logp), wrow) : mul(q, logp), 1));
    if (sw) l = mul(l, sw);
    return reduce('crossEntropy', l, reduction);
  }
  checkTarget('crossEntropy', logits, target);
  const picked = reshape(gather(logp, 1, unsqueeze(target, 1)), [-1]);
  const wt = opts.weight ? indexSelect(opts.weight, 0, target) : null;
  let nll = neg(wt ? mul(picked, wt) : picked);
  let smooth = eps > 0 ? neg(sum(wrow ? mul(logp, wrow) : logp, 1)) : null;
  if (sw) {
    nll = mul(nll, sw);
    if (smooth) smooth = mul(smooth, sw);
  }
  const combine = (a: Tensor, b: Tensor | null) => (b ? add(mul(a, 1 - eps), mul(b, eps / c)) : a);
  if (reduction === 'none') return combine(nll, smooth);
  if (reduction === 'sum') return combine(sum(nll), smooth ? sum(smooth) : null);
  const denom = wt && !sw ? sum(wt) : logits.shape[0];
  return combine(div(sum(nll), denom), smooth ? div(sum(smooth), denom) : null);
}

/** Options of `bceWithLogits`. */
export interface BceOptions {
  /** Per-element weights (broadcast to the input). */
  weight?: Tensor;
  /** Weight of positive examples per class (broadcast along the last axis). */
  posWeight?: Tensor;
  reduction?: Reduction;
}

/** Binary cross-entropy from logits, stable for any logit: max(x,0) − x·y + log(1 + e^(−|x|)). */
export function bceWithLogits(input: Tensor, target: Tensor, opts: BceOptions = {}): Tensor {
  sameShapes('bceWithLogits', input, target);
  const softTerm = add(log(add(exp(neg(abs(input))), 1)), maximum(neg(input), 0)); // log(1 + e^(−x))
  let l: Tensor;
  if (opts.posWeight) {
    // (1 − y)·x + (1 + (pw − 1)·y)·log(1 + e^(−x))
    const coef = add(mul(sub(opts.posWeight, 1), target), 1);
    l = add(mul(sub(1, target), input), mul(coef, softTerm));
  } else {
    l = add(mul(sub(1, target), input), softTerm);
  }
  if (opts.weight) l = mul(l, opts.weight);
  return reduce('bceWithLogits', l, opts.reduction ?? 'mean');
}

/** The textbook L2 penalty ½·Σ‖w‖² over the given tensors (add λ·l2Penalty(ws) to the loss). */
export function l2Penalty(weights: Tensor | readonly Tensor[]): Tensor {
  const ws = Array.isArray(weights) ? weights : [weights as Tensor];
  if (ws.length === 0) throw new ValueError('l2Penalty: expected at least one tensor');
  return mul(
    ws.map((w) => sum(square(w))).reduce((a, b) => add(a, b)),
    0.5,
  );
}

/** The L1 penalty Σ|w| over the given tensors. */
export function l1Penalty(weights: Tensor | readonly Tensor[]): Tensor {
  const ws = Array.isArray(weights) ? weights : [weights as Tensor];
  if (ws.length === 0) throw new ValueError('l1Penalty: expected at least one tensor');
  return ws.map((w) => sum(abs(w))).reduce((a, b) => add(a, b));
}
