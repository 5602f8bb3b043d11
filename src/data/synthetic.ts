/**
 * Seeded synthetic data for the chapter's experiments and the lab: the linear regression of the
 * weight-decay section (y = 0.05 + Σ 0.01·xᵢ + ε), the cubic polynomial of the under/over-fitting
 * section (features xⁱ/i!), and 2-D classification sets (moons, circles, spirals, xor).
 * Same seed, same data, on every platform.
 */

import { add, mul } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { randn, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { defaultGenerator, Rng } from '../util/random.js';
import { TensorDataset } from './dataset.js';

function positiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    throw new ValueError(`${op}: ${name} must be a positive integer, got ${v}`);
}

/** y = X·w + b + ε with X ~ N(0, 1) of shape [n, d] and ε ~ N(0, noise²) (D2L's synthetic_data). */
export function linearData(
  w: Tensor,
  b: number,
  n: number,
  noise = 0.01,
  generator: Rng = defaultGenerator(),
): { X: Tensor; y: Tensor } {
  positiveInt('linearData', 'n', n);
  const X = randn([n, w.size], { generator, dtype: w.dtype === 'float64' ? 'float64' : 'float32' });
  const clean = add(matmul(X, w.reshape([w.size, 1])), b);
  const y = add(clean, mul(randn([n, 1], { generator, dtype: X.dtype }), noise));
  return { X, y };
}

/** The weight-decay experiment's data: d inputs, w = 0.01·1, b = 0.05, few training points. */
export interface WeightDecayData {
  train: TensorDataset;
  test: TensorDataset;
  trueW: Tensor;
  trueB: number;
}

/** D2L's high-dimensional linear regression: d = 200, 20 training and 100 test points by default. */
export function weightDecayData(
  opts: { d?: number; nTrain?: number; nTest?: number; seed?: number } = {},
): WeightDecayData {
  const { d = 200, nTrain = 20, nTest = 100, seed = 0 } = opts;
  positiveInt('weightDecayData', 'd', d);
  const g = new Rng(seed);
  const trueW = mul(tensor(new Float32Array(d).fill(1)), 0.01);
  const trueB = 0.05;
  const tr = linearData(trueW, trueB, nTrain, 0.01, g);
  const te = linearData(trueW, trueB, nTest, 0.01, g);
  return { train: new TensorDataset(tr.X, tr.y), test: new TensorDataset(te.X, te.y), trueW, trueB };
}

/** The polynomial-fitting data of D2L: features xⁱ/i! for i < maxDegree, labels from the first coefficients. */
export interface PolynomialData {
  /** [nTrain, maxDegree] features. */
  trainFeatures: Tensor;
  trainLabels: Tensor;
  testFeatures: Tensor;
  testLabels: Tensor;
  trueCoefficients: number[];
}

/** x ~ N(0, 1); y = Σ cᵢ·xⁱ/i! + ε, ε ~ N(0, noise²); default coefficients [5, 1.2, −3.4, 5.6] (a cubic). */
export function polynomialData(
  opts: {
    maxDegree?: number;
    nTrain?: number;
    nTest?: number;
    coefficients?: number[];
    noise?: number;
    seed?: number;
  } = {},
): PolynomialData {
  const {
    maxDegree = 20,
    nTrain = 100,
    nTest = 100,
    coefficients = [5, 1.2, -3.4, 5.6],
    noise = 0.1,
    seed = 0,
  } = opts;
  positiveInt('polynomialData', 'maxDegree', maxDegree);
  if (coefficients.length > maxDegree)
    throw new ValueError(
      `polynomialData: ${coefficients.length} coefficients need maxDegree ≥ ${coefficients.length}`,
    );
  const g = new Rng(seed);
  const make = (n: number) => {
    const f = new Float32Array(n * maxDegree);
    const y = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      const x = g.normal();
      let term = 1; // xⁱ/i!
      let label = 0;
      for (let i = 0; i < maxDegree; i++) {
        if (i > 0) term *= x / i;
        f[r * maxDegree + i] = term;
        if (i < coefficients.length) label += coefficients[i] * term;
      }
      y[r] = label + noise * g.normal();
    }
    return [tensor(f, { shape: [n, maxDegree] }), tensor(y, { shape: [n, 1] })] as const;
  };
  const [trainFeatures, trainLabels] = make(nTrain);
  const [testFeatures, testLabels] = make(nTest);
  return { trainFeatures, trainLabels, testFeatures, testLabels, trueCoefficients: [...coefficients] };
}

/** A 2-D classification set: points [n, 2] (float32) and labels [n] (int32). */
export interface Points2d {
  X: Tensor;
  y: Tensor;
}

function points(
  n: number,
  fill: (i: number, out: Float32Array, g: Rng) => number,
  noise: number,
  seed: number,
): Points2d {
  const g = new Rng(seed);
  const X = new Float32Array(n * 2);
  const y = new Int32Array(n);
  const p = new Float32Array(2);
  for (let i = 0; i < n; i++) {
    y[i] = fill(i, p, g);
    X[2 * i] = p[0] + noise * g.normal();
    X[2 * i + 1] = p[1] + noise * g.normal();
  }
  return { X: tensor(X, { shape: [n, 2] }), y: tensor(y) };
}

/** Two interleaving half circles (scikit-learn's make_moons). */
export function moons(n = 200, noise = 0.1, seed = 0): Points2d {
  positiveInt('moons', 'n', n);
  return points(
    n,
    (i, p, g) => {
      const c = i % 2;
      const t = Math.PI * g.random();
      p[0] = c === 0 ? Math.cos(t) : 1 - Math.cos(t);
      p[1] = c === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
      return c;
    },
    noise,
    seed,
  );
}

/** A small circle inside a large one (radius ratio `factor`). */
export function circles(n = 200, noise = 0.05, factor = 0.5, seed = 0): Points2d {
  positiveInt('circles', 'n', n);
  if (!(factor > 0 && factor < 1)) throw new ValueError(`circles: factor must be in (0, 1), got ${factor}`);
  return points(
    n,
    (i, p, g) => {
      const c = i % 2;
      const t = 2 * Math.PI * g.random();
      const r = c === 0 ? 1 : factor;
      p[0] = r * Math.cos(t);
      p[1] = r * Math.sin(t);
      return c;
    },
    noise,
    seed,
  );
}

/** `classes` interleaved spiral arms. */
export function spirals(n = 300, classes = 2, noise = 0.05, seed = 0): Points2d {
  positiveInt('spirals', 'n', n);
  positiveInt('spirals', 'classes', classes);
  return points(
    n,
    (i, p, g) => {
      const c = i % classes;
      const r = g.random();
      const t = 4 * r + (2 * Math.PI * c) / classes;
      p[0] = r * Math.cos(t);
      p[1] = r * Math.sin(t);
      return c;
    },
    noise,
    seed,
  );
}

/** Points in [−1, 1]², labelled 1 where the coordinates have different signs. */
export function xor(n = 200, noise = 0, seed = 0): Points2d {
  positiveInt('xor', 'n', n);
  return points(
    n,
    (_i, p, g) => {
      p[0] = 2 * g.random() - 1;
      p[1] = 2 * g.random() - 1;
      return p[0] * p[1] < 0 ? 1 : 0;
    },
    noise,
    seed,
  );
}
