/**
 * What the Fashion-MNIST experiments share (mlp.ts, dropout.ts, bestMlp.ts, perturbation.ts; the
 * shift experiments use the model and the data check): the MLP they train (784-h₁-…-10, N(0, 0.01)
 * as in D2L's concise implementations, or PyTorch's init), the data check, subsets for short runs,
 * and the trainer — one training with SGD (optionally coupled weight decay on the weight matrices)
 * or AdamW (optionally one-cycle and label smoothing), optionally with a transform of the training
 * inputs, that streams its epochs, logs about ten lines, and measures what the checks read: test
 * accuracy, the train (eval mode) − test gaps and the test loss averaged over the last epochs, its
 * minimum — with the report's table of such runs and the result of an experiment made of one training.
 */

import { type ImageSet, imageDataset, pixelImageSet } from '../data/fashionMnist.js';
import { DataLoader } from '../data/loader.js';
import type { Transform } from '../data/transforms/types.js';
import { crossEntropy } from '../nn/functional/loss.js';
import type { Sequential } from '../nn/layers/containers.js';
import { mlp as buildMlp } from '../nn/mlp.js';
import type { Module } from '../nn/module.js';
import { narrow } from '../ops/shape.js';
import { decayGroups } from '../optim/groups.js';
import { AdamW, SGD } from '../optim/optimizers.js';
import { OneCycleLR } from '../optim/schedulers.js';
import { curvePlots } from '../report/plots.js';
import type { Tensor } from '../tensor/tensor.js';
import { schedulerStep } from '../train/callbacks.js';
import { Evaluator } from '../train/evaluate.js';
import { type Divergence, type EpochRecord, fit } from '../train/fit.js';
import { lossesOf } from '../train/step.js';
import { KeelError } from '../util/errors.js';
import { formatNumber } from '../util/number.js';
import { Rng } from '../util/random.js';
import { about, type ExperimentName } from './catalog.js';
import type { Check, Experiment, ExperimentContext, ExperimentResult } from './types.js';

/** An MLP 784-h₁-…-10 with ReLU and optional dropout after each hidden layer (N(0, 0.01) or PyTorch's init). */
export function fashionMlp(
  hidden: number[],
  dropout: number[],
  g: Rng,
  init: 'normal' | 'default' = 'normal',
): Sequential {
  return buildMlp({
    inputs: 784,
    hidden,
    outputs: 10,
    dropout: hidden.map((_, i) => dropout[i] ?? 0),
    init,
    generator: g,
  });
}

/** Fashion-MNIST's two splits. */
export type Data = { train: ImageSet; test: ImageSet };

/** The first `n` images of a split (short runs; from the pixels where the split has them). */
export const cut = (s: ImageSet, n: number): ImageSet => {
  const m = Math.min(n, s.labels.shape[0]);
  const labels = narrow(s.labels, 0, 0, m);
  return s.pixels
    ? pixelImageSet(narrow(s.pixels, 0, 0, m), labels)
    : { images: narrow(s.images, 0, 0, m), labels };
};

/** The context's Fashion-MNIST, or an error naming the experiment and how to get the data. */
function requireFashion(ctx: ExperimentContext, name: string): Data {
  if (!ctx.fashion)
    throw new KeelError(
      `experiment ${name} needs Fashion-MNIST (see 'keel experiment --help' for how to get it)`,
    );
  return ctx.fashion;
}

/** An experiment on Fashion-MNIST: its catalog entry, and a run that gets the data or says how to. */
export function fashionExperiment(
  name: ExperimentName,
  run: (ctx: ExperimentContext, data: Data) => Promise<ExperimentResult>,
): Experiment {
  return { ...about(name), run: (ctx) => run(ctx, requireFashion(ctx, name)) };
}

/** The data of a run: all of it, or for a short run (`quick`) the first `train` and `test` images. */
export const subset = (data: Data, quick: boolean, train: number, test: number): Data =>
  quick ? { train: cut(data.train, train), test: cut(data.test, test) } : data;

/** How many images a run used, for its settings. */
export const imageCounts = (d: Data) => ({
  trainImages: d.train.labels.shape[0],
  testImages: d.test.labels.shape[0],
});

/** How one training of an experiment runs. */
export interface TrainSpec {
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adamw';
  lr: number;
  momentum?: number;
  weightDecay?: number;
  labelSmoothing?: number;
  oneCycle?: boolean;
  /** Epochs (from the end) over which the train–test gap and test loss are averaged (default 1). */
  tailEpochs?: number;
  /** Perturbs the training inputs (data/transforms), drawn from the run's generator. */
  transform?: Transform;
  /** Evaluate the training set (eval mode) after every epoch, not only the tail's (for curves). */
  trainEvalEveryEpoch?: boolean;
}

/** What one training measured. */
export interface TrainRun {
  label: string;
  epochs: EpochRecord[];
  /** Accuracy on the training set in eval mode (dropout off), after training. */
  trainEvalAccuracy: number;
  testAccuracy: number;
  /** Train (eval mode) − test accuracy, averaged over the last `tailEpochs` epochs. */
  gap: number;
  /** Test − train (eval mode) loss, averaged over the last `tailEpochs` epochs. */
  lossGap: number;
  /** Train accuracy (eval mode), averaged over the last `tailEpochs` epochs. */
  tailTrainAccuracy: number;
  /** Test loss averaged over the last `tailEpochs` epochs, and its minimum over all epochs. */
  tailTestLoss: number;
  minTestLoss: number;
  /** The training set's loss and accuracy in eval mode, per epoch evaluated (the tail's, or every one). */
  trainEval: { epoch: number; loss: number; accuracy: number }[];
  divergence?: Divergence;
}

/** Trains `model` on `data` as `spec` says, streaming its epochs as `name`/`label`. */
export async function trainFashion(
  ctx: ExperimentContext,
  name: string,
  label: string,
  model: Module,
  data: Data,
  spec: TrainSpec,
  g: Rng,
): Promise<TrainRun> {
  const tailFrom = spec.epochs - (spec.tailEpochs ?? 1) + 1;
  const tail: { trainAccuracy: number; trainLoss: number; testAccuracy: number; testLoss: number }[] = [];
  const trainEvalLoader = new DataLoader(imageDataset(data.train), { batchSize: 1000 });
  const trainDs = imageDataset(data.train);
  const trainLoader = new DataLoader(trainDs, {
    batchSize: spec.batchSize,
    shuffle: true,
    generator: g,
    transform: spec.transform,
  });
  const testLoader = new DataLoader(imageDataset(data.test), { batchSize: 1000 });
  const optimizer =
    spec.optimizer === 'sgd'
      ? new SGD(
          spec.weightDecay
            ? decayGroups(model.namedParameters(), { weightDecay: spec.weightDecay })
            : model.parameters(),
          { lr: spec.lr, momentum: spec.momentum ?? 0 },
        )
      : new AdamW(decayGroups(model.namedParameters(), { weightDecay: spec.weightDecay ?? 0 }), {
          lr: spec.lr,
        });
  const sched = spec.oneCycle
    ? new OneCycleLR(optimizer, spec.lr, { totalSteps: spec.epochs * trainLoader.length })
    : null;
  const loss = (o: Tensor, y: Tensor) => crossEntropy(o, y, { labelSmoothing: spec.labelSmoothing ?? 0 });
  const trainEval: TrainRun['trainEval'] = [];
  // One evaluator for the training set, so its compiled plan is traced once, not at every epoch.
  const trainEvaluator = new Evaluator(model, lossesOf());
  ctx.log(`${name}: training ${label} for ${spec.epochs} epochs on ${trainDs.length} images`);
  const h = await fit({
    model,
    optimizer,
    signal: ctx.signal,
    divergence: ctx.divergence,
    train: trainLoader,
    test: testLoader,
    epochs: spec.epochs,
    loss,
    progress: ctx.progress,
    callbacks: [
      ...(sched ? [schedulerStep(sched, 'valLoss', { per: 'batch' })] : []),
      {
        onEpochEnd(r) {
          if (r.epoch >= tailFrom || spec.trainEvalEveryEpoch) {
            const t = trainEvaluator.run(trainEvalLoader);
            trainEval.push({ epoch: r.epoch, loss: t.loss, accuracy: t.accuracy ?? 0 });
          }
          if (r.epoch >= tailFrom) {
            const t = trainEval[trainEval.length - 1];
            tail.push({
              trainAccuracy: t.accuracy,
              trainLoss: t.loss,
              testAccuracy: r.testAccuracy ?? 0,
              testLoss: r.testLoss ?? Number.NaN,
            });
          }
          ctx.onMetrics({ experiment: name, run: label, ...r });
          // About ten lines per training, whatever its length (every epoch is in metrics.jsonl).
          if ((r.epoch - 1) % Math.ceil(spec.epochs / 10) === 0 || r.epoch === spec.epochs)
            ctx.log(
              `  ${label} epoch ${r.epoch}: train loss ${formatNumber(r.trainLoss)}, train acc ${formatNumber(r.trainAccuracy ?? 0)}, test acc ${formatNumber(r.testAccuracy ?? 0)}, ${r.seconds.toFixed(1)} s`,
            );
        },
      },
    ],
  });
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : Number.NaN);
  const last = h.epochs[h.epochs.length - 1];
  return {
    label,
    epochs: h.epochs,
    trainEvalAccuracy: trainEvaluator.run(trainEvalLoader).accuracy ?? 0,
    testAccuracy: last?.testAccuracy ?? 0,
    gap: mean(tail.map((t) => t.trainAccuracy - t.testAccuracy)),
    lossGap: mean(tail.map((t) => t.testLoss - t.trainLoss)),
    tailTrainAccuracy: mean(tail.map((t) => t.trainAccuracy)),
    tailTestLoss: mean(tail.map((t) => t.testLoss)),
    minTestLoss: Math.min(...h.epochs.map((e) => e.testLoss ?? Number.POSITIVE_INFINITY)),
    trainEval,
    divergence: h.divergence,
  };
}

/** The trainings whose loss diverged, as an experiment reports them. */
export const diverged = (runs: TrainRun[]) =>
  runs.flatMap((r) => (r.divergence ? [{ run: r.label, divergence: r.divergence }] : []));

/** The report's table of runs; `tail` epochs are averaged for the gaps and the test loss. */
export const runTable = (runs: TrainRun[], tail: number) => {
  const over = tail === 1 ? '(last epoch)' : `(mean of the last ${tail} epochs)`;
  return {
    title: 'Runs',
    header: [
      'model',
      'train accuracy (eval mode)',
      'test accuracy',
      `train − test accuracy ${over}`,
      `test loss ${over}`,
      `test − train loss ${over}`,
      's/epoch',
    ],
    rows: runs.map((r) => [
      r.label,
      formatNumber(r.trainEvalAccuracy),
      formatNumber(r.testAccuracy),
      formatNumber(r.gap),
      formatNumber(r.tailTestLoss),
      formatNumber(r.lossGap),
      formatNumber(r.epochs.reduce((s, e) => s + e.seconds, 0) / Math.max(r.epochs.length, 1), 1),
    ]),
  };
};

/** `60000 training, 10000 test images`. */
export const images = (d: Data) =>
  `${d.train.labels.shape[0]} training, ${d.test.labels.shape[0]} test images`;

/** An experiment made of one training (mlp), described as data. */
export interface OneRunExperiment {
  title: string;
  /** The model's name in logs, tables and plots. */
  label: string;
  /** The network, built from the run's generator. */
  model: (g: Rng) => Module;
  epochs: number;
  /** The short run (`quick`): its epochs and the first `train` and `test` images. */
  quick: { epochs: number; train: number; test: number };
  /** How it trains, but for the epochs. */
  training: Omit<TrainSpec, 'epochs'>;
  /** The acceptance check (the short run has its own), and rows for the summary after the test accuracy. */
  check: (r: TrainRun, run: { quick: boolean; data: Data }) => Omit<Check, 'detail'>;
  rows: (r: TrainRun) => [string, string][];
  /** The settings that ran (the images used are added). */
  settings: (epochs: number) => Record<string, unknown>;
}

/**
 * An experiment of one training: trains `e.model` on Fashion-MNIST (or the short run's subset) and
 * reports the test accuracy with `e.rows` after it, the epochs and the data as its summary, its
 * check, curves, table and result, and its settings with the images it used.
 */
export function oneRunExperiment(name: ExperimentName, e: OneRunExperiment): Experiment {
  return fashionExperiment(name, async (ctx, all) => {
    const data = subset(all, ctx.quick, e.quick.train, e.quick.test);
    const g = new Rng(ctx.seed);
    const epochs = ctx.quick ? e.quick.epochs : e.epochs;
    const r = await trainFashion(ctx, name, e.label, e.model(g), data, { epochs, ...e.training }, g);
    return {
      name,
      title: e.title,
      summary: [
        ['test accuracy', formatNumber(r.testAccuracy)],
        ...e.rows(r),
        ['epochs', String(r.epochs.length)],
        ['data', images(data)],
      ],
      checks: [
        {
          ...e.check(r, { quick: ctx.quick, data }),
          detail: `test accuracy ${formatNumber(r.testAccuracy)}`,
        },
      ],
      plots: curvePlots(name, [{ label: r.label, epochs: r.epochs }]),
      tables: [runTable([r], 1)],
      result: { testAccuracy: r.testAccuracy, trainAccuracy: r.trainEvalAccuracy, epochs: r.epochs },
      settings: { ...e.settings(epochs), ...imageCounts(data) },
      diverged: diverged([r]),
    };
  });
}
