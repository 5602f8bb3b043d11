/**
 * Shape primitives — views that share the input's buffer (reshape of a contiguous tensor, permute,
 * expand, slice) plus sliceScatter and concat — each with its backward beside it; and composites
 * (squeeze, unsqueeze, transpose, flatten, narrow, select, stack, split, chunk, sumToShape).
 */
import { record } from '../autograd/node.js';
import { backend } from '../backend/registry.js';
import { zeros } from '../tensor/create.js';
import { promote } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { AxisError, fmtShape, ShapeError, ValueError } from '../util/errors.js';
import { broadcastStrides, contiguousStrides, inferReshape, normAxis, sameShape } from '../util/shape.js';
import { copyAs, viewOf } from './core.js';

/** Same elements in a new shape (one entry may be -1). A view when `x` is contiguous, else a copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const to = inferReshape('reshape', x.shape, shape);
  if (sameShape(to, x.shape)) return x;
  const src = x.isContiguous() ? x : copyAs(x);
  const y = viewOf(src, to, contiguousStrides(to), src.offset);
  // d reshape(x) = reshape(dy, shape(x))
  return record('reshape', y, [x], [], x.shape, (g, _s, inShape) => [reshape(g, inShape)]);
}

/** Reorders the axes: result axis i is input axis dims[i]. A view. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new AxisError(
      `permute: expected ${x.ndim} axes for a tensor of shape ${fmtShape(x.shape)}, got [${dims}]`,
    );
  }
  const nd = dims.length;
  const shape = new Array<number>(nd);
  const strides = new Array<number>(nd);
  const inverse = new Array<number>(nd).fill(-1);
  for (let i = 0; i < nd; i++) {
    const d = normAxis('permute', dims[i], nd);
    if (inverse[d] !== -1) throw new AxisError(`permute: axes must be distinct, got [${dims}]`);
    inverse[d] = i;
    shape[i] = x.shape[d];
    strides[i] = x.strides[d];
  }
  const y = new Tensor(x.storage, shape, x.dtype, strides, x.offset);
  // d permute(x, p) = permute(dy, p⁻¹)
  return record('permute', y, [x], [], inverse, (g, _s, inv) => [permute(g, inv)]);
}

/** Broadcasts size-1 axes (and new leading axes) to `shape` without copying; -1 keeps a size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.ndim) {
    throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to fewer dimensions ${fmtShape(shape)}`);
  }
  const off = shape.length - x.ndim;
  const to = shape.map((d, i) => (d === -1 && i >= off ? x.shape[i - off] : d));
  to.forEach((d, i) => {
    const src = i < off ? 1 : x.shape[i - off];
    if (!Number.isInteger(d) || d < 0 || (src !== d && src !== 1)) {
      throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    }
  });
  if (sameShape(to, x.shape)) return x;
  const y = viewOf(x, to, broadcastStrides(x.shape, x.strides, to), x.offset);
  // d expand(x) = Σ dy over the broadcast axes (done by the engine's un-broadcast)
  return record('expand', y, [x], [], null, (g) => [g]);
}

function sliceBounds(op: string, size: number, start: number, end: number | undefined, step: number) {
  if (!Number.isInteger(step) || step < 1)
    throw new ValueError(`${op}: step must be a positive integer, got ${step}`);
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
  const s = clampIdx(start);
  const e = end === undefined ? size : clampIdx(end);
  return { s, len: Math.max(0, Math.ceil((e - s) / step)) };
}

interface SliceCtx {
  axis: number;
  start: number;
  step: number;
  inShape: readonly number[];
}

/** Elements start, start+step, ... before `end` along `axis` (Python slice rules, negative indices count from the end). A view. */
export function slice(x: Tensor, axis: number, start = 0, end?: number, step = 1): Tensor {
  const a = normAxis('slice', axis, x.ndim);
  const { s, len } = sliceBounds('slice', x.shape[a], start, end, step);
  const shape = x.shape.map((d, i) => (i === a ? len : d));
  const strides = x.strides.map((st, i) => (i === a ? st * step : st));
  const y = viewOf(x, shape, strides, x.offset + s * x.strides[a]);
  const ctx: SliceCtx = { axis: a, start: s, step, inShape: x.shape };
  // d slice(x) = dy placed back at the sliced positions, zeros elsewhere
  return record('slice', y, [x], [], ctx, (g, _s, c) => [
    sliceScatter(g, c.inShape, c.axis, c.start, c.step),
  ]);
}

/** Zeros of `shape` with `src` written at positions start, start+step, ... along `axis` (inverse of slice). */
export function sliceScatter(
  src: Tensor,
  shape: readonly number[],
  axis: number,
  start: number,
  step = 1,
): Tensor {
  const a = normAxis('sliceScatter', axis, shape.length);
  const out = zeros(shape, { dtype: src.dtype });
  const expected = shape.map((d, i) => (i === a ? src.shape[a] : d));
  const len = src.shape[a];
  if (!sameShape(expected, src.shape) || start < 0 || (len > 0 && start + (len - 1) * step >= shape[a])) {
    throw new ShapeError(
      `sliceScatter: cannot place ${fmtShape(src.shape)} into ${fmtShape(shape)} along axis ${a}`,
    );
  }
  const os = out.strides;
  backend().copyInto(
    {
      storage: out.storage,
      shape: src.shape,
      strides: os.map((s, i) => (i === a ? s * step : s)),
      offset: start * os[a],
    },
    src,
  );
  const ctx: SliceCtx = { axis: a, start, step, inShape: shape };
  // d sliceScatter(s) = slice(dy) at the same positions
  return record('sliceScatter', out, [src], [], ctx, (g, _s, c) => [
    slice(g, c.axis, c.start, c.start + (len - 1) * c.step + 1, c.step),
  ]);
}

/** A contiguous tensor with the same values (x itself when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  // d contiguous(x) = dy
  return record('contiguous', copyAs(x), [x], [], null, (g) => [g]);
}

/**
 * A copy of x in memory of its own (contiguous), as PyTorch's `clone`: what you keep of a compiled
 * step's results or of a recycled loader batch. The gradient passes through.
 */
export function clone(x: Tensor): Tensor {
  // d clone(x) = dy (recorded as the contiguous copy it is)
  return record('contiguous', copyAs(x), [x], [], null, (g) => [g]);
}

/** Joins tensors along an existing axis; dtypes are promoted. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ValueError('concat: expected at least one tensor, got none');
  const first = tensors[0];
  const a = normAxis('concat', axis, first.ndim);
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(
        `concat: shapes ${tensors.map((u) => fmtShape(u.shape)).join(', ')} differ outside axis ${a}`,
      );
    }
  }
  const dtype = tensors.map((t) => t.dtype).reduce(promote);
  const sizes = tensors.map((t) => t.shape[a]);
  const shape = first.shape.map((d, i) => (i === a ? sizes.reduce((x, y) => x + y, 0) : d));
  const out = zeros(shape, { dtype });
  let start = 0;
  for (const t of tensors) {
    const dst = slice(out.detach(), a, start, start + t.shape[a]);
    backend().copyInto(dst, t);
    start += t.shape[a];
  }
  // d concat(x₁..xₙ) = (dy[part₁], ..., dy[partₙ])
  return record('concat', out, tensors, [], { axis: a, sizes }, (g, _s, c, needs) => {
    let at = 0;
    return c.sizes.map((n, i) => {
      const part = needs[i] ? narrow(g, c.axis, at, n) : null;
      at += n;
      return part;
    });
  });
}

// ---------------------------------------------------------------- composites

/** Removes size-1 axes (all of them, or the given ones). */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  const axes =
    axis === undefined
      ? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)
      : (typeof axis === 'number' ? [axis] : axis).map((a) => normAxis('squeeze', a, x.ndim));
  return reshape(
    x,
    x.shape.filter((d, i) => !(axes.includes(i) && d === 1)),
  );
}

/** Inserts a size-1 axis at `axis` (−1 appends). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('unsqueeze', axis, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Swaps two axes (defaults: the last two). A view. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  if (x.ndim < 2) return x;
  const dims = new Array<number>(x.ndim);
  for (let d = 0; d < x.ndim; d++) dims[d] = d;
  const i = normAxis('transpose', a, x.ndim);
  const j = normAxis('transpose', b, x.ndim);
  [dims[i], dims[j]] = [dims[j], dims[i]];
  return permute(x, dims);
}

/** Merges axes startAxis..endAxis into one. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startAxis, x.ndim);
  const e = normAxis('flatten', endAxis, x.ndim);
  if (e < s) throw new AxisError(`flatten: endAxis ${endAxis} comes before startAxis ${startAxis}`);
  const merged = x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** `length` elements from `start` along `axis`. A view. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normAxis('narrow', axis, x.ndim);
  const size = x.shape[a];
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(length) || length < 0 || s < 0 || s + length > size) {
    throw new ValueError(
      `narrow: start ${start} with length ${length} does not fit axis ${a} of size ${size}`,
    );
  }
  return slice(x, a, s, s + length);
}

/** The sub-tensor at `index` along `axis`, with that axis removed. */
export function select(x: Tensor, axis: number, index: number): Tensor {
  const a = normAxis('select', axis, x.ndim);
  const size = x.shape[a];
  const i = index < 0 ? index + size : index;
  if (!Number.isInteger(i) || i < 0 || i >= size) {
    throw new ValueError(`select: index ${index} is out of range for axis ${a} of size ${size}`);
  }
  return squeeze(slice(x, a, i, i + 1), a);
}

/** Joins tensors of equal shape along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ValueError('stack: expected at least one tensor, got none');
  const shape = tensors[0].shape;
  for (const t of tensors) {
    if (!sameShape(t.shape, shape)) {
      throw new ShapeError(
        `stack: all tensors must have the same shape, got ${tensors.map((u) => fmtShape(u.shape)).join(', ')}`,
      );
    }
  }
  const a = normAxis('stack', axis, shape.length + 1);
  return concat(
    tensors.map((t) => unsqueeze(t, a)),
    a,
  );
}

/** Splits into pieces of `size` elements (the last may be smaller) or of the listed sizes. */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const a = normAxis('split', axis, x.ndim);
  const n = x.shape[a];
  let parts: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes < 1)
      throw new ValueError(`split: size must be a positive integer, got ${sizes}`);
    parts = [];
    for (let s = 0; s < n; s += sizes) parts.push(Math.min(sizes, n - s));
  } else {
    parts = [...sizes];
    const total = parts.reduce((p, q) => p + q, 0);
    if (total !== n || parts.some((p) => !Number.isInteger(p) || p < 0)) {
      throw new ValueError(
        `split: sizes [${parts}] must be non-negative integers adding up to ${n} (axis ${a})`,
      );
    }
  }
  let at = 0;
  return parts.map((len) => {
    const t = narrow(x, a, at, len);
    at += len;
    return t;
  });
}

/** Splits into `chunks` nearly equal pieces. */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  const a = normAxis('chunk', axis, x.ndim);
  if (!Number.isInteger(chunks) || chunks < 1)
    throw new ValueError(`chunk: chunks must be a positive integer, got ${chunks}`);
  return split(x, Math.max(1, Math.ceil(x.shape[a] / chunks)), a);
}
