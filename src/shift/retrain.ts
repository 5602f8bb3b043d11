/**
 * Covariate-shift correction by retraining, the library's steps of it (used by `keel shift
 * --retrain` and `keel experiment covariate-shift`):
 * - `modelLogits`: a model's outputs on host rows, in batches, as a Scores matrix (what the shift
 *   tests and estimators read);
 * - `trainingWeights`: the importance weight of each training row from a covariate-shift estimate —
 *   its log-ratio, then `weightsFromLogits` (clipped, then normalized to mean 1: the one way keel
 *   makes importance weights, see covariate.ts);
 * - `weightedLoader`: the shuffled training batches with each row's weight as a third tensor, so
 *   that `fit` weights each sample's loss by it (no weights: the naive baseline, same batches);
 * - `targetComparison`: the model as trained against the retrained one on labelled target rows.
 */
import { noGrad } from '../autograd/mode.js';
import { TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import { narrow } from '../ops/shape.js';
import { fromHost } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { evaluate } from '../train/fit.js';
import type { Rng } from '../util/random.js';
import {
  type CovariateShiftEstimate,
  type ImportanceWeights,
  type WeightOptions,
  weightsFromLogits,
} from './covariate.js';
import { rowsAsScores, type Scores } from './matrix.js';

/** A model's outputs (logits) on `x`, in eval mode and batches of `batch` rows, as a host matrix. */
export function modelLogits(model: Module, x: Tensor, batch = 2000): Scores {
  const n = x.shape[0];
  const parts: Float64Array[] = [];
  let k = 0;
  const was = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let i = 0; i < n; i += batch) {
        const out = model.forward(narrow(x, 0, i, Math.min(batch, n - i)));
        k = out.shape[1];
        parts.push(Float64Array.from(out.readSync() as ArrayLike<number>));
      }
    });
  } finally {
    model.train(was);
  }
  const data = new Float64Array(n * k);
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.length;
  }
  return { n, k, data };
}

/**
 * Importance weights of training rows `x` (row-major, `inputs` columns) under a covariate-shift
 * estimate: the estimate's log p_target/p_source for each row (computed `chunk` rows at a time, so
 * that 60,000 images never become one float64 matrix), made weights by `weightsFromLogits`.
 */
export function trainingWeights(
  estimate: Pick<CovariateShiftEstimate, 'logRatio'>,
  x: Float32Array,
  inputs: number,
  opts: WeightOptions = {},
  chunk = 5000,
): ImportanceWeights {
  const n = x.length / inputs;
  const logRatio = new Float64Array(n);
  for (let i = 0; i < n; i += chunk) {
    const part = x.subarray(i * inputs, Math.min(n, i + chunk) * inputs);
    logRatio.set(estimate.logRatio(rowsAsScores(part, inputs)), i);
  }
  return weightsFromLogits(logRatio, 0, opts);
}

/**
 * Shuffled batches of (x, y) with each row's importance weight as a third tensor (`fit` multiplies
 * each sample's loss by it); `weights` null gives the unweighted batches, in the same order.
 */
export function weightedLoader(
  x: Tensor,
  y: Tensor,
  weights: ArrayLike<number> | null,
  o: { batchSize: number; generator: Rng },
): DataLoader {
  const dataset = weights
    ? new TensorDataset(x, y, fromHost(Float32Array.from(weights), [x.shape[0]], 'float32'))
    : new TensorDataset(x, y);
  return new DataLoader(dataset, { batchSize: o.batchSize, shuffle: true, generator: o.generator });
}

/** Loss and accuracy on labelled rows. */
export interface TargetScore {
  loss: number;
  accuracy?: number;
}

/** The source model as trained and the importance-weighted retrained one, on labelled target rows. */
export function targetComparison(
  models: { uncorrected: Module; weighted: Module },
  target: { x: Float32Array; y: Int32Array; inputs: number },
): { uncorrected: TargetScore; weighted: TargetScore } {
  const n = target.y.length;
  const loader = new DataLoader(
    new TensorDataset(fromHost(target.x, [n, target.inputs], 'float32'), fromHost(target.y, [n], 'int32')),
    { batchSize: 2000 },
  );
  return { uncorrected: evaluate(models.uncorrected, loader), weighted: evaluate(models.weighted, loader) };
}
