/**
 * Shape arithmetic shared by every layer: sizes, contiguous strides, NumPy broadcasting and axis
 * normalization. Pure functions on number arrays; errors name the operation and the shapes.
 */
import { AxisError, fmtShape, ShapeError, ValueError } from './errors.js';

/** Number of elements of a shape (1 for a 0-d shape). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a contiguous tensor with this shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Validates a user-given shape: non-negative integers. */
export function checkShape(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape))
    throw new ValueError(
      `${op}: shape must be an array of non-negative integers, got ${JSON.stringify(shape) ?? String(shape)}`,
    );
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ValueError(`${op}: shape entries must be non-negative integers, got ${fmtShape(shape)}`);
    }
  }
  return [...shape];
}

/** NumPy broadcasting of two shapes; throws a ShapeError naming the op and both shapes. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides that read a tensor of `shape`/`strides` as if broadcast to `outShape`
 * (stride 0 along broadcast dimensions). Assumes the shapes are compatible.
 */
export function broadcastStrides(
  shape: readonly number[],
  strides: readonly number[],
  outShape: readonly number[],
): number[] {
  const n = outShape.length;
  const off = n - shape.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    out[i] = i < off || shape[i - off] === 1 ? 0 : strides[i - off];
  }
  return out;
}

/** Normalizes a possibly negative axis into [0, ndim); throws an AxisError otherwise. */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -Math.max(ndim, 1) || axis >= Math.max(ndim, 1)) {
    const lo = -Math.max(ndim, 1);
    const hi = Math.max(ndim, 1) - 1;
    throw new AxisError(
      `${op}: axis ${axis} is out of range for a tensor of rank ${ndim} (allowed ${lo}..${hi})`,
    );
  }
  return axis < 0 ? axis + Math.max(ndim, 1) : axis;
}

/**
 * Normalizes an axis argument of a reduction: undefined means all axes; duplicates are an error.
 * Returns sorted, non-negative axes.
 */
export function normAxes(op: string, axes: number | readonly number[] | undefined, ndim: number): number[] {
  if (axes === undefined) {
    const all = new Array<number>(ndim);
    for (let i = 0; i < ndim; i++) all[i] = i;
    return all;
  }
  if (typeof axes === 'number') {
    const a = normAxis(op, axes, ndim); // checked even for a 0-d tensor, which has no axes
    return ndim === 0 ? [] : [a];
  }
  const out = axes.map((a) => normAxis(op, a, ndim));
  const seen = new Set<number>();
  for (const a of out) {
    if (seen.has(a)) throw new AxisError(`${op}: axis ${a} appears twice in ${JSON.stringify(axes)}`);
    seen.add(a);
  }
  if (ndim === 0) return [];
  return out.sort((x, y) => x - y);
}

/** Shape after reducing `axes`, keeping them as size 1 when `keepdim`. */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepdim) out.push(1);
    } else out.push(shape[i]);
  }
  return out;
}

/** Resolves one `-1` entry in a reshape target; checks that sizes agree. */
export function inferReshape(op: string, from: readonly number[], to: readonly number[]): number[] {
  const size = sizeOf(from);
  let infer = -1;
  let known = 1;
  to.forEach((d, i) => {
    if (d === -1) {
      if (infer >= 0) throw new ShapeError(`${op}: only one dimension can be -1, got ${fmtShape(to)}`);
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(
        `${op}: invalid target shape ${fmtShape(to)} (entries are non-negative integers or one -1)`,
      );
    } else known *= d;
  });
  const out = [...to];
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (size ${size}) into ${fmtShape(to)}`);
    }
    out[infer] = size / known;
  }
  if (sizeOf(out) !== size) {
    throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (size ${size}) into ${fmtShape(to)}`);
  }
  return out;
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Whether a window is row-major without gaps (size-1 axes may have any stride): its elements are
 * one contiguous run from its offset.
 */
export function isRowMajor(w: {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}): boolean {
  let expect = 1;
  for (let i = w.shape.length - 1; i >= 0; i--) {
    if (w.shape[i] !== 1 && w.strides[i] !== expect) return false;
    expect *= w.shape[i];
  }
  return true;
}
