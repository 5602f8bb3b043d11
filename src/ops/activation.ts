/**
 * Normalized exponentials along an axis, built from primitives (their gradients follow from the
 * parts): softmax subtracts the (detached) maximum first and logSoftmax is x − logsumexp(x), so
 * neither overflows at |x| = 1000.
 */
import type { Tensor } from '../tensor/tensor.js';
import { normAxis } from '../util/shape.js';
import { div, exp, sub } from './elementwise.js';
import { amax, logsumexp, sum } from './reduce.js';

/** exp(x) / Σ exp(x) along `axis` (default last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const a = normAxis('softmax', axis, x.ndim);
  const e = exp(sub(x, amax(x, a, true).detach()));
  return div(e, sum(e, a, true));
}

/** log softmax(x) = x − logsumexp(x) along `axis` (default last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const a = normAxis('logSoftmax', axis, x.ndim);
  return sub(x, logsumexp(x, a, true));
}
