/**
 * Inverted dropout as one primitive: the backend draws the mask and scales in one pass
 * (Backend.dropout); the mask is saved and backward multiplies by it. The same values as
 * mul(x, mask) with the mask drawn from the same generator, which is what it replaces
 * (test/fused.test.ts); the backward is built from ops, so it stays differentiable.
 */
import { record } from '../autograd/node.js';
import { markTransient } from '../autograd/transient.js';
import { backend } from '../backend/registry.js';
import { isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { DTypeError, ValueError } from '../util/errors.js';
import type { Rng } from '../util/random.js';
import { fromKernel } from './core.js';
import { mul } from './elementwise.js';

/** Checks a dropout probability, naming the op: returns p. */
export function checkDropoutP(op: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`${op}: p must be in [0, 1], got ${p}`);
  return p;
}

/**
 * Zeroes each element of `x` with probability `p` (one 32-bit draw of `generator` per element, in
 * row-major order) and scales the survivors by `scale` (1/(1−p) for inverted dropout).
 */
export function dropoutMasked(x: Tensor, p: number, scale: number, generator: Rng): Tensor {
  if (!isFloat(x.dtype)) throw new DTypeError(`dropout: expected a float tensor, got ${x.dtype}`);
  checkDropoutP('dropout', p);
  const [out, maskData] = backend().dropout(x, p, scale, generator);
  const y = fromKernel(out, x.shape, x.dtype);
  const mask = fromKernel(maskData, x.shape, x.dtype);
  // d(x·m) = m·dx   (m: 0 or scale, a constant of the graph)
  record('dropout', y, [x], [mask], null, (g, [m]) => [mul(g, m)]);
  // Only the node holds the mask: its memory goes back to the pool when backward frees the node.
  if (mask.storage !== y.storage) markTransient(mask.storage);
  return y;
}
