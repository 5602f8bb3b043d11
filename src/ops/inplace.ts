/**
 * In-place writes outside autograd: `copy_(dst, src)` writes src (broadcast to dst's shape, cast to
 * its dtype) into dst's elements. For state that a computation keeps across calls — running sums,
 * a training step's gradient buffers — so a compiled step can update it in place. A tensor that
 * requires gradients (a leaf parameter, or one produced by an op) is refused while gradients are
 * recorded: a write behind autograd's back would make its gradients wrong. `axpy_(y, α, x)` adds
 * α·x to y in place (each element in float64, rounded once: the plain SGD update).
 */
import { isGradEnabled } from '../autograd/mode.js';
import { backend } from '../backend/registry.js';
import type { Tensor } from '../tensor/tensor.js';
import { AutogradError, fmtShape, ShapeError } from '../util/errors.js';
import { broadcastShapes, broadcastStrides } from '../util/shape.js';
import { copyAs } from './core.js';

/** Writes `src` into `dst` in place (broadcast and cast); returns dst. */
export function copy_(dst: Tensor, src: Tensor): Tensor {
  if (dst.requiresGrad && isGradEnabled())
    throw new AutogradError(
      'copy_: the destination requires gradients; write into it under noGrad(), or into a tensor that does not',
    );
  let shape: number[];
  try {
    shape = broadcastShapes('copy_', dst.shape, src.shape);
  } catch {
    shape = [];
  }
  if (shape.length !== dst.ndim || shape.some((d, i) => d !== dst.shape[i]))
    throw new ShapeError(`copy_: cannot write ${fmtShape(src.shape)} into ${fmtShape(dst.shape)}`);
  const s = src.dtype === dst.dtype ? src : copyAs(src, dst.dtype);
  backend().copyInto(dst, {
    storage: s.storage,
    shape: dst.shape,
    strides: broadcastStrides(s.shape, s.strides, dst.shape),
    offset: s.offset,
  });
  return dst;
}

/** y ← y + alpha·x in place (x broadcast to y's shape), each element rounded once; returns y. */
export function axpy_(y: Tensor, alpha: number, x: Tensor): Tensor {
  const shape = y.shape;
  backend().axpy(y, alpha, {
    storage: x.storage,
    shape,
    strides: broadcastStrides(x.shape, x.strides, shape),
    offset: x.offset,
  });
  return y;
}
