/**
 * Covariate shift correction (D2L §4.7's algorithm): a domain classifier h separating target from
 * source features gives importance weights βᵢ = p_target(xᵢ)/p_source(xᵢ) = exp(h(xᵢ))·n_s/n_t
 * (the class-ratio correction; with a balanced loss h already carries no prior part), optionally
 * clipped at a maximum and normalized to mean 1; the effective sample size (Σβ)²/Σβ² says how many
 * source samples the weighted training is worth. Train with the weights as a third tensor of the
 * dataset (`fit` weights each sample's loss by it).
 */
import { ValueError } from '../util/errors.js';
import type { Rng } from '../util/random.js';
import { type DomainClassifier, type DomainClassifierOptions, trainDomainClassifier } from './domain.js';
import type { Scores } from './matrix.js';

/** Options of `importanceWeights`. */
export interface WeightOptions {
  /** Clip weights at this value before normalizing (default none). */
  clip?: number;
  /** Scale the weights to mean 1 (default true). */
  normalize?: boolean;
}

/** Importance weights with their effective sample size. */
export interface ImportanceWeights {
  weights: Float64Array;
  /** (Σβ)² / Σβ²: between 1 and n. */
  effectiveSampleSize: number;
  /** How many weights the clip changed. */
  clipped: number;
  /** The largest weight (after clipping and normalization). */
  max: number;
}

/** (Σw)² / Σw². */
export function effectiveSampleSize(w: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i];
    s2 += w[i] * w[i];
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

/** Weights exp(h − priorLogOdds) from domain logits h of the source rows, clipped and normalized. */
export function weightsFromLogits(
  h: ArrayLike<number>,
  priorLogOdds: number,
  opts: WeightOptions = {},
): ImportanceWeights {
  if (opts.clip !== undefined && !(opts.clip > 0))
    throw new ValueError(`importance weights: clip must be > 0, got ${opts.clip}`);
  const w = new Float64Array(h.length);
  let clipped = 0;
  for (let i = 0; i < h.length; i++) {
    // Capped exponent: a classifier certain of one row must not give an infinite weight.
    let v = Math.exp(Math.min(h[i] - priorLogOdds, 700));
    if (opts.clip !== undefined && v > opts.clip) {
      v = opts.clip;
      clipped++;
    }
    w[i] = v;
  }
  if (opts.normalize ?? true) {
    let s = 0;
    for (const v of w) s += v;
    const m = s / Math.max(w.length, 1);
    if (m > 0) for (let i = 0; i < w.length; i++) w[i] /= m;
  }
  let max = 0;
  for (const v of w) max = Math.max(max, v);
  return { weights: w, effectiveSampleSize: effectiveSampleSize(w), clipped, max };
}

/** Options of `estimateImportanceWeights`. */
export interface CovariateShiftOptions extends WeightOptions {
  classifier?: DomainClassifierOptions;
}

/**
 * Trains a domain classifier on source vs target features and returns the source rows' importance
 * weights (and the classifier, e.g. to weight a validation set the same way).
 */
export async function estimateImportanceWeights(
  source: Scores,
  target: Scores,
  g: Rng,
  opts: CovariateShiftOptions = {},
): Promise<ImportanceWeights & { classifier: DomainClassifier }> {
  const classifier = await trainDomainClassifier(source, target, g, opts.classifier);
  // A balanced loss estimates log p_t(x)/p_s(x) directly; an unbalanced one adds log(n_t/n_s).
  const prior = classifier.balanced ? 0 : classifier.priorLogOdds;
  return { ...weightsFromLogits(classifier.logits(source), prior, opts), classifier };
}
