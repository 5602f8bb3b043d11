/**
 * The js backend's fused softmax cross-entropy (forward and gradient), row by row in float64: the
 * row's maximum m (NaN propagates; when m is not finite the shift is 0, as `logsumexp` does),
 * lse = m + log Σ exp(x − m), loss = lse − x[t], and the row's softmax exp(x − lse) kept for the
 * gradient factor·g·(softmax − onehot(t)). One pass per row instead of the ten element-wise and
 * reduction kernels of the composite.
 */
import { ValueError } from '../../util/errors.js';
import type { HostView as View } from '../host.js';
import { allocate } from '../host.js';
import type { DType, TypedArray } from '../types.js';

function targetAt(target: View, i: number, classes: number): number {
  const t = target.data[target.offset + i * (target.strides[0] ?? 0)];
  if (!(t >= 0 && t < classes)) {
    throw new ValueError(
      `crossEntropy: target ${t} of sample ${i} is out of range for ${classes} classes (allowed 0..${classes - 1})`,
    );
  }
  return t;
}

export function softmaxCrossEntropy(x: View, target: View, outDtype: DType): [TypedArray, Float64Array] {
  const [n, c] = x.shape;
  const loss = allocate(outDtype, n, false);
  const probs = allocate('float64', n * c, false) as Float64Array;
  softmaxCrossEntropyInto(x, target, loss, probs);
  return [loss, probs];
}

/** The kernel into given arrays: each row's loss into loss[0..n), its softmax into probs[0..n·c). */
export function softmaxCrossEntropyInto(x: View, target: View, loss: TypedArray, probs: Float64Array): void {
  const [n, c] = x.shape;
  const [rs, cs] = x.strides;
  const xd = x.data;
  for (let i = 0; i < n; i++) {
    const t = targetAt(target, i, c);
    const row = x.offset + i * rs;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0, at = row; j < c; j++, at += cs) {
      const v = xd[at];
      if (v > m || v !== v) m = v;
    }
    const shift = Number.isFinite(m) ? m : 0;
    const p0 = i * c;
    let s = 0;
    for (let j = 0, at = row; j < c; j++, at += cs) {
      const e = Math.exp(xd[at] - shift);
      probs[p0 + j] = e;
      s += e;
    }
    const lse = shift + Math.log(s);
    loss[i] = lse - xd[row + t * cs];
    // softmax = exp(x − lse), from the exponentials already taken: e / Σe (= e·e^(shift − lse))
    for (let j = 0; j < c; j++) probs[p0 + j] /= s;
  }
}

export function softmaxCrossEntropyGrad(
  probs: Float64Array,
  target: View,
  g: View,
  factor: number,
  outDtype: DType,
): TypedArray {
  // probs holds N·C values: the gradient has as many.
  const out = allocate(outDtype, probs.length, false);
  softmaxCrossEntropyGradInto(probs, target, g, factor, out, 0);
  return out;
}

/** The gradient kernel into out[offset..offset + n·c). */
export function softmaxCrossEntropyGradInto(
  probs: Float64Array,
  target: View,
  g: View,
  factor: number,
  out: TypedArray,
  offset: number,
): void {
  const n = target.shape[0];
  const c = n > 0 ? probs.length / n : 0;
  const gd = g.data;
  const gs = g.strides[0] ?? 0;
  for (let i = 0, o = 0; i < n; i++) {
    const t = targetAt(target, i, c);
    const scale = factor * gd[g.offset + i * gs];
    // d loss_i / d x_ij = softmax(x_i)_j − [j = t_i]
    for (let j = 0; j < c; j++, o++) out[offset + o] = scale * (probs[o] - (j === t ? 1 : 0));
  }
}
