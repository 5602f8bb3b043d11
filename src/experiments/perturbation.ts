/**
 * `perturbation`: robustness to perturbation, the chapter's argument for dropout (D2L §5.6; Bishop
 * 1995: training with input noise is Tikhonov regularization), with the regularizers side by side.
 * On a small Fashion-MNIST training set, where an MLP memorizes its images, the same network
 * (784-256-256-10, PyTorch's init, SGD with momentum) trains with nothing; weight decay; dropout;
 * input noise; augmentation (shift + flip); dropout + augmentation — over several seeds. It reports
 * the test accuracy and the train (eval mode) − test gaps per regularizer with their spread, the
 * curves, and each trained model's sensitivity to test-time input noise against σ (sensitivity.ts).
 * Checks: augmentation and input noise each narrow the accuracy gap against no regularization in
 * every seed; some perturbation beats weight decay alone on mean test accuracy; the model trained
 * with input noise moves its logits less under test-time noise than the plain one, at every σ > 0
 * in every seed. `quick` runs the same comparison smaller (fewer images, epochs and seeds), its
 * checks named as short runs.
 */
import { compose } from '../data/transforms/compose.js';
import { randomHorizontalFlip } from '../data/transforms/flip.js';
import { gaussianNoise } from '../data/transforms/noise.js';
import { randomTranslate } from '../data/transforms/translate.js';
import type { Transform } from '../data/transforms/types.js';
import { axisPlot, curvePlots, linePlot, type Plot, type Point } from '../report/plots.js';
import { formatNumber } from '../util/number.js';
import { Rng } from '../util/random.js';
import {
  cut,
  type Data,
  diverged,
  fashionExperiment,
  fashionMlp,
  type TrainRun,
  trainFashion,
} from './fashionTrainer.js';
import { noiseSensitivity, type SensitivityPoint } from './sensitivity.js';
import { mean, meanSd, sd } from './stats.js';
import type { Check, ExperimentContext, ExperimentResult } from './types.js';

/** The size of the comparison: full, or the short run of `quick` (and the tests). */
const SIZES = {
  full: { train: 2000, test: 10000, epochs: 100, seeds: 3, tail: 5 },
  quick: { train: 500, test: 2000, epochs: 40, seeds: 2, tail: 5 },
};

/** The training all regularizers share (the dropout experiment's small-data regime). */
const TRAINING = { batchSize: 64, lr: 0.02, momentum: 0.9 };

/** The settings of the regularizers. */
const WEIGHT_DECAY = 5e-3;
const DROPOUT = [0.2, 0.5];
const INPUT_NOISE = 0.3;
const SHIFT = 1;

/** Test-time input noise levels of the sensitivity curves (pixels are in [0, 1]). */
const SIGMAS = [0, 0.05, 0.1, 0.2, 0.3, 0.5];

/** One regularizer of the comparison. */
interface Arm {
  id: 'none' | 'weight decay' | 'dropout' | 'input noise' | 'augmentation' | 'dropout + augmentation';
  label: string;
  /** Whether it perturbs the input or the hidden units (the chapter's robustness to perturbation). */
  perturbation: boolean;
  dropout?: number[];
  weightDecay?: number;
  transform?: () => Transform;
}

const augmentation = () => compose(randomTranslate(SHIFT), randomHorizontalFlip(0.5));

const ARMS: Arm[] = [
  { id: 'none', label: 'no regularization', perturbation: false },
  {
    id: 'weight decay',
    label: `weight decay λ = ${WEIGHT_DECAY}`,
    perturbation: false,
    weightDecay: WEIGHT_DECAY,
  },
  { id: 'dropout', label: `dropout ${DROPOUT.join('/')}`, perturbation: true, dropout: DROPOUT },
  {
    id: 'input noise',
    label: `input noise σ = ${INPUT_NOISE}`,
    perturbation: true,
    transform: () => gaussianNoise(INPUT_NOISE),
  },
  {
    id: 'augmentation',
    label: `shift ±${SHIFT} px + flip`,
    perturbation: true,
    transform: augmentation,
  },
  {
    id: 'dropout + augmentation',
    label: `dropout ${DROPOUT.join('/')} + shift + flip`,
    perturbation: true,
    dropout: DROPOUT,
    transform: augmentation,
  },
];

/** One training of an arm: what it measured and how its model reacts to test-time noise. */
interface SeedRun {
  seed: number;
  run: TrainRun;
  sensitivity: SensitivityPoint[];
}

/** An arm over its seeds. */
interface ArmResult {
  arm: Arm;
  seeds: SeedRun[];
}

export const perturbation = fashionExperiment('perturbation', async (ctx, all): Promise<ExperimentResult> => {
  const size = ctx.quick ? SIZES.quick : SIZES.full;
  const data: Data = { train: cut(all.train, size.train), test: cut(all.test, size.test) };
  const seeds = Array.from({ length: ctx.seeds ?? size.seeds }, (_, i) => ctx.seed + i);
  const results: ArmResult[] = [];
  for (const arm of ARMS) results.push({ arm, seeds: [] });
  // Seed by seed, so that a short interruption still leaves every arm of the first seeds.
  for (const seed of seeds)
    for (const r of results) r.seeds.push(await trainArm(ctx, r.arm, seed, data, size));
  const by = (id: Arm['id']) => results.find((r) => r.arm.id === id) as ArmResult;
  const checks = perturbationChecks(by, seeds.length, size, ctx.quick);
  const runs = results.flatMap((r) => r.seeds.map((s) => s.run));
  return {
    name: 'perturbation',
    title: 'Robustness to perturbation: noise and augmentation as regularizers',
    summary: summaryRows(results, size),
    checks,
    plots: perturbationPlots(results, size),
    keyPlot: 'perturbation-sensitivity',
    tables: [armTable(results, size), sensitivityTable(results)],
    result: {
      sigmas: SIGMAS,
      arms: results.map((r) => ({
        id: r.arm.id,
        label: r.arm.label,
        testAccuracy: stat(r, (s) => s.run.testAccuracy),
        gap: stat(r, (s) => s.run.gap),
        lossGap: stat(r, (s) => s.run.lossGap),
        seeds: r.seeds.map((s) => ({
          seed: s.seed,
          testAccuracy: s.run.testAccuracy,
          trainAccuracy: s.run.trainEvalAccuracy,
          gap: s.run.gap,
          lossGap: s.run.lossGap,
          sensitivity: s.sensitivity,
        })),
      })),
    },
    settings: {
      model: '784-256-256-10, ReLU, PyTorch default init',
      optimizer: 'SGD with momentum',
      ...TRAINING,
      epochs: size.epochs,
      seeds,
      trainImages: data.train.labels.shape[0],
      testImages: data.test.labels.shape[0],
      regularizers: Object.fromEntries(ARMS.map((a) => [a.id, a.label])),
      weightDecay: `${WEIGHT_DECAY}, coupled (SGD's grad += λ·w), weight matrices only`,
      gapOver: `mean of the last ${size.tail} epochs, train accuracy in eval mode`,
      testNoiseSigmas: SIGMAS,
    },
    diverged: diverged(runs),
  };
});

/** Trains `arm` with `seed` and measures its sensitivity to test-time noise. */
async function trainArm(
  ctx: ExperimentContext,
  arm: Arm,
  seed: number,
  data: Data,
  size: (typeof SIZES)['full'],
): Promise<SeedRun> {
  const g = new Rng(seed);
  const model = fashionMlp([256, 256], arm.dropout ?? [0, 0], g, 'default');
  const run = await trainFashion(
    ctx,
    'perturbation',
    `${arm.label}, seed ${seed}`,
    model,
    data,
    {
      epochs: size.epochs,
      optimizer: 'sgd',
      ...TRAINING,
      weightDecay: arm.weightDecay,
      transform: arm.transform?.(),
      tailEpochs: size.tail,
      trainEvalEveryEpoch: true,
    },
    g,
  );
  const sensitivity = noiseSensitivity(model, data.test, SIGMAS, seed);
  for (const p of sensitivity)
    ctx.onMetrics({ experiment: 'perturbation', part: 'sensitivity', run: arm.label, seed, ...p });
  return { seed, run, sensitivity };
}

const stat = (r: ArmResult, f: (s: SeedRun) => number) => {
  const xs = r.seeds.map(f);
  return { mean: mean(xs), sd: sd(xs), values: xs };
};

/** The issue's targets as checks (a short run names itself so). */
function perturbationChecks(
  by: (id: Arm['id']) => ArmResult,
  seeds: number,
  size: (typeof SIZES)['full'],
  quick: boolean,
): Check[] {
  const short = quick
    ? `short run (${size.train} images, ${size.epochs} epochs, ${seeds} seeds; the full run has ${SIZES.full.train} images, ${SIZES.full.epochs} epochs, ${SIZES.full.seeds} seeds): `
    : '';
  const none = by('none');
  const narrows = (id: Arm['id']): Check => {
    const r = by(id);
    const pairs = r.seeds.map((s, i) => [s.run.gap, none.seeds[i].run.gap] as const);
    return {
      name: `${short}${r.arm.label} narrows the train − test accuracy gap against no regularization in every seed (mean of the last ${size.tail} epochs, train in eval mode)`,
      passed: pairs.every(([a, b]) => a < b),
      detail: pairs
        .map(([a, b], i) => `seed ${r.seeds[i].seed}: ${formatNumber(a)} vs ${formatNumber(b)}`)
        .join('; '),
    };
  };
  const decay = by('weight decay');
  const decayAcc = mean(decay.seeds.map((s) => s.run.testAccuracy));
  const perturbations = ARMS.filter((a) => a.perturbation).map((a) => by(a.id));
  const beating = perturbations.filter((r) => mean(r.seeds.map((s) => s.run.testAccuracy)) > decayAcc);
  const noisy = by('input noise');
  const calmer = noisy.seeds.map((s, i) =>
    s.sensitivity.every((p, j) => p.sigma === 0 || p.logitChange < none.seeds[i].sensitivity[j].logitChange),
  );
  return [
    narrows('augmentation'),
    narrows('input noise'),
    {
      name: `${short}at least one perturbation (dropout, input noise, augmentation, dropout + augmentation) beats weight decay alone on test accuracy (mean over seeds)`,
      passed: beating.length > 0,
      detail: `weight decay ${formatNumber(decayAcc)}; ${perturbations.map((r) => `${r.arm.label} ${formatNumber(mean(r.seeds.map((s) => s.run.testAccuracy)))}`).join(', ')}`,
    },
    {
      name: `${short}trained with input noise, the logits change less under test-time input noise than without regularization, at every σ > 0 in every seed`,
      passed: calmer.every(Boolean),
      detail: SIGMAS.filter((s) => s > 0)
        .map((sigma) => {
          const at = (r: ArmResult) =>
            mean(r.seeds.map((s) => s.sensitivity.find((p) => p.sigma === sigma)?.logitChange ?? Number.NaN));
          return `σ ${sigma}: ${formatNumber(at(noisy), 3)} vs ${formatNumber(at(none), 3)}`;
        })
        .join('; '),
    },
  ];
}

function summaryRows(results: ArmResult[], size: (typeof SIZES)['full']): [string, string][] {
  return [
    ...results.map((r): [string, string] => [
      `${r.arm.label}: test accuracy, train − test accuracy gap (mean ± sd)`,
      `${meanSd(r.seeds.map((s) => s.run.testAccuracy))}, ${meanSd(r.seeds.map((s) => s.run.gap))}`,
    ]),
    ['data', `${size.train} training images, ${size.test} test images, ${size.epochs} epochs`],
  ];
}

/** Curves (mean over seeds), the per-seed comparison, and the sensitivity curves. */
function perturbationPlots(results: ArmResult[], size: (typeof SIZES)['full']): Plot[] {
  const order = results.map((r) => r.arm.label);
  const curves = results.map((r) => ({
    label: r.arm.label,
    epochs: r.seeds[0].run.epochs.map((e, i) => {
      const avg = (f: (s: SeedRun) => number | undefined) => mean(r.seeds.map((s) => f(s) ?? Number.NaN));
      return {
        epoch: e.epoch,
        trainLoss: avg((s) => s.run.trainEval[i]?.loss),
        trainAccuracy: avg((s) => s.run.trainEval[i]?.accuracy),
        testLoss: avg((s) => s.run.epochs[i]?.testLoss),
        testAccuracy: avg((s) => s.run.epochs[i]?.testAccuracy),
      };
    }),
  }));
  const seeds = results[0].seeds.length;
  const per = (f: (s: SeedRun) => number) =>
    results.flatMap((r) => r.seeds.map((s) => ({ x: r.arm.label, y: f(s) })));
  const sens = (f: (p: SensitivityPoint) => number): Point[] =>
    results.flatMap((r) =>
      SIGMAS.map((sigma, j) => ({
        x: sigma,
        y: mean(r.seeds.map((s) => f(s.sensitivity[j]))),
        series: r.arm.label,
      })),
    );
  const common = { xTitle: 'σ of the test-time input noise', seriesOrder: order, xTicks: SIGMAS };
  return [
    linePlot(
      sens((p) => p.logitChange),
      {
        ...common,
        id: 'perturbation-sensitivity',
        title: 'How far the logits move under test-time input noise',
        yTitle: 'mean ‖f(x + ε) − f(x)‖₂',
        caption: `Each trained model on the ${size.test} test images plus N(0, σ²) noise (the same draws for every model), mean over ${seeds} seeds. Lower: the model is more robust to perturbation.`,
      },
    ),
    linePlot(
      sens((p) => p.accuracy),
      {
        ...common,
        id: 'perturbation-noisy-accuracy',
        title: 'Test accuracy under test-time input noise',
        yTitle: 'accuracy',
        caption: `Mean over ${seeds} seeds.`,
      },
    ),
    axisPlot(
      [
        { metric: 'test accuracy', points: per((s) => s.run.testAccuracy) },
        { metric: 'train − test accuracy', points: per((s) => s.run.gap) },
        { metric: 'test − train loss', points: per((s) => s.run.lossGap) },
      ],
      {
        id: 'perturbation-by-regularizer',
        title: `Each regularizer over ${seeds} seeds`,
        xTitle: 'regularizer',
        caption: `Every seed a point, mean ± sd as the line and bars; gaps are means of the last ${size.tail} epochs with the training set evaluated in eval mode.`,
      },
    ),
    ...curvePlots('perturbation', curves, {
      seriesOrder: order,
      about: `${size.train} training images, mean over ${seeds} seeds (train in eval mode)`,
    }),
  ];
}

function armTable(results: ArmResult[], size: (typeof SIZES)['full']) {
  const over = `mean of the last ${size.tail} epochs`;
  return {
    title: `Regularizers on ${size.train} images (mean ± sd over seeds)`,
    header: [
      'regularizer',
      'test accuracy',
      'train accuracy (eval mode)',
      `train − test accuracy (${over})`,
      `test − train loss (${over})`,
      'test accuracy by seed',
    ],
    rows: results.map((r) => [
      r.arm.label,
      meanSd(r.seeds.map((s) => s.run.testAccuracy)),
      meanSd(r.seeds.map((s) => s.run.trainEvalAccuracy)),
      meanSd(r.seeds.map((s) => s.run.gap)),
      meanSd(r.seeds.map((s) => s.run.lossGap)),
      r.seeds.map((s) => formatNumber(s.run.testAccuracy)).join(', '),
    ]),
  };
}

function sensitivityTable(results: ArmResult[]) {
  const shown = SIGMAS.filter((s) => s > 0);
  return {
    title: 'Mean logit change ‖f(x + ε) − f(x)‖₂ (accuracy) under test-time noise, mean over seeds',
    header: ['regularizer', ...shown.map((s) => `σ = ${s}`)],
    rows: results.map((r) => [
      r.arm.label,
      ...shown.map((sigma) => {
        const j = SIGMAS.indexOf(sigma);
        const change = mean(r.seeds.map((s) => s.sensitivity[j].logitChange));
        const acc = mean(r.seeds.map((s) => s.sensitivity[j].accuracy));
        return `${formatNumber(change, 3)} (${formatNumber(acc, 3)})`;
      }),
    ]),
  };
}
