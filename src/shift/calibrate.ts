/**
 * Calibration of a classifier's probabilities on held-out labelled data: temperature scaling
 * softmax(z/T) and bias-corrected temperature scaling (BCTS, Alexandari et al., 2020)
 * softmax(z/T + b). The negative log-likelihood is convex in (1/T, b), so Newton's method with a
 * backtracking line search finds the exact optimum in a few iterations (b is fixed up to a constant;
 * a 1e-9 ridge picks the smallest).
 */
import { solve } from 'ml-matrix';
import { ValueError } from '../util/errors.js';
import type { Scores } from './matrix.js';

/** A fitted calibration: probabilities are softmax(z / temperature + bias). */
export interface Calibration {
  temperature: number;
  bias: number[];
  iterations: number;
  /** The mean NLL on the data it was fitted on. */
  nll: number;
}

/** Mean NLL of softmax(a·z + b) at labels y, and (optionally) its gradient and Hessian in (a, b). */
function nllAt(z: Scores, y: Int32Array, a: number, b: number[], derivatives: boolean) {
  const { n, k } = z;
  const dim = k + 1;
  const g = new Array<number>(dim).fill(0);
  const h = derivatives ? Array.from({ length: dim }, () => new Array<number>(dim).fill(0)) : null;
  const p = new Float64Array(k);
  let nll = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, a * z.data[i * k + j] + b[j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += p[j] = Math.exp(a * z.data[i * k + j] + b[j] - m);
    for (let j = 0; j < k; j++) p[j] /= s;
    const yi = y[i];
    nll += m + Math.log(s) - (a * z.data[i * k + yi] + b[yi]);
    if (!derivatives || !h) continue;
    let pz = 0;
    let pzz = 0;
    for (let j = 0; j < k; j++) {
      const zj = z.data[i * k + j];
      pz += p[j] * zj;
      pzz += p[j] * zj * zj;
    }
    // ∂/∂a = Σ_j (p_j − δ_jy) z_j; ∂/∂b_j = p_j − δ_jy.
    g[0] += pz - z.data[i * k + yi];
    for (let j = 0; j < k; j++) g[1 + j] += p[j] - (j === yi ? 1 : 0);
    // Hessian Jᵀ(diag p − ppᵀ)J with J = [z | I].
    h[0][0] += pzz - pz * pz;
    for (let j = 0; j < k; j++) {
      const zj = z.data[i * k + j];
      const c = p[j] * zj - p[j] * pz;
      h[0][1 + j] += c;
      h[1 + j][0] += c;
      for (let l = 0; l < k; l++) h[1 + j][1 + l] += (j === l ? p[j] : 0) - p[j] * p[l];
    }
  }
  const inv = 1 / n;
  return {
    nll: nll * inv,
    g: g.map((v) => v * inv),
    h: h?.map((row) => row.map((v) => v * inv)) ?? null,
  };
}

/**
 * Fits temperature scaling (`bias: false`) or BCTS (default) to logits `z` with labels `y` by
 * Newton's method; refuses empty or mismatched data.
 */
export function fitBcts(
  z: Scores,
  y: Int32Array,
  opts: {
    bias?: boolean;
    maxIter?: number;
    /** Return a non-positive inverse temperature as `temperature: Infinity` (the logits carry no signal) instead of throwing. */
    allowFlat?: boolean;
  } = {},
): Calibration {
  const { n, k } = z;
  if (y.length !== n) throw new ValueError(`fitBcts: ${y.length} labels for ${n} rows of logits`);
  if (n === 0) throw new ValueError('fitBcts: no data to calibrate on');
  const useBias = opts.bias ?? true;
  const maxIter = opts.maxIter ?? 100;
  let a = 1;
  let b = new Array<number>(k).fill(0);
  let cur = nllAt(z, y, a, b, true);
  let it = 0;
  for (; it < maxIter; it++) {
    const { g, h } = cur;
    if (!h) break;
    let step: number[];
    if (useBias) {
      const hm = h.map((row, r) => row.map((v, c) => v + (r === c ? 1e-9 : 0)));
      step = solve(
        hm,
        g.map((v) => [v]),
      ).to1DArray();
    } else step = [g[0] / Math.max(h[0][0], 1e-12), ...new Array<number>(k).fill(0)];
    const decrement = step.reduce((s, v, i) => s + v * g[i], 0);
    if (!(decrement > 1e-14)) break;
    let t = 1;
    let next = cur;
    let na = a;
    let nb = b;
    for (let ls = 0; ls < 40; ls++) {
      na = a - t * step[0];
      nb = b.map((v, j) => v - t * step[1 + j]);
      next = nllAt(z, y, na, nb, false);
      if (next.nll <= cur.nll - 0.25 * t * decrement) break;
      t /= 2;
    }
    if (!(next.nll < cur.nll)) break;
    a = na;
    b = nb;
    cur = nllAt(z, y, a, b, true);
  }
  if (!(a > 0) && opts.allowFlat) {
    // The best fit ignores the logits: refit the bias alone at a = 0 (the label frequencies).
    const counts = new Array<number>(k).fill(0);
    for (const v of y) counts[v]++;
    const logf = counts.map((c) => Math.log(Math.max(c, 1e-300) / n));
    const mf = logf.reduce((s, v) => s + v, 0) / k;
    return {
      temperature: Number.POSITIVE_INFINITY,
      bias: useBias ? logf.map((v) => v - mf) : new Array<number>(k).fill(0),
      iterations: it,
      nll: nllAt(z, y, 0, useBias ? logf : new Array<number>(k).fill(0), false).nll,
    };
  }
  if (!(a > 0))
    throw new ValueError(
      `fitBcts: the fitted inverse temperature is ${a} (the logits anti-correlate with the labels)`,
    );
  const mb = b.reduce((s, v) => s + v, 0) / k;
  return { temperature: 1 / a, bias: b.map((v) => v - mb), iterations: it, nll: cur.nll };
}
