/**
 * Numerical gradient checking. For a function of float64 tensors, compares the gradient of
 * ⟨v, f(x)⟩ (v a fixed random direction per output, so every output element is weighted) computed by
 * backward with central differences (f(x+ε) − f(x−ε)) / 2ε, element by element over every input that
 * requires grad, and reports the worst element and its position. Evaluations run with gradient
 * recording on, so `fn` may itself differentiate (checking second derivatives).
 */

import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { DTypeError, fmtShape, KeelError, ValueError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { contiguousStrides } from '../util/shape.js';
import { grad } from './engine.js';

/** Options of `gradcheck`. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance, times |numerical| (default 1e-3). */
  rtol?: number;
  /** Seed of the random output directions (default 0). */
  seed?: number;
  /** Throw a `GradcheckError` on failure instead of returning the report (default false). */
  raise?: boolean;
}

/** The worst-matching element. */
export interface GradcheckWorst {
  /** Which input (position in the `inputs` list). */
  input: number;
  /** Multi-index of the element inside that input. */
  index: number[];
  analytical: number;
  numerical: number;
  absError: number;
}

/** Result of `gradcheck`. */
export interface GradcheckResult {
  passed: boolean;
  /** Largest |analytical − numerical| over all checked elements. */
  maxAbsError: number;
  /** The element with the largest error relative to its tolerance (null when there is nothing to check). */
  worst: GradcheckWorst | null;
  /** Number of elements compared. */
  checked: number;
}

/** Thrown by `gradcheck(..., { raise: true })` when gradients disagree. */
export class GradcheckError extends KeelError {
  constructor(readonly result: GradcheckResult) {
    const w = result.worst as GradcheckWorst;
    super(
      `gradcheck: analytical and numerical gradients differ at input ${w.input}, index [${w.index}]: ` +
        `analytical ${w.analytical}, numerical ${w.numerical} (|error| ${w.absError})`,
    );
  }
}

function unravel(i: number, shape: readonly number[]): number[] {
  const strides = contiguousStrides(shape);
  return strides.map((s, d) => Math.floor(i / s) % Math.max(shape[d], 1));
}

/**
 * Checks the gradients of `fn` at `inputs` (float64; the ones with requiresGrad are checked,
 * or all float64 inputs when none has it set).
 */
export function gradcheck(
  fn: (...xs: Tensor[]) => Tensor | readonly Tensor[],
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 0 } = opts;
  let checkedIdx = inputs.map((t, i) => (t.requiresGrad ? i : -1)).filter((i) => i >= 0);
  if (checkedIdx.length === 0)
    checkedIdx = inputs.map((t, i) => (t.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
  if (checkedIdx.length === 0) throw new ValueError('gradcheck: no float64 input to check');
  for (const i of checkedIdx) {
    if (inputs[i].dtype !== 'float64') {
      throw new DTypeError(
        `gradcheck: input ${i} is ${inputs[i].dtype}; finite differences need float64 inputs`,
      );
    }
  }
  // Fresh contiguous leaves, so element j of an input is data[j].
  const xs = inputs.map((t, i) => (checkedIdx.includes(i) ? tensor(t, { requiresGrad: true }) : t));
  const asList = (y: Tensor | readonly Tensor[]) => (y instanceof Tensor ? [y] : [...y]);
  const outs = asList(fn(...xs));
  const g = new Rng(seed);
  const dirs = outs.map((y) => {
    const dir = new Float64Array(y.size);
    g.fillNormal(dir);
    const v = tensor(dir, { shape: y.shape });
    return v.dtype === y.dtype ? v : tensor(v, { dtype: y.dtype });
  });
  const dirData = dirs.map((v) => v.readSync());
  const project = (ys: Tensor[]): number => {
    let s = 0;
    ys.forEach((y, k) => {
      const a = y.readSync();
      const v = dirData[k];
      for (let i = 0; i < a.length; i++) s += a[i] * v[i];
    });
    return s;
  };
  const diffOuts = outs.filter((y) => y.requiresGrad);
  const analytic = diffOuts.length
    ? grad(
        diffOuts,
        checkedIdx.map((i) => xs[i]),
        {
          gradOutputs: outs
            .map((y, k) => (y.requiresGrad ? dirs[k] : null))
            .filter((v): v is Tensor => v !== null),
          allowUnused: true,
        },
      )
    : checkedIdx.map(() => null);
  let maxAbsError = 0;
  let worst: GradcheckWorst | null = null;
  let worstRatio = -1;
  let checked = 0;
  checkedIdx.forEach((inputPos, k) => {
    const x = xs[inputPos];
    // x is a fresh contiguous leaf: element j sits at offset j of its storage.
    const at = (j: number) => ({ shape: [], strides: [], offset: j });
    const set = (j: number, v: number) => x.storage.write(at(j), [v]);
    const an = analytic[k]?.readSync();
    if (an && an.length !== x.size) {
      throw new KeelError(
        `gradcheck: gradient of input ${inputPos} has ${an.length} elements, expected ${x.size} (shape ${fmtShape(x.shape)})`,
      );
    }
    for (let j = 0; j < x.size; j++) {
      const orig = x.storage.readElement(j);
      set(j, orig + eps);
      const fp = project(asList(fn(...xs)));
      set(j, orig - eps);
      const fm = project(asList(fn(...xs)));
      set(j, orig);
      const numerical = (fp - fm) / (2 * eps);
      const analytical = an ? an[j] : 0;
      const err = Math.abs(analytical - numerical);
      const ratio = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err / (atol + rtol * Math.abs(numerical));
      checked++;
      if (err > maxAbsError || Number.isNaN(err)) maxAbsError = Number.isNaN(err) ? Number.NaN : err;
      if (ratio > worstRatio) {
        worstRatio = ratio;
        worst = { input: inputPos, index: unravel(j, x.shape), analytical, numerical, absError: err };
      }
    }
  });
  const result: GradcheckResult = { passed: worstRatio <= 1, maxAbsError, worst, checked };
  if (!result.passed && opts.raise) throw new GradcheckError(result);
  return result;
}
