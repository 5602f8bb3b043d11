/**
 * The source side of the shift experiments and of `keel shift`: a Fashion-MNIST classifier trained
 * on part of the training set (D2L's 784-256-10 MLP recipe), the rest of the training set held out
 * as labelled source data for the estimators (confusion matrix, calibration), and the helpers the
 * two shift experiments share (labels on the host, the detection log, mean and sd).
 */
import { TensorDataset } from '../data/dataset.js';
import type { ImageSet } from '../data/fashionMnist.js';
import { DataLoader } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import { indexSelect } from '../ops/indexing.js';
import { SGD } from '../optim/optimizers.js';
import type { ShiftTestResult } from '../shift/detect.js';
import { shuffled } from '../shift/generate.js';
import { fromHost } from '../tensor/create.js';
import { fit } from '../train/fit.js';
import { formatNumber } from '../util/number.js';
import type { Rng } from '../util/random.js';
import { fashionMlp } from './fashionTrainer.js';
import type { ExperimentContext } from './types.js';

/** Rows `idx` of an image set. */
export function pick(s: ImageSet, idx: Int32Array): ImageSet {
  const t = fromHost(idx, [idx.length], 'int32');
  return { images: indexSelect(s.images, 0, t), labels: indexSelect(s.labels, 0, t) };
}

/** The labels of an image set on the host. */
export const labelsOf = (s: ImageSet): Int32Array =>
  Int32Array.from(s.labels.readSync() as ArrayLike<number>);

/** A trained source classifier with its held-out labelled source data. */
export interface SourceModel {
  model: Module;
  heldOut: ImageSet;
  trainSize: number;
  epochs: number;
  heldOutAccuracy: number;
}

/**
 * Splits the training set (seeded) into `heldOut` labelled source images and the rest, and trains
 * the 784-256-10 MLP on the rest (SGD lr 0.1, batch 256, N(0, 0.01) init).
 */
export async function trainSourceModel(
  ctx: ExperimentContext,
  name: string,
  train: ImageSet,
  o: { heldOut: number; epochs: number; limit?: number },
  g: Rng,
): Promise<SourceModel> {
  const n = Math.min(train.labels.shape[0], o.limit ?? Number.POSITIVE_INFINITY);
  const perm = Int32Array.from(
    shuffled(
      Array.from({ length: n }, (_, i) => i),
      g,
    ),
  );
  const heldOut = pick(train, perm.subarray(0, o.heldOut));
  const rest = pick(train, perm.subarray(o.heldOut));
  const model = fashionMlp([256], [], g);
  ctx.log(
    `${name}: training the source classifier (784-256-10) on ${n - o.heldOut} images for ${o.epochs} epochs; ${o.heldOut} held out`,
  );
  const h = await fit({
    model,
    optimizer: new SGD(model.parameters(), { lr: 0.1 }),
    train: new DataLoader(new TensorDataset(rest.images, rest.labels), {
      batchSize: 256,
      shuffle: true,
      generator: g,
    }),
    validation: new DataLoader(new TensorDataset(heldOut.images, heldOut.labels), { batchSize: 2000 }),
    epochs: o.epochs,
    signal: ctx.signal,
    divergence: ctx.divergence,
    progress: ctx.progress,
    callbacks: [
      {
        onEpochEnd(r) {
          ctx.onMetrics({ experiment: name, run: 'source classifier', ...r });
        },
      },
    ],
  });
  const last = h.epochs[h.epochs.length - 1];
  ctx.log(`  source classifier: held-out accuracy ${formatNumber(last?.valAccuracy ?? Number.NaN)}`);
  return {
    model,
    heldOut,
    trainSize: n - o.heldOut,
    epochs: o.epochs,
    heldOutAccuracy: last?.valAccuracy ?? Number.NaN,
  };
}

/** Mean and sample standard deviation (the shift experiments' spread over seeds). */
export { mean, sd } from './stats.js';

/**
 * The p-values of repeated shift tests (draws under no shift and under a shift), streamed to the
 * metrics as they come, with the rejection rate at α = 0.05 per draw kind and test.
 */
export function detectionLog(ctx: ExperimentContext, experiment: string) {
  const rows: { draw: string; test: string; p: number }[] = [];
  return {
    record(draw: string, index: number, results: ShiftTestResult[]): void {
      for (const t of results) {
        rows.push({ draw, test: t.test, p: t.pValue });
        ctx.onMetrics({ experiment, part: 'detection', draw, index, test: t.test, p: t.pValue });
      }
    },
    pValues(draw: string, test: string): number[] {
      return rows.filter((x) => x.draw === draw && x.test === test).map((x) => x.p);
    },
    /** Fraction of `draw`'s tests with p < 0.05. */
    rate(draw: string, test: string): number {
      const ps = this.pValues(draw, test);
      return ps.filter((p) => p < 0.05).length / ps.length;
    },
  };
}
