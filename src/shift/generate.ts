/**
 * Seeded shift generators for experiments: class priors drawn from a Dirichlet(α) or "tweak-one"
 * (one class at prevalence ρ, the rest equal), samples drawn from a labelled pool with given class
 * priors (label shift: p(x|y) kept, p(y) changed), and biased selection by a per-sample score
 * (covariate shift: p(y|x) kept, p(x) changed). Everything takes an `Rng` and is reproducible.
 */

import { ValueError } from '../util/errors.js';
import { checkOptions as checkOptionSchema } from '../util/options.js';
import type { Rng } from '../util/random.js';
import { PriorSampleOptionsSchema } from './options.js';

/** A Gamma(shape, 1) draw (Marsaglia–Tsang; shape < 1 through G(a+1)·U^(1/a)). */
export function gammaDraw(shape: number, g: Rng): number {
  if (!(shape > 0)) throw new ValueError(`gammaDraw: shape must be > 0, got ${shape}`);
  if (shape < 1) {
    let u = g.random();
    while (u === 0) u = g.random();
    return gammaDraw(shape + 1, g) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = g.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = g.random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Class priors drawn from a symmetric Dirichlet(α) over `classes` classes. */
export function dirichletPriors(classes: number, alpha: number, g: Rng): number[] {
  if (!Number.isInteger(classes) || classes < 2)
    throw new ValueError(`dirichletPriors: classes must be an integer ≥ 2, got ${classes}`);
  if (!(alpha > 0 && Number.isFinite(alpha)))
    throw new ValueError(`dirichletPriors: alpha must be a finite number > 0, got ${alpha}`);
  for (;;) {
    const x = Array.from({ length: classes }, () => gammaDraw(alpha, g));
    const s = x.reduce((a, b) => a + b, 0);
    // Tiny α can underflow every draw to 0: draw again.
    if (s > 0) return x.map((v) => v / s);
  }
}

/** "Tweak-one" priors: class `cls` at prevalence ρ, the others sharing 1 − ρ equally. */
export function tweakOnePriors(classes: number, cls: number, rho: number): number[] {
  if (!Number.isInteger(classes) || classes < 2)
    throw new ValueError(`tweakOnePriors: classes must be an integer ≥ 2, got ${classes}`);
  if (!Number.isInteger(cls) || cls < 0 || cls >= classes)
    throw new ValueError(`tweakOnePriors: class must be an integer in 0..${classes - 1}, got ${cls}`);
  if (!(rho >= 0 && rho <= 1)) throw new ValueError(`tweakOnePriors: rho must be in [0, 1], got ${rho}`);
  return Array.from({ length: classes }, (_, c) => (c === cls ? rho : (1 - rho) / (classes - 1)));
}

/** Checks that `p` is a probability vector over `classes` classes. */
export function checkPriors(op: string, p: readonly number[], classes: number): void {
  if (p.length !== classes)
    throw new ValueError(`${op}: priors must have ${classes} entries (one per class), got ${p.length}`);
  if (p.some((v) => !(v >= 0 && Number.isFinite(v))))
    throw new ValueError(`${op}: priors must be finite and ≥ 0, got [${p.join(', ')}]`);
  const s = p.reduce((a, b) => a + b, 0);
  if (Math.abs(s - 1) > 1e-6) throw new ValueError(`${op}: priors must sum to 1, got ${s}`);
}

/** Class counts of a sample of `n` with priors `p`: a multinomial draw. */
export function multinomialCounts(n: number, p: readonly number[], g: Rng): number[] {
  const counts = new Array<number>(p.length).fill(0);
  const cdf: number[] = [];
  let acc = 0;
  for (const v of p) cdf.push((acc += v));
  for (let i = 0; i < n; i++) {
    const u = g.random() * acc;
    let c = 0;
    while (c < cdf.length - 1 && u >= cdf[c]) c++;
    counts[c]++;
  }
  return counts;
}

/** Options of `sampleWithPriors`. */
export interface PriorSampleOptions {
  /** Draw the class counts from a multinomial (default) or round n·p exactly ('exact'). */
  counts?: 'multinomial' | 'exact';
}

/**
 * Indices into a labelled pool forming a sample of `n` whose classes follow `priors`: per class,
 * drawn without replacement while the pool has enough, with replacement beyond (say so via
 * `withReplacement`). Shuffled.
 */
export function sampleWithPriors(
  labels: Int32Array,
  classes: number,
  priors: readonly number[],
  n: number,
  g: Rng,
  opts: PriorSampleOptions = {},
): { indices: Int32Array; counts: number[]; withReplacement: boolean } {
  checkOptionSchema('sampleWithPriors', PriorSampleOptionsSchema, opts);
  checkPriors('sampleWithPriors', priors, classes);
  if (!Number.isInteger(n) || n < 1)
    throw new ValueError(`sampleWithPriors: n must be an integer ≥ 1, got ${n}`);
  const pools: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < classes))
      throw new ValueError(`sampleWithPriors: label ${y} at index ${i} is outside 0..${classes - 1}`);
    pools[y].push(i);
  }
  const counts = opts.counts === 'exact' ? exactCounts(n, priors) : multinomialCounts(n, priors, g);
  const out: number[] = [];
  let withReplacement = false;
  for (let c = 0; c < classes; c++) {
    const pool = pools[c];
    if (counts[c] > 0 && pool.length === 0)
      throw new ValueError(`sampleWithPriors: class ${c} has prior ${priors[c]} but no sample in the pool`);
    if (counts[c] <= pool.length) {
      const perm = shuffled(pool, g);
      for (let i = 0; i < counts[c]; i++) out.push(perm[i]);
    } else {
      withReplacement = true;
      for (let i = 0; i < counts[c]; i++) out.push(pool[g.integer(0, pool.length)]);
    }
  }
  return { indices: Int32Array.from(shuffled(out, g)), counts, withReplacement };
}

/** Counts n·p rounded so that they sum to n (largest remainders). */
function exactCounts(n: number, p: readonly number[]): number[] {
  const raw = p.map((v) => v * n);
  const counts = raw.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = raw.map((v, i) => [v - Math.floor(v), i]).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length][1]]++;
  return counts;
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(xs: readonly T[], g: Rng): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = g.integer(0, i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * Covariate shift by biased selection: sample i is kept with probability
 * σ(strength · (s_i − median(s)) / sd(s)), so a positive strength favours high scores (e.g. bright
 * images). Returns the kept indices and the selection probabilities (the true p_source/p_pool ratio
 * up to a constant, for checking estimated importance weights).
 */
export function biasedSelection(
  scores: Float64Array | Float32Array | number[],
  strength: number,
  g: Rng,
): { indices: Int32Array; keep: Float64Array } {
  if (!Number.isFinite(strength))
    throw new ValueError(`biasedSelection: strength must be finite, got ${strength}`);
  const s = Array.from(scores);
  if (s.length === 0) throw new ValueError('biasedSelection: no scores');
  if (s.some((v) => !Number.isFinite(v))) throw new ValueError('biasedSelection: scores must be finite');
  const sorted = s.slice().sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const m = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - m) ** 2, 0) / s.length) || 1;
  const keep = Float64Array.from(s, (v) => 1 / (1 + Math.exp((-strength * (v - median)) / sd)));
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) if (g.random() < keep[i]) out.push(i);
  return { indices: Int32Array.from(out), keep };
}

/** Mean value of each row of an [N, D] host array (e.g. each image's brightness). */
export function rowMeans(x: Float32Array | Float64Array, n: number): Float64Array {
  const d = n > 0 ? x.length / n : 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let j = 0; j < d; j++) acc += x[i * d + j];
    out[i] = acc / d;
  }
  return out;
}
