/**
 * Initializers with PyTorch's definitions (torch/nn/init.py): each fills a tensor in place, draws
 * from an explicit generator (default: the global one), and returns the tensor. Values are drawn
 * into host memory, in row-major order, and written through the tensor's storage (its one door for
 * writes), so initializers work on any backend. Fans: for a weight of shape [out, in, ...k],
 * fanIn = in·Πk and fanOut = out·Πk.
 */

import { isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { arrayType, type TypedArray } from '../util/dtype.js';
import { DTypeError, fmtShape, ValueError } from '../util/errors.js';
import { defaultGenerator, type Rng } from '../util/random.js';
import { erf as erfJs } from '../util/special.js';

/** Nonlinearities known to `calculateGain`. */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** Options shared by random initializers. */
export interface InitOptions {
  generator?: Rng;
}

/** Which fan the Kaiming initializers preserve. */
export type FanMode = 'fanIn' | 'fanOut';

/**
 * The recommended gain for a nonlinearity: linear/conv/sigmoid 1, tanh 5/3, relu √2,
 * leaky_relu √(2/(1+slope²)) (slope default 0.01), selu 3/4.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default: {
      const bad: never = nonlinearity;
      throw new ValueError(
        `calculateGain: unknown nonlinearity '${String(bad)}' (allowed: linear, conv1d, conv2d, conv3d, sigmoid, tanh, relu, leaky_relu, selu)`,
      );
    }
  }
}

/** fanIn and fanOut of a weight of rank ≥ 2. */
export function calculateFans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) {
    throw new ValueError(`fan in and fan out need a tensor of rank ≥ 2, got shape ${fmtShape(t.shape)}`);
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

/** Fills `t` in place with the values `fill` writes into a host array of its dtype (row-major). */
function initWith(op: string, t: Tensor, fill: (d: TypedArray) => void): Tensor {
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: expected a float tensor, got ${t.dtype}`);
  if (!t.isContiguous())
    throw new ValueError(`${op}: expected a contiguous tensor (use a Parameter or contiguous())`);
  const d = new (arrayType(t.dtype))(t.size);
  fill(d);
  t.storage.write(t, d);
  return t;
}

const gen = (o?: InitOptions) => o?.generator ?? defaultGenerator();

/** Fills with U(a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, opts?: InitOptions): Tensor {
  if (!(a <= b)) throw new ValueError(`uniform_: need a ≤ b, got a=${a}, b=${b}`);
  const g = gen(opts);
  return initWith('uniform_', t, (d) => {
    for (let i = 0; i < d.length; i++) d[i] = a + (b - a) * g.random();
  });
}

/** Fills with N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1, opts?: InitOptions): Tensor {
  if (!(std >= 0)) throw new ValueError(`normal_: std must be ≥ 0, got ${std}`);
  const g = gen(opts);
  return initWith('normal_', t, (d) => {
    for (let i = 0; i < d.length; i++) d[i] = mean + std * g.normal();
  });
}

/** Fills with a constant. */
export function constant_(t: Tensor, value: number): Tensor {
  return initWith('constant_', t, (d) => d.fill(value));
}

/** Fills with zeros. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills with ones. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Sets a 2-D tensor to the identity (ones on the diagonal). */
export function eye_(t: Tensor): Tensor {
  if (t.ndim !== 2) throw new ValueError(`eye_: expected a 2-D tensor, got shape ${fmtShape(t.shape)}`);
  const [n, m] = t.shape;
  return initWith('eye_', t, (d) => {
    for (let i = 0; i < Math.min(n, m); i++) d[i * m + i] = 1;
  });
}

/** Xavier/Glorot uniform: U(−a, a) with a = gain·√(6/(fanIn+fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1, opts?: InitOptions): Tensor {
  const { fanIn, fanOut } = calculateFans(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, opts);
}

/** Xavier/Glorot normal: N(0, std²) with std = gain·√(2/(fanIn+fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1, opts?: InitOptions): Tensor {
  const { fanIn, fanOut } = calculateFans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), opts);
}

/** Options of the Kaiming initializers. */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU after this layer (default 0). */
  a?: number;
  /** Preserve the variance of activations (`fanIn`, default) or of gradients (`fanOut`). */
  mode?: FanMode;
  /** Default 'leaky_relu' (with slope `a`), as PyTorch. */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, t: Tensor, o: KaimingOptions): number {
  const mode = o.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut')
    throw new ValueError(`${op}: mode must be 'fanIn' or 'fanOut', got '${mode}'`);
  const fans = calculateFans(t);
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return gain / Math.sqrt(fans[mode]);
}

/** Kaiming/He uniform: U(−b, b) with b = gain·√(3/fan). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform_', t, opts);
  return uniform_(t, -bound, bound, opts);
}

/** Kaiming/He normal: N(0, std²) with std = gain/√fan. */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd('kaimingNormal_', t, opts), opts);
}

/** N(mean, std²) truncated to [a, b] by inverse-CDF sampling (PyTorch's method). */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, opts?: InitOptions): Tensor {
  if (!(a < b)) throw new ValueError(`truncNormal_: need a < b, got a=${a}, b=${b}`);
  const g = gen(opts);
  const cdf = (x: number) => (1 + erfJs(x / Math.SQRT2)) / 2;
  const l = cdf((a - mean) / std);
  const u = cdf((b - mean) / std);
  return initWith('truncNormal_', t, (d) => {
    for (let i = 0; i < d.length; i++) {
      const p = 2 * (l + (u - l) * g.random()) - 1;
      const v = mean + std * Math.SQRT2 * erfinv(p);
      d[i] = Math.min(Math.max(v, a), b);
    }
  });
}

/**
 * A (semi-)orthogonal matrix scaled by `gain`: QR of a normal matrix with the sign of R's diagonal
 * folded into Q (so the distribution is uniform), as PyTorch. Higher ranks are flattened to
 * [shape[0], rest].
 */
export function orthogonal_(t: Tensor, gain = 1, opts?: InitOptions): Tensor {
  if (t.ndim < 2)
    throw new ValueError(`orthogonal_: need a tensor of rank ≥ 2, got shape ${fmtShape(t.shape)}`);
  const rows = t.shape[0];
  const cols = t.size / rows;
  const g = gen(opts);
  // Work on an (m × n) matrix with m ≥ n: transpose when rows < cols.
  const transpose = rows < cols;
  const m = transpose ? cols : rows;
  const n = transpose ? rows : cols;
  const a = new Float64Array(m * n);
  for (let i = 0; i < a.length; i++) a[i] = g.normal();
  // Modified Gram–Schmidt: Q (m × n) orthonormal columns, R diagonal signs.
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += a[i * n + k] * a[i * n + j];
      for (let i = 0; i < m; i++) a[i * n + j] -= dot * a[i * n + k];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += a[i * n + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) a[i * n + j] /= norm;
  }
  return initWith('orthogonal_', t, (d) => {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) d[r * cols + c] = gain * (transpose ? a[c * n + r] : a[r * n + c]);
    }
  });
}

// The inverse error function for truncNormal_.
function erfinv(y: number): number {
  if (y <= -1) return Number.NEGATIVE_INFINITY;
  if (y >= 1) return Number.POSITIVE_INFINITY;
  // Giles' single-precision approximation as a start, then two Newton steps on erf.
  const w = -Math.log((1 - y) * (1 + y));
  let x: number;
  if (w < 5) {
    const v = w - 2.5;
    let p = 2.81022636e-8;
    for (const c of [
      3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
      0.246640727, 1.50140941,
    ])
      p = c + p * v;
    x = p * y;
  } else {
    const v = Math.sqrt(w) - 3;
    let p = -0.000200214257;
    for (const c of [
      0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
      2.83297682,
    ])
      p = c + p * v;
    x = p * y;
  }
  for (let i = 0; i < 2; i++) x -= (erfJs(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  return x;
}
