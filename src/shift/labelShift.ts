/**
 * Label shift (p(y) changes, p(x|y) does not): estimating the target's class priors q from a
 * classifier trained on the source, and correcting for them. One interface (`LabelShiftEstimator`)
 * for the estimators so that experiments compare them side by side:
 * - BBSE (Lipton, Wang & Smola, 2018): μ̂ = M q with M[i][j] = P_s(ŷ = i | y = j) measured on
 *   held-out source data and μ̂ the target's predicted-label frequencies; q solves the least squares
 *   problem min ‖M q − μ̂‖² over the probability simplex (equal to M⁻¹μ̂ when that is a valid prior),
 *   so a singular or ill-conditioned M still gives a prior; its condition number is reported.
 * - RLLS (Azizzadenesheli et al., 2019) in ridge form: the same least squares plus Δ‖θ‖², θ = q/p − 1,
 *   pulling the weights towards 1 when the target sample is small.
 * - EM (Saerens, Latinne & Decaestecker, 2002): maximum-likelihood priors by iterating
 *   q ← mean_i normalize(p_s(y|xᵢ)·q/p); on probabilities calibrated by BCTS (calibrate.ts), the
 *   combination Alexandari, Kundaje & Shrikumar (2020) found best.
 * Correction: importance weights w_y = q_y/p_y for the training loss, or post hoc
 * p_t(y|x) ∝ p_s(y|x)·q(y)/p(y) (`adjustProbabilities`).
 */

import { SingularValueDecomposition } from 'ml-matrix';
import { ValueError } from '../util/errors.js';
import { checkOptions as checkOptionSchema } from '../util/options.js';
import { type Calibration, fitBcts } from './calibrate.js';
import { argmaxRows, columnMeans, frequencies, type Scores, softmaxRows } from './matrix.js';
import { EmOptionsSchema, RllsOptionsSchema } from './options.js';

/** What every label-shift estimator receives: a source-trained classifier's logits. */
export interface LabelShiftData {
  /** Logits [n_s, K] on held-out labelled source data (not the data the classifier trained on). */
  sourceLogits: Scores;
  sourceLabels: Int32Array;
  /** Logits [n_t, K] on the unlabelled target data. */
  targetLogits: Scores;
  /** The source class priors p (default: the held-out labels' frequencies). */
  sourcePriors?: number[];
}

/** An estimate of the target priors. */
export interface LabelShiftEstimate {
  method: string;
  /** Estimated target priors q (non-negative, summing to 1). */
  priors: number[];
  /** Importance weights w_y = q_y / p_y. */
  weights: number[];
  /** Method-specific facts (condition number, iterations, calibration). */
  info: Record<string, number | string | boolean>;
}

/** A label-shift estimator: a name and an estimate from source-trained logits. */
export interface LabelShiftEstimator {
  readonly name: string;
  estimate(d: LabelShiftData): LabelShiftEstimate;
}

function priorsOf(d: LabelShiftData): number[] {
  const k = d.sourceLogits.k;
  if (d.targetLogits.k !== k)
    throw new ValueError(`label shift: source has ${k} classes, target ${d.targetLogits.k}`);
  if (d.sourceLabels.length !== d.sourceLogits.n)
    throw new ValueError(`label shift: ${d.sourceLabels.length} source labels for ${d.sourceLogits.n} rows`);
  const p = d.sourcePriors ?? frequencies(d.sourceLabels, k);
  if (p.length !== k)
    throw new ValueError(`label shift: sourcePriors has ${p.length} entries for ${k} classes`);
  if (p.some((v) => !(v > 0)))
    throw new ValueError(
      `label shift: every source prior must be > 0 (a class absent from the source cannot be re-weighted), got [${p.join(', ')}]`,
    );
  return p;
}

function withWeights(
  method: string,
  q: number[],
  p: number[],
  info: LabelShiftEstimate['info'],
): LabelShiftEstimate {
  return { method, priors: q, weights: q.map((v, i) => v / p[i]), info };
}

/** M[i][j] = P(ŷ = i | y = j) from hard predictions (columns of absent classes are 0). */
export function confusionMatrix(pred: Int32Array, labels: Int32Array, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const perClass = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) {
    m[pred[i]][labels[i]]++;
    perClass[labels[i]]++;
  }
  for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) m[i][j] = perClass[j] ? m[i][j] / perClass[j] : 0;
  return m;
}

/** Euclidean projection onto the probability simplex (Duchi et al., 2008). */
export function projectSimplex(v: readonly number[]): number[] {
  const u = v.slice().sort((a, b) => b - a);
  let css = 0;
  let theta = 0;
  for (let i = 0; i < u.length; i++) {
    css += u[i];
    const t = (css - 1) / (i + 1);
    if (u[i] - t > 0) theta = t;
  }
  return v.map((x) => Math.max(x - theta, 0));
}

/**
 * min over the simplex of ‖M q − μ‖² + Σ_j ridge_j (q_j − c_j)², by accelerated projected gradient
 * (FISTA, step 1/L); converges to the exact constrained minimizer.
 */
export function simplexLeastSquares(
  m: number[][],
  mu: readonly number[],
  ridge?: { weight: number[]; center: number[] },
  maxIter = 20000,
): { q: number[]; iterations: number; residual: number } {
  const k = mu.length;
  const mtm = Array.from({ length: k }, (_, a) =>
    Array.from({ length: k }, (_, b) => m.reduce((s, row) => s + row[a] * row[b], 0)),
  );
  const mtmu = Array.from({ length: k }, (_, a) => m.reduce((s, row, i) => s + row[a] * mu[i], 0));
  // L ≥ largest eigenvalue of 2(MᵀM + diag(ridge)): the row-sum bound.
  let lip = 0;
  for (let a = 0; a < k; a++) {
    const rs = mtm[a].reduce((s, v) => s + Math.abs(v), 0) + (ridge ? ridge.weight[a] : 0);
    lip = Math.max(lip, 2 * rs);
  }
  lip = Math.max(lip, 1e-12);
  const grad = (q: number[]) =>
    q.map((_, a) => {
      let g = -mtmu[a];
      for (let b = 0; b < k; b++) g += mtm[a][b] * q[b];
      if (ridge) g += ridge.weight[a] * (q[a] - ridge.center[a]);
      return 2 * g;
    });
  let q = new Array<number>(k).fill(1 / k);
  let y = q.slice();
  let t = 1;
  let it = 0;
  for (; it < maxIter; it++) {
    const g = grad(y);
    const next = projectSimplex(y.map((v, a) => v - g[a] / lip));
    const tn = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    let delta = 0;
    for (let a = 0; a < k; a++) delta = Math.max(delta, Math.abs(next[a] - q[a]));
    y = next.map((v, a) => v + ((t - 1) / tn) * (v - q[a]));
    q = next;
    t = tn;
    if (delta < 1e-13) break;
  }
  const r = m.map((row, i) => row.reduce((s, v, j) => s + v * q[j], 0) - mu[i]);
  return { q, iterations: it + 1, residual: Math.sqrt(r.reduce((s, v) => s + v * v, 0)) };
}

/** The 2-norm condition number of a square matrix (∞ when singular). */
export function conditionNumber(m: number[][]): number {
  const s = new SingularValueDecomposition(m, { autoTranspose: true }).diagonal;
  const min = Math.min(...s);
  return min > 0 ? Math.max(...s) / min : Number.POSITIVE_INFINITY;
}

/** BBSE on hard predictions (the confusion matrix of argmax labels). */
export function bbse(): LabelShiftEstimator {
  return {
    name: 'BBSE',
    estimate(d) {
      const p = priorsOf(d);
      const k = p.length;
      const m = confusionMatrix(argmaxRows(d.sourceLogits), d.sourceLabels, k);
      const mu = frequencies(argmaxRows(d.targetLogits), k);
      const sol = simplexLeastSquares(m, mu);
      return withWeights('BBSE', sol.q, p, {
        condition: conditionNumber(m),
        residual: sol.residual,
        iterations: sol.iterations,
      });
    },
  };
}

/**
 * RLLS in ridge form: BBSE's least squares plus Δ‖θ‖² with θ = q/p − 1 (default Δ = K / n_target,
 * the order of the variance of μ̂, so the pull towards w = 1 fades as the target sample grows).
 */
export function rlls(opts: { penalty?: number } = {}): LabelShiftEstimator {
  checkOptionSchema('rlls', RllsOptionsSchema, opts);
  return {
    name: 'RLLS',
    estimate(d) {
      const p = priorsOf(d);
      const k = p.length;
      const delta = opts.penalty ?? k / d.targetLogits.n;
      if (!(delta >= 0)) throw new ValueError(`rlls: penalty must be ≥ 0, got ${delta}`);
      const m = confusionMatrix(argmaxRows(d.sourceLogits), d.sourceLabels, k);
      const mu = frequencies(argmaxRows(d.targetLogits), k);
      // Δ‖q/p − 1‖² = Σ_j (Δ/p_j²)(q_j − p_j)².
      const sol = simplexLeastSquares(m, mu, { weight: p.map((v) => delta / (v * v)), center: p });
      return withWeights('RLLS', sol.q, p, {
        penalty: delta,
        residual: sol.residual,
        iterations: sol.iterations,
      });
    },
  };
}

/**
 * EM prior adaptation (Saerens et al., 2002) on probabilities `probs` from a source classifier:
 * q ← mean_i normalize(probs_i ∘ q/p), from q = p, until max |Δq| < tol.
 */
export function emPriors(
  probs: Scores,
  p: readonly number[],
  opts: { tol?: number; maxIter?: number } = {},
): { q: number[]; iterations: number; converged: boolean } {
  const { n, k } = probs;
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 10000;
  let q = p.slice();
  const row = new Float64Array(k);
  for (let it = 1; it <= maxIter; it++) {
    const next = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += row[j] = (probs.data[i * k + j] * q[j]) / p[j];
      if (s > 0) for (let j = 0; j < k; j++) next[j] += row[j] / s;
    }
    for (let j = 0; j < k; j++) next[j] /= n;
    let delta = 0;
    for (let j = 0; j < k; j++) delta = Math.max(delta, Math.abs(next[j] - q[j]));
    q = next;
    if (delta < tol) return { q, iterations: it, converged: true };
  }
  return { q, iterations: maxIter, converged: false };
}

/**
 * Maximum-likelihood label shift: EM on the target's probabilities, calibrated first by
 * bias-corrected temperature scaling fitted on the held-out source data (`calibration: 'bcts'`,
 * default), by temperature only ('ts'), or not at all ('none').
 */
export function emLabelShift(opts: { calibration?: 'bcts' | 'ts' | 'none' } = {}): LabelShiftEstimator {
  checkOptionSchema('emLabelShift', EmOptionsSchema, opts);
  const mode = opts.calibration ?? 'bcts';
  const name = mode === 'none' ? 'EM' : `EM+${mode.toUpperCase()}`;
  // The calibration depends on the source data only: fitted once per source, reused across targets.
  let cached: { logits: Scores; labels: Int32Array; cal: Calibration } | null = null;
  return {
    name,
    estimate(d) {
      const p = priorsOf(d);
      let cal: Calibration = {
        temperature: 1,
        bias: new Array<number>(p.length).fill(0),
        iterations: 0,
        nll: Number.NaN,
      };
      if (mode !== 'none') {
        if (cached?.logits !== d.sourceLogits || cached.labels !== d.sourceLabels)
          cached = {
            logits: d.sourceLogits,
            labels: d.sourceLabels,
            cal: fitBcts(d.sourceLogits, d.sourceLabels, { bias: mode === 'bcts' }),
          };
        cal = cached.cal;
      }
      const probs = softmaxRows(d.targetLogits, 1 / cal.temperature, cal.bias);
      // Saerens' EM needs the priors the calibrated model implies on the source: with a bias term
      // they are the held-out frequencies (its NLL optimum matches them); use p throughout.
      const r = emPriors(probs, p);
      return withWeights(name, r.q, p, {
        iterations: r.iterations,
        converged: r.converged,
        temperature: cal.temperature,
        calibrationNll: cal.nll,
      });
    },
  };
}

/** The target's mean predicted probability, unadjusted (a baseline: no estimation at all). */
export function meanPrediction(): LabelShiftEstimator {
  return {
    name: 'mean prediction',
    estimate(d) {
      const p = priorsOf(d);
      return withWeights('mean prediction', columnMeans(softmaxRows(d.targetLogits)), p, {});
    },
  };
}

/** Every estimator keel has, in the order experiments list them. */
export function labelShiftEstimators(): LabelShiftEstimator[] {
  return [bbse(), rlls(), emLabelShift({ calibration: 'bcts' }), emLabelShift({ calibration: 'none' })];
}

/**
 * Post-hoc correction: p_t(y|x) ∝ p_s(y|x)·w_y, row by row (w_y = q_y / p_y from an estimate).
 */
export function adjustProbabilities(probs: Scores, weights: readonly number[]): Scores {
  const { n, k } = probs;
  if (weights.length !== k)
    throw new ValueError(`adjustProbabilities: ${weights.length} weights for ${k} classes`);
  if (weights.some((w) => !(w >= 0 && Number.isFinite(w))))
    throw new ValueError(`adjustProbabilities: weights must be finite and ≥ 0, got [${weights.join(', ')}]`);
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += out[i * k + j] = probs.data[i * k + j] * weights[j];
    if (s > 0) for (let j = 0; j < k; j++) out[i * k + j] /= s;
    else for (let j = 0; j < k; j++) out[i * k + j] = probs.data[i * k + j];
  }
  return { n, k, data: out };
}
