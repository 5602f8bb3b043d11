/**
 * Two-sample tests for distribution shift between a source and a target sample, each with a seeded
 * permutation p-value (1 + #{T_perm ≥ T_obs}) / (1 + B), exact in level under the null that both
 * samples come from one distribution:
 * - `mmdTest`: kernel maximum mean discrepancy (unbiased MMD², RBF kernel, median-heuristic
 *   bandwidth) on any features — raw inputs, a model's penultimate features or its softmax outputs;
 * - `classifierTest`: a domain classifier (domain.ts) trained on half of each sample; its accuracy
 *   on the other halves, the p-value by permuting the held-out domain labels (the trained classifier
 *   fixed, so the permutation is exact conditional on it);
 * - `labelTest`: the χ² statistic of the 2 × K table of predicted labels (source vs target), the
 *   p-value by permuting the pooled predictions — a test for label shift through a black-box model.
 */

import { ValueError } from '../util/errors.js';
import { checkOptions as checkOptionSchema } from '../util/options.js';
import type { Rng } from '../util/random.js';
import { type DomainClassifierOptions, trainDomainClassifier } from './domain.js';
import { shuffled } from './generate.js';
import { type Scores, selectRows } from './matrix.js';
import { ClassifierTestOptionsSchema, MmdOptionsSchema, TestOptionsSchema } from './options.js';

/** The outcome of a two-sample test. */
export interface ShiftTestResult {
  test: string;
  /** The observed statistic (MMD², accuracy, χ²). */
  statistic: number;
  pValue: number;
  /** pValue < alpha. */
  shifted: boolean;
  alpha: number;
  permutations: number;
  info: Record<string, number>;
}

/** Options shared by the tests. */
export interface TestOptions {
  /** Permutations for the p-value (default 200 for MMD, 1000 for the others). */
  permutations?: number;
  /** Significance level of the verdict (default 0.05). */
  alpha?: number;
}

function checkOptions(op: string, o: TestOptions, defaultPermutations: number): { b: number; alpha: number } {
  const b = o.permutations ?? defaultPermutations;
  const alpha = o.alpha ?? 0.05;
  if (!Number.isInteger(b) || b < 1)
    throw new ValueError(`${op}: permutations must be an integer ≥ 1, got ${b}`);
  if (!(alpha > 0 && alpha < 1)) throw new ValueError(`${op}: alpha must be in (0, 1), got ${alpha}`);
  return { b, alpha };
}

/** (1 + #{null ≥ observed}) / (1 + B), with a relative tolerance for ties in floating point. */
export function permutationPValue(observed: number, nulls: readonly number[]): number {
  const tol = 1e-12 * Math.max(1, Math.abs(observed));
  let ge = 0;
  for (const v of nulls) if (v >= observed - tol) ge++;
  return (1 + ge) / (1 + nulls.length);
}

function result(
  test: string,
  statistic: number,
  nulls: number[],
  alpha: number,
  info: Record<string, number>,
): ShiftTestResult {
  const pValue = permutationPValue(statistic, nulls);
  return { test, statistic, pValue, shifted: pValue < alpha, alpha, permutations: nulls.length, info };
}

/** Options of `mmdTest`. */
export interface MmdOptions extends TestOptions {
  /** RBF bandwidth σ in k(x, y) = exp(−‖x − y‖² / (2σ²)); default the median pairwise distance. */
  bandwidth?: number;
}

/** Squared distances between all rows of the pooled sample. */
function pooledDistances(a: Scores, b: Scores): { d2: Float64Array; n: number } {
  const d = a.k;
  const n = a.n + b.n;
  const row = (i: number) =>
    i < a.n ? a.data.subarray(i * d, (i + 1) * d) : b.data.subarray((i - a.n) * d, (i - a.n + 1) * d);
  const rows = Array.from({ length: n }, (_, i) => row(i));
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = rows[i];
    for (let j = i + 1; j < n; j++) {
      const rj = rows[j];
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = ri[c] - rj[c];
        s += t * t;
      }
      d2[i * n + j] = s;
      d2[j * n + i] = s;
    }
  }
  return { d2, n };
}

/** Unbiased MMD² of the split `inA` (true: first sample) over a pooled kernel matrix. */
function mmd2(k: Float64Array, n: number, inA: Uint8Array, na: number): number {
  const nb = n - na;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let i = 0; i < n; i++) {
    const ai = inA[i];
    const off = i * n;
    for (let j = i + 1; j < n; j++) {
      const v = k[off + j];
      if (ai && inA[j]) saa += v;
      else if (!ai && !inA[j]) sbb += v;
      else sab += v;
    }
  }
  return (2 * saa) / (na * (na - 1)) + (2 * sbb) / (nb * (nb - 1)) - (2 * sab) / (na * nb);
}

/**
 * Kernel two-sample test: unbiased MMD² with an RBF kernel between the rows of `source` and
 * `target` ([n, d] features), p-value by permuting the pooled rows. O((n_s + n_t)²) memory and
 * time per permutation: subsample beyond a few thousand rows.
 */
export function mmdTest(source: Scores, target: Scores, g: Rng, opts: MmdOptions = {}): ShiftTestResult {
  checkOptionSchema('mmdTest', MmdOptionsSchema, opts);
  const { b, alpha } = checkOptions('mmdTest', opts, 200);
  if (source.k !== target.k)
    throw new ValueError(`mmdTest: source has ${source.k} features, target ${target.k}`);
  if (source.n < 2 || target.n < 2)
    throw new ValueError(`mmdTest: each sample needs ≥ 2 rows, got ${source.n} and ${target.n}`);
  const { d2, n } = pooledDistances(source, target);
  let sigma = opts.bandwidth;
  if (sigma === undefined) {
    const off: number[] = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off.push(d2[i * n + j]);
    off.sort((x, y) => x - y);
    sigma = Math.sqrt(off[Math.floor(off.length / 2)]) || 1;
  }
  if (!(sigma > 0 && Number.isFinite(sigma)))
    throw new ValueError(`mmdTest: bandwidth must be > 0, got ${sigma}`);
  const gamma = 1 / (2 * sigma * sigma);
  const k = d2.map((v) => Math.exp(-gamma * v));
  const inA = new Uint8Array(n);
  inA.fill(1, 0, source.n);
  const observed = mmd2(k, n, inA, source.n);
  const idx = Array.from({ length: n }, (_, i) => i);
  const nulls: number[] = [];
  for (let r = 0; r < b; r++) {
    const perm = shuffled(idx, g);
    inA.fill(0);
    for (let i = 0; i < source.n; i++) inA[perm[i]] = 1;
    nulls.push(mmd2(k, n, inA, source.n));
  }
  return result('MMD', observed, nulls, alpha, { bandwidth: sigma, source: source.n, target: target.n });
}

/** Options of `classifierTest`. */
export interface ClassifierTestOptions extends TestOptions {
  classifier?: DomainClassifierOptions;
}

/**
 * Classifier two-sample test (Lopez-Paz & Oquab, 2017): half of each sample trains a domain
 * classifier; its accuracy on the held-out halves is the statistic.
 */
export async function classifierTest(
  source: Scores,
  target: Scores,
  g: Rng,
  opts: ClassifierTestOptions = {},
): Promise<ShiftTestResult> {
  checkOptionSchema('classifierTest', ClassifierTestOptionsSchema, opts);
  const { b, alpha } = checkOptions('classifierTest', opts, 1000);
  if (source.k !== target.k)
    throw new ValueError(`classifierTest: source has ${source.k} features, target ${target.k}`);
  if (source.n < 4 || target.n < 4)
    throw new ValueError(`classifierTest: each sample needs ≥ 4 rows, got ${source.n} and ${target.n}`);
  const sIdx = shuffled(
    Array.from({ length: source.n }, (_, i) => i),
    g,
  );
  const tIdx = shuffled(
    Array.from({ length: target.n }, (_, i) => i),
    g,
  );
  const sh = Math.floor(source.n / 2);
  const th = Math.floor(target.n / 2);
  const clf = await trainDomainClassifier(
    selectRows(source, sIdx.slice(0, sh)),
    selectRows(target, tIdx.slice(0, th)),
    g,
    opts.classifier,
  );
  const hs = clf.logits(selectRows(source, sIdx.slice(sh)));
  const ht = clf.logits(selectRows(target, tIdx.slice(th)));
  // Predicted "target" at h > 0 (the loss balances the domains, so 0 is the balanced threshold).
  const pred = [...Array.from(hs, (v) => (v > 0 ? 1 : 0)), ...Array.from(ht, (v) => (v > 0 ? 1 : 0))];
  const truth = [...new Array<number>(hs.length).fill(0), ...new Array<number>(ht.length).fill(1)];
  // Balanced accuracy: ½(TNR + TPR), so unequal held-out sizes do not favour the majority.
  const balancedAccuracy = (labels: readonly number[]) => {
    let tn = 0;
    let tp = 0;
    let n0 = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === 0) {
        n0++;
        if (pred[i] === 0) tn++;
      } else if (pred[i] === 1) tp++;
    }
    return 0.5 * (tn / n0 + tp / (labels.length - n0));
  };
  const observed = balancedAccuracy(truth);
  const nulls: number[] = [];
  for (let r = 0; r < b; r++) nulls.push(balancedAccuracy(shuffled(truth, g)));
  return result('classifier', observed, nulls, alpha, { heldOut: truth.length });
}

/** χ² statistic of a 2 × K contingency table of predicted labels (empty columns skipped). */
function chiSquare(a: Int32Array, bLabels: Int32Array, k: number): number {
  const ca = new Array<number>(k).fill(0);
  const cb = new Array<number>(k).fill(0);
  for (const v of a) ca[v]++;
  for (const v of bLabels) cb[v]++;
  const na = a.length;
  const nb = bLabels.length;
  const n = na + nb;
  let x2 = 0;
  for (let j = 0; j < k; j++) {
    const col = ca[j] + cb[j];
    if (col === 0) continue;
    const ea = (na * col) / n;
    const eb = (nb * col) / n;
    x2 += (ca[j] - ea) ** 2 / ea + (cb[j] - eb) ** 2 / eb;
  }
  return x2;
}

/**
 * Label-shift test through a black-box classifier: χ² of its predicted labels on source vs target,
 * the p-value by permutation of the pooled predictions.
 */
export function labelTest(
  sourcePred: Int32Array,
  targetPred: Int32Array,
  classes: number,
  g: Rng,
  opts: TestOptions = {},
): ShiftTestResult {
  checkOptionSchema('labelTest', TestOptionsSchema, opts);
  const { b, alpha } = checkOptions('labelTest', opts, 1000);
  if (sourcePred.length < 1 || targetPred.length < 1)
    throw new ValueError('labelTest: both samples need predictions');
  for (const p of [sourcePred, targetPred])
    for (let i = 0; i < p.length; i++)
      if (!(p[i] >= 0 && p[i] < classes))
        throw new ValueError(`labelTest: predicted label ${p[i]} at index ${i} is outside 0..${classes - 1}`);
  const observed = chiSquare(sourcePred, targetPred, classes);
  const pooled = Int32Array.from([...sourcePred, ...targetPred]);
  const na = sourcePred.length;
  const nulls: number[] = [];
  for (let r = 0; r < b; r++) {
    // Fisher–Yates on the pooled copy; the first na are the permuted "source".
    for (let i = pooled.length - 1; i > 0; i--) {
      const j = g.integer(0, i + 1);
      const t = pooled[i];
      pooled[i] = pooled[j];
      pooled[j] = t;
    }
    nulls.push(chiSquare(pooled.subarray(0, na), pooled.subarray(na), classes));
  }
  return result('label χ²', observed, nulls, alpha, { source: na, target: targetPred.length });
}
