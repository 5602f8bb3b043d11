/**
 * Creating tensors: from nested arrays, typed arrays and scalars; constant fills; ranges; identity;
 * and random draws from an explicit seeded `Rng` (the global one when none is given). Values
 * are made in host memory and handed to the active backend (`Backend.fromHost`), which adopts them
 * (CPU backends) or would upload them (a GPU backend).
 */
import { allocate, hostArray } from '../backend/host.js';
import { backend } from '../backend/registry.js';
import { arrayType, type DType, type TypedArray } from '../util/dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../util/errors.js';
import { defaultGenerator, type Rng } from '../util/random.js';
import { checkShape, sizeOf } from '../util/shape.js';
import { checkDType, defaultFloatDType, dtypeOfArray, isFloat } from './dtype.js';
import type { NestedArray } from './tensor.js';
import { Tensor } from './tensor.js';

/** Options shared by creation functions. */
export interface CreateOptions {
  /** Element type; floats default to float32 (see `setDefaultDType`). */
  dtype?: DType;
  /** Make the result a leaf that accumulates gradients. */
  requiresGrad?: boolean;
}

/** Options of random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** The generator to draw from (default: the global one, see `manualSeed`). */
  generator?: Rng;
}

/** Data accepted by `tensor()`. */
export type TensorLike = NestedArray | TypedArray | Tensor;

/**
 * A new tensor of `shape` whose elements `fill` writes once (every one of them), placed where the
 * backend's compiled plans read data in place when it has room (`Backend.resident`: the CPU
 * backends' kernel memory) — so a large data set is written there directly, not converted into a
 * host array and then copied into that memory by the first plan that reads it.
 */
export function filledResident(
  shape: readonly number[],
  dtype: DType,
  fill: (array: TypedArray) => void,
): Tensor {
  const n = sizeOf(shape);
  const be = backend();
  const st = be.resident?.(dtype, n) ?? null;
  if (st) {
    fill(hostArray(st));
    return new Tensor(st, [...shape], dtype);
  }
  const a = new (arrayType(dtype))(n);
  fill(a);
  return new Tensor(be.fromHost(a), [...shape], dtype);
}

/** A tensor of `shape` holding `array` (handed over to the active backend). */
export function fromHost(array: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  // An array of another element type is converted (a float64 array for a float32 tensor, say).
  const a = dtypeOfArray(array) === dtype ? array : (arrayType(dtype) as Float64ArrayConstructor).from(array);
  return new Tensor(backend().fromHost(a), [...shape], dtype);
}

function finish(t: Tensor, opts: CreateOptions | undefined): Tensor {
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[], out: TypedArray, isBool: boolean): void {
  let i = 0;
  const walk = (x: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(x)) throw new ShapeError(`tensor: ragged nested array (too deep at depth ${dim})`);
      if (typeof x !== 'number' && typeof x !== 'boolean') {
        throw new ValueError(`tensor: elements must be numbers or booleans, got ${typeof x}`);
      }
      out[i++] = isBool ? (x ? 1 : 0) : Number(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim]) {
      const got = Array.isArray(x) ? `length ${x.length}` : 'a scalar';
      throw new ShapeError(
        `tensor: ragged nested array: expected length ${shape[dim]} at depth ${dim}, got ${got}`,
      );
    }
    for (const y of x) walk(y, dim + 1);
  };
  walk(data, 0);
}

function firstScalar(data: NestedArray): number | boolean | undefined {
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    if (cur.length === 0) return undefined;
    cur = cur[0];
  }
  return cur;
}

/**
 * Creates a tensor from nested arrays, a typed array (1-D, or `shape` given) or a scalar.
 * Numbers become float32 by default, booleans bool; typed arrays keep their dtype unless one is given.
 * The data is copied.
 */
export function tensor(data: TensorLike, opts: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (data instanceof Tensor) {
    const dtype = opts.dtype ?? data.dtype;
    const arr = allocate(dtype, data.size);
    arr.set(data.readSync());
    return finish(fromHost(arr, data.shape, dtype), opts);
  }
  if (ArrayBuffer.isView(data)) {
    const src = data as TypedArray;
    const dtype = opts.dtype ? checkDType('tensor', opts.dtype) : dtypeOfArray(src);
    const shape = opts.shape ? checkShape('tensor', opts.shape) : [src.length];
    if (sizeOf(shape) !== src.length) {
      throw new ShapeError(
        `tensor: shape ${fmtShape(shape)} needs ${sizeOf(shape)} elements, got ${src.length}`,
      );
    }
    const arr = allocate(dtype, src.length);
    if (dtype === 'bool') for (let i = 0; i < src.length; i++) arr[i] = src[i] ? 1 : 0;
    else arr.set(src);
    return finish(fromHost(arr, shape, dtype), opts);
  }
  const first = firstScalar(data);
  const dtype = opts.dtype
    ? checkDType('tensor', opts.dtype)
    : typeof first === 'boolean'
      ? 'bool'
      : defaultFloatDType();
  const shape = inferShape(data);
  const arr = allocate(dtype, sizeOf(shape));
  flatten(data, shape, arr, dtype === 'bool');
  if (opts.shape) {
    if (sizeOf(opts.shape) !== arr.length) {
      throw new ShapeError(
        `tensor: shape ${fmtShape(opts.shape)} needs ${sizeOf(opts.shape)} elements, got ${arr.length}`,
      );
    }
    return finish(fromHost(arr, checkShape('tensor', opts.shape), dtype), opts);
  }
  return finish(fromHost(arr, shape, dtype), opts);
}

/** A 0-d tensor holding one number. */
export function scalar(value: number | boolean, opts: CreateOptions = {}): Tensor {
  return tensor(value, opts);
}

/**
 * A tensor of `shape` whose host values `fill` writes (zeros before), on behalf of `op`: errors name
 * the function the user called.
 */
function made(
  op: string,
  shape: readonly number[],
  dtype: DType,
  opts: CreateOptions,
  fill?: (a: TypedArray) => void,
): Tensor {
  const s = checkShape(op, shape);
  const arr = allocate(checkDType(op, dtype), sizeOf(s));
  fill?.(arr);
  return finish(fromHost(arr, s, dtype), opts);
}

function filled(op: string, shape: readonly number[], value: number | boolean, opts: CreateOptions): Tensor {
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : defaultFloatDType());
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  return made(op, shape, dtype, opts, v === 0 ? undefined : (a) => a.fill(v));
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number | boolean, opts: CreateOptions = {}): Tensor {
  return filled('full', shape, value, opts);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return filled('zeros', shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return filled('ones', shape, 1, opts);
}

/** Zeros with the shape (and by default the dtype) of `t`. */
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...opts });
}

/** Ones with the shape (and by default the dtype) of `t`. */
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...opts });
}

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`; `arange(n)` is 0..n-1.
 * Integer arguments give int32 unless a dtype is given.
 */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step))
    throw new ValueError(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const ints = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = opts.dtype ?? (ints ? 'int32' : defaultFloatDType());
  const arr = allocate(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return finish(fromHost(arr, [n], dtype), opts);
}

/** `steps` evenly spaced values from `start` to `end`, both included. */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new ValueError(`linspace: steps must be a non-negative integer, got ${steps}`);
  }
  const dtype = opts.dtype ?? defaultFloatDType();
  const arr = allocate(dtype, steps);
  const h = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Symmetric fill (as PyTorch): the second half counts back from `end` so both ends are exact.
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) arr[i] = i < half ? start + i * h : end - (steps - 1 - i) * h;
  return finish(fromHost(arr, [steps], dtype), opts);
}

/** Identity matrix with `n` rows and `m` (default `n`) columns. */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  return made('eye', [n, m], opts.dtype ?? defaultFloatDType(), opts, (a) => {
    for (let i = 0; i < Math.min(n, m); i++) a[i * m + i] = 1;
  });
}

function floatDType(op: string, opts: CreateOptions): 'float32' | 'float64' {
  const dtype = opts.dtype ?? defaultFloatDType();
  if (!isFloat(dtype)) throw new DTypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  return dtype;
}

/** Uniform draws in [0, 1). */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const g = opts.generator ?? defaultGenerator();
  return made('rand', shape, floatDType('rand', opts), opts, (a) =>
    g.fillUniform(a as Float32Array | Float64Array),
  );
}

/** Standard normal draws. */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const g = opts.generator ?? defaultGenerator();
  return made('randn', shape, floatDType('randn', opts), opts, (a) =>
    g.fillNormal(a as Float32Array | Float64Array),
  );
}

/** Uniform integers in [low, high) as int32 (or the given dtype). */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  opts: RandomOptions = {},
): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ValueError(`randint: need integers low < high, got low=${low}, high=${high}`);
  }
  const g = opts.generator ?? defaultGenerator();
  return made('randint', shape, opts.dtype ?? 'int32', opts, (a) => {
    for (let i = 0; i < a.length; i++) a[i] = g.integer(low, high);
  });
}

/**
 * Bernoulli draws: 1 with probability `p` (a number with `shape`, or a tensor of probabilities), else 0.
 * Probabilities must lie in [0, 1].
 */
export function bernoulli(
  p: number | Tensor,
  shape: readonly number[] = typeof p === 'number' ? [] : p.shape,
  opts: RandomOptions = {},
): Tensor {
  const g = opts.generator ?? defaultGenerator();
  const probs = typeof p === 'number' ? null : p.readSync();
  const dtype = opts.dtype ?? (typeof p === 'number' ? defaultFloatDType() : p.dtype);
  return made('bernoulli', shape, dtype, opts, (a) => {
    if (probs && probs.length !== a.length) {
      throw new ShapeError(
        `bernoulli: probabilities of shape ${fmtShape((p as Tensor).shape)} do not match ${fmtShape(shape)}`,
      );
    }
    for (let i = 0; i < a.length; i++) {
      const q = probs ? probs[i] : (p as number);
      if (!(q >= 0 && q <= 1)) throw new ValueError(`bernoulli: probability must be in [0, 1], got ${q}`);
      a[i] = g.random() < q ? 1 : 0;
    }
  });
}
