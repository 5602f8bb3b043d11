/**
 * Host-side row-major matrices of per-sample scores (logits or probabilities, [N, K] float64) for
 * the shift estimators, made from tensors or arrays, with the row operations they share: softmax,
 * argmax, column means. The estimators' sizes (N ≤ 10⁵, K ≤ 10³) make host float64 the right
 * place: exact, and independent of the backend the classifier ran on.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape, ShapeError, ValueError } from '../util/errors.js';

/** An [n, k] row-major float64 matrix. */
export interface Scores {
  n: number;
  k: number;
  data: Float64Array;
}

/**
 * Scores from a [N, K] float tensor, nested arrays or an existing `Scores`; `minColumns` 2 for class
 * scores (default), 1 for features.
 */
export function toScores(
  op: string,
  x: Tensor | Scores | readonly (readonly number[])[],
  minColumns = 2,
): Scores {
  if (Array.isArray(x)) {
    const rows = x as readonly (readonly number[])[];
    const k = rows[0]?.length ?? 0;
    if (rows.some((r) => r.length !== k)) throw new ShapeError(`${op}: rows of different lengths`);
    return checked(op, { n: rows.length, k, data: Float64Array.from(rows.flat()) }, minColumns);
  }
  if ('data' in x && 'n' in x) return checked(op, x as Scores, minColumns);
  const t = x as Tensor;
  if (t.ndim !== 2) throw new ShapeError(`${op}: expected a [N, K] tensor, got ${fmtShape(t.shape)}`);
  return checked(
    op,
    { n: t.shape[0], k: t.shape[1], data: Float64Array.from(t.readSync() as ArrayLike<number>) },
    minColumns,
  );
}

function checked(op: string, s: Scores, minColumns: number): Scores {
  if (s.n < 1 || s.k < minColumns)
    throw new ShapeError(`${op}: expected at least 1 row and ${minColumns} columns, got [${s.n}, ${s.k}]`);
  if (s.data.length !== s.n * s.k)
    throw new ShapeError(`${op}: data length ${s.data.length} ≠ ${s.n}·${s.k}`);
  for (let i = 0; i < s.data.length; i++)
    if (!Number.isFinite(s.data[i]))
      throw new ValueError(`${op}: non-finite score ${s.data[i]} at row ${Math.floor(i / s.k)}`);
  return s;
}

/** Labels as an Int32Array, checked against `k` classes and `n` rows. */
export function toLabels(
  op: string,
  y: Tensor | Int32Array | readonly number[],
  n: number,
  k: number,
): Int32Array {
  const a =
    y instanceof Int32Array
      ? y
      : Array.isArray(y)
        ? Int32Array.from(y)
        : Int32Array.from((y as Tensor).readSync() as ArrayLike<number>);
  if (a.length !== n) throw new ShapeError(`${op}: ${a.length} labels for ${n} rows`);
  for (let i = 0; i < a.length; i++)
    if (!(Number.isInteger(a[i]) && a[i] >= 0 && a[i] < k))
      throw new ValueError(`${op}: label ${a[i]} at index ${i} is outside 0..${k - 1}`);
  return a;
}

/** Row-wise softmax of a·z + b (a scalar, b per class), numerically stable. */
export function softmaxRows(z: Scores, a = 1, b?: ArrayLike<number>): Scores {
  const { n, k } = z;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = a * z.data[i * k + j] + (b ? b[j] : 0);
      out[i * k + j] = v;
      if (v > m) m = v;
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += out[i * k + j] = Math.exp(out[i * k + j] - m);
    for (let j = 0; j < k; j++) out[i * k + j] /= s;
  }
  return { n, k, data: out };
}

/** The index of each row's largest entry. */
export function argmaxRows(z: Scores): Int32Array {
  const out = new Int32Array(z.n);
  for (let i = 0; i < z.n; i++) {
    let best = 0;
    for (let j = 1; j < z.k; j++) if (z.data[i * z.k + j] > z.data[i * z.k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** The mean of each column. */
export function columnMeans(z: Scores): number[] {
  const out = new Array<number>(z.k).fill(0);
  for (let i = 0; i < z.n; i++) for (let j = 0; j < z.k; j++) out[j] += z.data[i * z.k + j];
  return out.map((v) => v / z.n);
}

/** Class frequencies of labels over k classes. */
export function frequencies(y: Int32Array, k: number): number[] {
  const out = new Array<number>(k).fill(0);
  for (const v of y) out[v]++;
  return out.map((c) => c / Math.max(y.length, 1));
}

/** Total variation distance ½·Σ|p − q|. */
export function totalVariation(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length)
    throw new ValueError(`totalVariation: lengths ${p.length} and ${q.length} differ`);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i] - q[i]);
  return s / 2;
}

/** Rows `idx` of a matrix, in that order. */
export function selectRows(x: Scores, idx: ArrayLike<number>): Scores {
  return rowsAsScores(x.data, x.k, idx);
}

/**
 * Rows of a row-major host matrix with `k` columns (inputs, pixels) as Scores: the rows `idx`, in
 * that order, or every row.
 */
export function rowsAsScores(x: Float32Array | Float64Array, k: number, idx?: ArrayLike<number>): Scores {
  if (!idx) return { n: x.length / k, k, data: Float64Array.from(x) };
  const data = new Float64Array(idx.length * k);
  for (let i = 0; i < idx.length; i++) data.set(x.subarray(idx[i] * k, (idx[i] + 1) * k), i * k);
  return { n: idx.length, k, data };
}
