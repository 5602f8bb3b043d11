/**
 * Random tensors drawn by the backend (`Backend.random`: Philox, counter-based, the same draws on
 * every backend): `sampleUniform` and `sampleNormal`. Unlike `rand`/`randn` (tensor/create.ts),
 * which fill host memory when called, these are kernels — inside a compiled step they draw anew at
 * every call (a plan replays the draw, not its first result), which is what input noise and data
 * augmentation need. No gradient flows to them (they depend on no tensor).
 */
import { backend } from '../backend/registry.js';
import { Tensor } from '../tensor/tensor.js';
import type { DType } from '../util/dtype.js';
import { DTypeError, ValueError } from '../util/errors.js';
import { defaultGenerator, type Rng } from '../util/random.js';
import { checkShape } from '../util/shape.js';

/** Options of the sampling ops. */
export interface SampleOptions {
  /** float32 (default) or float64. */
  dtype?: DType;
  /** The generator two words of which key each draw (default: the global one). */
  generator?: Rng;
}

/** Options of `sampleUniform`. */
export interface UniformOptions extends SampleOptions {
  /** The lower bound (default 0). */
  low?: number;
  /** The upper bound, excluded (default 1). */
  high?: number;
}

/** Options of `sampleNormal`. */
export interface NormalOptions extends SampleOptions {
  /** The mean (default 0). */
  mean?: number;
  /** The standard deviation (default 1). */
  std?: number;
}

/**
 * Draws of `kind` with parameters a and b: both must be finite and `ok` hold, else the error says
 * what `op` `needs`.
 */
function draw(
  op: string,
  kind: 'uniform' | 'normal',
  shape: readonly number[],
  [a, b, ok]: [number, number, boolean],
  needs: string,
  opts: SampleOptions,
): Tensor {
  if (!(Number.isFinite(a) && Number.isFinite(b) && ok)) throw new ValueError(`${op}: needs ${needs}`);
  checkShape(op, shape);
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new DTypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  const rng = opts.generator ?? defaultGenerator();
  return new Tensor(backend().random(kind, shape, dtype, a, b, rng), [...shape], dtype);
}

/** Uniform draws on [low, high) (default [0, 1)), drawn by the backend. */
export function sampleUniform(shape: readonly number[], opts: UniformOptions = {}): Tensor {
  const [low, high] = [opts.low ?? 0, opts.high ?? 1];
  const bounds = `finite low ≤ high, got low=${low}, high=${high}`;
  return draw('sampleUniform', 'uniform', shape, [low, high, high >= low], bounds, opts);
}

/** Normal draws of mean `mean` (default 0) and standard deviation `std` (default 1), drawn by the backend. */
export function sampleNormal(shape: readonly number[], opts: NormalOptions = {}): Tensor {
  const [mean, std] = [opts.mean ?? 0, opts.std ?? 1];
  const moments = `a finite mean and std ≥ 0, got mean=${mean}, std=${std}`;
  return draw('sampleNormal', 'normal', shape, [mean, std, std >= 0], moments, opts);
}
