/**
 * `best-mlp`: the best plain MLP we can train on Fashion-MNIST — fully connected layers and ReLU
 * only (no convolution, no ensembling, no test-time augmentation), trained on the 60,000 training
 * images only; its test accuracy is the one after the last epoch (the test curve is drawn, nothing is
 * chosen by it) — against the Fashion-MNIST benchmark's best MLP row (0.8833). The recipe (RECIPE,
 * README's "best-mlp"): 784-1024-512-10 with dropout 0.2, AdamW with decoupled decay on the weight
 * matrices only, label smoothing, a one-cycle schedule over 120 epochs, and the training images
 * shifted by up to one pixel each way (zero fill), anew at every step. Searched on seed 0 (README):
 * shifts of 2 pixels with flips, or a 2048-1024 network in the same time, did worse. `--seeds n`
 * trains seeds seed…seed + n − 1; the checks: every seed ≥ 0.902 and, over three or more seeds, the
 * mean ≥ 0.905; the minutes per seed are reported. `quick` trains one epoch on 5,000 images.
 */
import { randomTranslate } from '../data/transforms/translate.js';
import { curvePlots } from '../report/plots.js';
import { formatNumber } from '../util/number.js';
import { Rng } from '../util/random.js';
import {
  diverged,
  fashionExperiment,
  fashionMlp,
  imageCounts,
  images,
  runTable,
  subset,
  type TrainRun,
  type TrainSpec,
  trainFashion,
} from './fashionTrainer.js';
import { mean, meanSd } from './stats.js';
import type { Check } from './types.js';

/** The recipe. */
const RECIPE = {
  hidden: [1024, 512],
  dropout: [0.2, 0.2],
  epochs: 120,
  batchSize: 128,
  lr: 2e-3,
  weightDecay: 0.05,
  labelSmoothing: 0.1,
  shift: 1,
};

const LABEL = `784-${RECIPE.hidden.join('-')}-10, dropout ${RECIPE.dropout[0]}, shift ±${RECIPE.shift}`;

/** The targets: every seed, and the mean over three or more. */
const EACH = 0.902;
const MEAN = 0.905;
const BENCHMARK_MLP = 0.8833;

export const bestMlp = fashionExperiment('best-mlp', async (ctx, all) => {
  const data = subset(all, ctx.quick, 5000, 2000);
  const epochs = ctx.quick ? 1 : RECIPE.epochs;
  const seeds = Array.from({ length: ctx.seeds ?? 1 }, (_, i) => ctx.seed + i);
  const spec: TrainSpec = {
    epochs,
    batchSize: RECIPE.batchSize,
    optimizer: 'adamw',
    lr: RECIPE.lr,
    weightDecay: RECIPE.weightDecay,
    labelSmoothing: RECIPE.labelSmoothing,
    oneCycle: true,
  };
  const runs: { seed: number; run: TrainRun; minutes: number }[] = [];
  for (const seed of seeds) {
    const g = new Rng(seed);
    const t0 = performance.now();
    const transform = randomTranslate(RECIPE.shift);
    const run = await trainFashion(
      ctx,
      'best-mlp',
      seeds.length > 1 ? `${LABEL}, seed ${seed}` : LABEL,
      fashionMlp(RECIPE.hidden, RECIPE.dropout, g, 'default'),
      data,
      { ...spec, transform },
      g,
    );
    const minutes = (performance.now() - t0) / 60_000;
    ctx.log(
      `best-mlp: seed ${seed}: test accuracy ${formatNumber(run.testAccuracy)} in ${minutes.toFixed(1)} minutes`,
    );
    runs.push({ seed, run, minutes });
  }
  const accs = runs.map((r) => r.run.testAccuracy);
  const bySeed = runs
    .map((r) => `seed ${r.seed}: ${formatNumber(r.run.testAccuracy)} (${r.minutes.toFixed(1)} min)`)
    .join('; ');
  const checks: Check[] = ctx.quick
    ? [
        {
          name: `short run (1 epoch, ${images(data)}): the recipe runs end to end and learns — test accuracy ≥ 0.5; ≥ ${EACH} per seed is for the full ${RECIPE.epochs} epochs, keel experiment best-mlp`,
          passed: accs.every((a) => a >= 0.5),
          detail: bySeed,
        },
      ]
    : [
        {
          name: `test accuracy ≥ ${EACH} in every seed (the Fashion-MNIST benchmark's best MLP: ${BENCHMARK_MLP})`,
          passed: accs.every((a) => a >= EACH),
          detail: bySeed,
        },
        ...(seeds.length >= 3
          ? [
              {
                name: `mean test accuracy over ${seeds.length} seeds ≥ ${MEAN}`,
                passed: mean(accs) >= MEAN,
                detail: meanSd(accs),
              },
            ]
          : []),
      ];
  const plain = runs.map((r) => r.run);
  return {
    name: 'best-mlp',
    title: 'The best plain MLP on Fashion-MNIST',
    summary: [
      [
        seeds.length > 1 ? `test accuracy, mean ± sd of ${seeds.length} seeds` : 'test accuracy',
        seeds.length > 1 ? meanSd(accs) : formatNumber(accs[0]),
      ],
      ['by seed (minutes of training and evaluation)', bySeed],
      ['best MLP in the Fashion-MNIST benchmark', String(BENCHMARK_MLP)],
      ['epochs', String(epochs)],
      ['data', images(data)],
    ],
    checks,
    plots: curvePlots(
      'best-mlp',
      plain.map((r) => ({ label: r.label, epochs: r.epochs })),
    ),
    tables: [runTable(plain, 1)],
    result: {
      testAccuracy: mean(accs),
      seeds: runs.map((r) => ({
        seed: r.seed,
        testAccuracy: r.run.testAccuracy,
        trainAccuracy: r.run.trainEvalAccuracy,
        minutes: r.minutes,
        epochs: r.run.epochs,
      })),
    },
    settings: {
      model: `784-${RECIPE.hidden.join('-')}-10, ReLU, dropout ${RECIPE.dropout.join('/')}`,
      init: 'PyTorch default',
      optimizer: `AdamW, weight decay ${RECIPE.weightDecay} on weight matrices only`,
      lr: `${RECIPE.lr}, one-cycle`,
      labelSmoothing: RECIPE.labelSmoothing,
      augmentation: `shift by up to ${RECIPE.shift} px each way (zero fill), anew at every step`,
      batchSize: RECIPE.batchSize,
      epochs,
      seeds,
      ...imageCounts(data),
    },
    diverged: diverged(plain),
  };
});
