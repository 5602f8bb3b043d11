/**
 * The Fashion-MNIST experiments of the chapter:
 * - `mlp` (D2L §5.2): 784-256-10, SGD lr 0.1, 10 epochs, batch 256 → test accuracy ≥ 0.82;
 * - `dropout` (D2L §5.6): 784-256-256-10 with p = 0.2/0.5, lr 0.5, 10 epochs → ≥ 0.84 (PyTorch: 0.847–0.862 by seed); and, since at
 *   that scale the net barely overfits (one epoch's test accuracy moves by ±0.02 at lr 0.5, more
 *   than any gap between the two), the same net on 1,000 training images for 80 epochs, where it
 *   memorizes them: there dropout lowers the test loss and narrows the train–test loss gap (the
 *   accuracy gap barely moves: both nets reach ~0.80 test accuracy, the one without dropout with
 *   overconfident, costly mistakes);
 * - `best-mlp`: a regularized MLP (dropout, AdamW decaying weights only, label smoothing,
 *   one-cycle) against the benchmark's best plain MLP (0.8833).
 * Weights start from N(0, 0.01) as in D2L's concise implementations, where the book does so; the
 * other runs use PyTorch's default init. `quick` runs the same code on subsets for a few epochs, and
 * says so in each check's name, with an expectation of its own.
 */

import { TensorDataset } from '../data/dataset.js';
import type { ImageSet } from '../data/fashionMnist.js';
import { DataLoader } from '../data/loader.js';
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
import { type Divergence, type EpochRecord, evaluate, fit } from '../train/fit.js';
import { KeelError } from '../util/errors.js';
import { formatNumber } from '../util/number.js';
import { Rng } from '../util/random.js';
import { about } from './catalog.js';
import type { Experiment, ExperimentContext, ExperimentResult } from './types.js';

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

type Data = { train: ImageSet; test: ImageSet };

const cut = (s: ImageSet, n: number): ImageSet => ({
  images: narrow(s.images, 0, 0, Math.min(n, s.images.shape[0])),
  labels: narrow(s.labels, 0, 0, Math.min(n, s.labels.shape[0])),
});

/** The context's Fashion-MNIST, or an error naming the experiment and how to get the data. */
export function requireFashion(ctx: ExperimentContext, name: string): Data {
  if (!ctx.fashion)
    throw new KeelError(
      `experiment ${name} needs Fashion-MNIST (see 'keel experiment --help' for how to get it)`,
    );
  return ctx.fashion;
}

/** How one training of an experiment runs. */
interface TrainSpec {
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
}

interface TrainRun {
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
  divergence?: Divergence;
}

async function trainFashion(
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
  const trainEvalLoader = new DataLoader(new TensorDataset(data.train.images, data.train.labels), {
    batchSize: 1000,
  });
  const trainDs = new TensorDataset(data.train.images, data.train.labels);
  const trainLoader = new DataLoader(trainDs, { batchSize: spec.batchSize, shuffle: true, generator: g });
  const testLoader = new DataLoader(new TensorDataset(data.test.images, data.test.labels), {
    batchSize: 1000,
  });
  const optimizer =
    spec.optimizer === 'sgd'
      ? new SGD(model.parameters(), { lr: spec.lr, momentum: spec.momentum ?? 0 })
      : new AdamW(decayGroups(model.namedParameters(), { weightDecay: spec.weightDecay ?? 0 }), {
          lr: spec.lr,
        });
  const sched = spec.oneCycle
    ? new OneCycleLR(optimizer, spec.lr, { totalSteps: spec.epochs * trainLoader.length })
    : null;
  const loss = (o: Tensor, y: Tensor) => crossEntropy(o, y, { labelSmoothing: spec.labelSmoothing ?? 0 });
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
          if (r.epoch >= tailFrom) {
            const t = evaluate(model, trainEvalLoader);
            tail.push({
              trainAccuracy: t.accuracy ?? 0,
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
    trainEvalAccuracy: evaluate(model, trainEvalLoader).accuracy ?? 0,
    testAccuracy: last?.testAccuracy ?? 0,
    gap: mean(tail.map((t) => t.trainAccuracy - t.testAccuracy)),
    lossGap: mean(tail.map((t) => t.testLoss - t.trainLoss)),
    tailTrainAccuracy: mean(tail.map((t) => t.trainAccuracy)),
    tailTestLoss: mean(tail.map((t) => t.testLoss)),
    minTestLoss: Math.min(...h.epochs.map((e) => e.testLoss ?? Number.POSITIVE_INFINITY)),
    divergence: h.divergence,
  };
}

const diverged = (runs: TrainRun[]) =>
  runs.flatMap((r) => (r.divergence ? [{ run: r.label, divergence: r.divergence }] : []));

const runTable = (runs: TrainRun[], tail: number) => {
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

const images = (d: Data) => `${d.train.labels.shape[0]} training, ${d.test.labels.shape[0]} test images`;

export const mlp: Experiment = {
  ...about('mlp'),
  async run(ctx): Promise<ExperimentResult> {
    const all = requireFashion(ctx, 'mlp');
    const data = ctx.quick ? { train: cut(all.train, 10000), test: cut(all.test, 2000) } : all;
    const g = new Rng(ctx.seed);
    const epochs = ctx.quick ? 3 : 10;
    const spec: TrainSpec = { epochs, batchSize: 256, optimizer: 'sgd', lr: 0.1 };
    const r = await trainFashion(ctx, 'mlp', '784-256-10', fashionMlp([256], [], g), data, spec, g);
    const check = ctx.quick
      ? {
          name: `short run (${epochs} epochs, ${images(data)}): learns far above chance (0.1) — test accuracy ≥ 0.5; the chapter's ≥ 0.82 is for the full run, keel experiment mlp`,
          passed: r.testAccuracy >= 0.5,
        }
      : { name: 'test accuracy ≥ 0.82 after 10 epochs (D2L §5.2)', passed: r.testAccuracy >= 0.82 };
    return {
      name: 'mlp',
      title: 'Multilayer perceptron on Fashion-MNIST',
      summary: [
        ['test accuracy', formatNumber(r.testAccuracy)],
        ['train accuracy (eval mode)', formatNumber(r.trainEvalAccuracy)],
        ['epochs', String(r.epochs.length)],
        ['data', images(data)],
      ],
      checks: [{ ...check, detail: `test accuracy ${formatNumber(r.testAccuracy)}` }],
      plots: curvePlots('mlp', [{ label: r.label, epochs: r.epochs }]),
      tables: [runTable([r], 1)],
      result: { testAccuracy: r.testAccuracy, trainAccuracy: r.trainEvalAccuracy, epochs: r.epochs },
      settings: {
        model: '784-256-10, ReLU',
        init: 'N(0, 0.01), zero biases',
        optimizer: 'SGD',
        lr: 0.1,
        batchSize: 256,
        epochs,
        trainImages: data.train.labels.shape[0],
        testImages: data.test.labels.shape[0],
      },
      diverged: diverged([r]),
    };
  },
};

/**
 * The book setting's bar. One seed's accuracy varies by about ±0.007, so the bar sits below what the
 * same recipe reaches in PyTorch over seeds 0–7 (bench/torch_dropout.py), not at the book's 0.85.
 */
const BOOK_MIN = 0.84;
const TORCH_BOOK = '0.847–0.862 over seeds 0–7, mean 0.854';

/** The overfitting regime of the dropout experiment. */
const SMALL = { train: 1000, test: 2000, epochs: 80, batchSize: 64, lr: 0.02, momentum: 0.9, tail: 5 };

export const dropoutExperiment: Experiment = {
  ...about('dropout'),
  async run(ctx): Promise<ExperimentResult> {
    const all = requireFashion(ctx, 'dropout');
    const q = ctx.quick;
    // Part 1, the book's setting.
    const big = q ? { train: cut(all.train, 10000), test: cut(all.test, 2000) } : all;
    const epochs = q ? 3 : 10;
    const g1 = new Rng(ctx.seed);
    const book = await trainFashion(
      ctx,
      'dropout',
      'dropout 0.2/0.5, all images',
      fashionMlp([256, 256], [0.2, 0.5], g1),
      big,
      { epochs, batchSize: 256, optimizer: 'sgd', lr: 0.5 },
      g1,
    );
    // Part 2, the overfitting regime: a small training set, many epochs, PyTorch's default init.
    const s = q ? { ...SMALL, train: 500, test: 1000, epochs: 15, tail: 3 } : SMALL;
    const small = { train: cut(all.train, s.train), test: cut(all.test, s.test) };
    const spec: TrainSpec = {
      epochs: s.epochs,
      batchSize: s.batchSize,
      optimizer: 'sgd',
      lr: s.lr,
      momentum: s.momentum,
      tailEpochs: s.tail,
    };
    const runSmall = async (label: string, p: number[]) => {
      const g = new Rng(ctx.seed + 1);
      return trainFashion(ctx, 'dropout', label, fashionMlp([256, 256], p, g, 'default'), small, spec, g);
    };
    const withDrop = await runSmall(`dropout 0.2/0.5, ${s.train} images`, [0.2, 0.5]);
    const without = await runSmall(`no dropout, ${s.train} images`, [0, 0]);
    const tail = `mean of the last ${s.tail} epochs`;
    const checks = q
      ? [
          {
            name: `short run (${epochs} epochs, ${images(big)}): learns above chance (0.1) with dropout — test accuracy ≥ 0.3; the chapter's ≈ 0.85 is for the full run, keel experiment dropout`,
            passed: book.testAccuracy >= 0.3,
            detail: `test accuracy ${formatNumber(book.testAccuracy)}`,
          },
          {
            name: `short run on ${s.train} images (${s.epochs} epochs): both nets train (test accuracy ≥ 0.5); the overfitting comparison needs the full run`,
            passed: withDrop.testAccuracy >= 0.5 && without.testAccuracy >= 0.5,
            detail: `test accuracy ${formatNumber(withDrop.testAccuracy)} with dropout, ${formatNumber(without.testAccuracy)} without`,
          },
        ]
      : [
          {
            name: `dropout 0.2/0.5, 10 epochs on all images: test accuracy ≥ ${BOOK_MIN} (D2L §5.6 ≈ 0.85; PyTorch with this recipe: ${TORCH_BOOK})`,
            passed: book.testAccuracy >= BOOK_MIN,
            detail: `test accuracy ${formatNumber(book.testAccuracy)}`,
          },
          {
            name: `on ${s.train} images without dropout the net memorizes them and overfits (${tail}): train accuracy ≥ 0.95, test loss ≥ 1.3 × its minimum`,
            passed: without.tailTrainAccuracy >= 0.95 && without.tailTestLoss >= 1.3 * without.minTestLoss,
            detail: `train accuracy ${formatNumber(without.tailTrainAccuracy)}; test loss ${formatNumber(without.tailTestLoss)} vs its minimum ${formatNumber(without.minTestLoss)}`,
          },
          {
            name: `dropout lowers the test loss there (${tail}) by ≥ 10%`,
            passed: withDrop.tailTestLoss <= 0.9 * without.tailTestLoss,
            detail: `${formatNumber(withDrop.tailTestLoss)} with dropout vs ${formatNumber(without.tailTestLoss)} without`,
          },
          {
            name: `dropout narrows the train–test gap there by ≥ 10%: test − train loss (eval mode, ${tail})`,
            passed: withDrop.lossGap <= 0.9 * without.lossGap,
            detail: `${formatNumber(withDrop.lossGap)} with dropout vs ${formatNumber(without.lossGap)} without (accuracy gap ${formatNumber(withDrop.gap)} vs ${formatNumber(without.gap)})`,
          },
        ];
    return {
      name: 'dropout',
      title: 'Dropout on Fashion-MNIST',
      summary: [
        ['test accuracy with dropout, the book’s setting', formatNumber(book.testAccuracy)],
        [
          `test loss (${tail}), ${s.train} images: with / without dropout`,
          `${formatNumber(withDrop.tailTestLoss)} / ${formatNumber(without.tailTestLoss)}`,
        ],
        [
          `test − train loss (${tail}), ${s.train} images: with / without`,
          `${formatNumber(withDrop.lossGap)} / ${formatNumber(without.lossGap)}`,
        ],
      ],
      checks,
      plots: [
        ...curvePlots('dropout-book', [{ label: book.label, epochs: book.epochs }], {
          about: `the book's setting, ${images(big)}`,
        }),
        ...curvePlots(
          'dropout-small',
          [
            { label: withDrop.label, epochs: withDrop.epochs },
            { label: without.label, epochs: without.epochs },
          ],
          { about: `${s.train} training images, with and without dropout` },
        ),
      ],
      keyPlot: 'dropout-small-loss',
      tables: [
        runTable([book], 1),
        { ...runTable([withDrop, without], s.tail), title: `Runs on ${s.train} images` },
      ],
      result: { book, withDropout: withDrop, withoutDropout: without },
      settings: {
        model: '784-256-256-10, ReLU, dropout after each hidden layer',
        book: {
          dropout: [0.2, 0.5],
          init: 'N(0, 0.01)',
          optimizer: 'SGD',
          lr: 0.5,
          batchSize: 256,
          epochs,
          trainImages: big.train.labels.shape[0],
          testImages: big.test.labels.shape[0],
        },
        smallData: {
          dropout: [
            [0.2, 0.5],
            [0, 0],
          ],
          init: 'PyTorch default',
          optimizer: 'SGD',
          lr: s.lr,
          momentum: s.momentum,
          batchSize: s.batchSize,
          epochs: s.epochs,
          trainImages: s.train,
          testImages: s.test,
        },
      },
      diverged: diverged([book, withDrop, without]),
    };
  },
};

export const bestMlp: Experiment = {
  ...about('best-mlp'),
  async run(ctx): Promise<ExperimentResult> {
    const all = requireFashion(ctx, 'best-mlp');
    const data = ctx.quick ? { train: cut(all.train, 5000), test: cut(all.test, 2000) } : all;
    const g = new Rng(ctx.seed);
    const epochs = ctx.quick ? 1 : 30;
    const spec: TrainSpec = {
      epochs,
      batchSize: 128,
      optimizer: 'adamw',
      lr: 2e-3,
      weightDecay: 0.05,
      labelSmoothing: 0.1,
      oneCycle: true,
    };
    const label = '784-1024-512-10, dropout 0.3';
    const r = await trainFashion(
      ctx,
      'best-mlp',
      label,
      fashionMlp([1024, 512], [0.3, 0.3], g, 'default'),
      data,
      spec,
      g,
    );
    const check = ctx.quick
      ? {
          name: `short run (1 epoch, ${images(data)}): the recipe runs end to end and learns — test accuracy ≥ 0.5; ≥ 0.89 is for the full 30 epochs, keel experiment best-mlp`,
          passed: r.testAccuracy >= 0.5,
        }
      : {
          name: 'test accuracy ≥ 0.89 (the benchmark’s best plain MLP: 0.8833)',
          passed: r.testAccuracy >= 0.89,
        };
    return {
      name: 'best-mlp',
      title: 'A regularized MLP on Fashion-MNIST',
      summary: [
        ['test accuracy', formatNumber(r.testAccuracy)],
        ['best plain MLP in the Fashion-MNIST benchmark', '0.8833'],
        ['epochs', String(r.epochs.length)],
        ['data', images(data)],
      ],
      checks: [{ ...check, detail: `test accuracy ${formatNumber(r.testAccuracy)}` }],
      plots: curvePlots('best-mlp', [{ label: r.label, epochs: r.epochs }]),
      tables: [runTable([r], 1)],
      result: { testAccuracy: r.testAccuracy, trainAccuracy: r.trainEvalAccuracy, epochs: r.epochs },
      settings: {
        model: label,
        init: 'PyTorch default',
        optimizer: 'AdamW, weight decay 0.05 on weight matrices only',
        lr: '2e-3, one-cycle',
        labelSmoothing: 0.1,
        batchSize: 128,
        epochs,
        trainImages: data.train.labels.shape[0],
        testImages: data.test.labels.shape[0],
      },
      diverged: diverged([r]),
    };
  },
};
