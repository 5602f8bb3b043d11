/**
 * D2L "Weight decay": linear regression with d = 200 inputs and 20 training points (y = 0.05 +
 * Σ 0.01·xᵢ + ε), batch 5, 100 epochs, lr 0.003, w ~ N(0, 1). Without decay the weights stay large
 * (‖w‖ ≈ 13) and the test loss far exceeds the training loss; λ = 3 shrinks ‖w‖ below 0.6 and lowers
 * the test loss. Done three ways: from scratch with the loss penalty λ·½‖w‖², with the optimizer's
 * weight decay on a parameter group (bias not decayed), and with L1 and the proximal step (exact
 * zeros). A sweep over λ draws ‖w‖ and the losses against λ.
 */

import { noGrad } from '../autograd/mode.js';
import { DataLoader } from '../data/loader.js';
import { weightDecayData } from '../data/synthetic.js';
import { l2Penalty, mseLoss } from '../nn/functional/loss.js';
import { normal_, zeros_ } from '../nn/init.js';
import { Linear } from '../nn/layers/linear.js';
import { add, mul, square, sub } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { mean, sum } from '../ops/reduce.js';
import { decayGroups } from '../optim/groups.js';
import { SGD } from '../optim/optimizers.js';
import { linePlot, type Point } from '../report/plots.js';
import { randn, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatNumber } from '../util/number.js';
import { Rng } from '../util/random.js';
import { about } from './catalog.js';
import type { Check, Experiment, ExperimentContext, ExperimentResult } from './types.js';

const EPOCHS = 100;
const LR = 0.003;
const BATCH = 5;

interface Run {
  how: string;
  lambda: number;
  wNorm: number;
  trainLoss: number;
  testLoss: number;
  zeros?: number;
  curve: { epoch: number; trainLoss: number; testLoss: number }[];
}

/** ½·mean squared error of a linear model (D2L's squared_loss). */
function halfMse(X: Tensor, y: Tensor, w: Tensor, b: Tensor): Tensor {
  return mul(mean(square(sub(add(matmul(X, w), b), y))), 0.5);
}

function norm(w: Tensor): number {
  return Math.sqrt(noGrad(() => sum(square(w)).item()));
}

/** From scratch: loss + λ·½‖w‖², plain SGD on [w, b]. */
function scratch(ctx: ExperimentContext, lambda: number, data: ReturnType<typeof weightDecayData>): Run {
  const g = new Rng(ctx.seed + 1);
  const w = randn([200, 1], { generator: g }).requiresGrad_();
  const b = zeros([1]).requiresGrad_();
  const opt = new SGD([w, b], { lr: LR });
  const loader = new DataLoader(data.train, { batchSize: BATCH, shuffle: true, generator: g });
  const [Xtr, ytr] = data.train.tensors;
  const [Xte, yte] = data.test.tensors;
  const curve: Run['curve'] = [];
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    for (const [X, y] of loader) {
      opt.zeroGrad();
      add(halfMse(X, y, w, b), mul(l2Penalty(w), lambda)).backward();
      opt.step();
    }
    if (epoch % 5 === 0) {
      const trainLoss = noGrad(() => halfMse(Xtr, ytr, w, b).item());
      const testLoss = noGrad(() => halfMse(Xte, yte, w, b).item());
      curve.push({ epoch, trainLoss, testLoss });
      ctx.onMetrics({
        experiment: 'weight-decay',
        run: `loss penalty, λ = ${lambda}`,
        how: 'scratch',
        lambda,
        epoch,
        trainLoss,
        testLoss,
        wNorm: norm(w),
      });
    }
  }
  const last = curve[curve.length - 1];
  return {
    how: 'loss penalty',
    lambda,
    wNorm: norm(w),
    trainLoss: last.trainLoss,
    testLoss: last.testLoss,
    curve,
  };
}

/** Concise: nn.Linear and SGD with weight decay on the weight group only (the bias is not decayed). */
function concise(
  ctx: ExperimentContext,
  lambda: number,
  data: ReturnType<typeof weightDecayData>,
  l1 = false,
): Run {
  const g = new Rng(ctx.seed + 2);
  const net = new Linear(200, 1, { generator: g });
  normal_(net.weight, 0, 1, { generator: g });
  zeros_(net.bias as Tensor);
  const groups = decayGroups(net.namedParameters(), { weightDecay: lambda });
  const opt = new SGD(groups, { lr: LR, ...(l1 ? { penalty: 'l1' as const, proximal: true } : {}) });
  const loader = new DataLoader(data.train, { batchSize: BATCH, shuffle: true, generator: g });
  const [Xtr, ytr] = data.train.tensors;
  const [Xte, yte] = data.test.tensors;
  const half = (X: Tensor, y: Tensor) => mul(mseLoss(net.forward(X), y), 0.5);
  const curve: Run['curve'] = [];
  const how = l1 ? 'L1, proximal (optimizer)' : 'optimizer group';
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    for (const [X, y] of loader) {
      opt.zeroGrad();
      half(X, y).backward();
      opt.step();
    }
    if (epoch % 5 === 0) {
      const trainLoss = noGrad(() => half(Xtr, ytr).item());
      const testLoss = noGrad(() => half(Xte, yte).item());
      curve.push({ epoch, trainLoss, testLoss });
      ctx.onMetrics({
        experiment: 'weight-decay',
        run: `${how}, λ = ${lambda}`,
        how,
        lambda,
        epoch,
        trainLoss,
        testLoss,
        wNorm: norm(net.weight),
      });
    }
  }
  const last = curve[curve.length - 1];
  const zerosCount = Array.from(net.weight.readSync()).filter((v) => v === 0).length;
  return {
    how,
    lambda,
    wNorm: norm(net.weight),
    trainLoss: last.trainLoss,
    testLoss: last.testLoss,
    zeros: zerosCount,
    curve,
  };
}

export const weightDecay: Experiment = {
  ...about('weight-decay'),
  async run(ctx): Promise<ExperimentResult> {
    const data = weightDecayData({ d: 200, nTrain: 20, nTest: 100, seed: ctx.seed });
    ctx.log(`weight-decay: d = 200, 20 training points, batch ${BATCH}, ${EPOCHS} epochs, lr ${LR}`);
    const s0 = scratch(ctx, 0, data);
    const s3 = scratch(ctx, 3, data);
    const c0 = concise(ctx, 0, data);
    const c3 = concise(ctx, 3, data);
    const l1 = concise(ctx, 1, data, true);
    const lambdas = ctx.quick ? [0, 1, 3, 10] : [0, 0.5, 1, 2, 3, 5, 10, 20];
    const sweep = lambdas.map((l) => (l === 0 ? s0 : l === 3 ? s3 : scratch(ctx, l, data)));
    const runs = [s0, s3, c0, c3, l1];
    const checks: Check[] = [
      {
        name: 'λ = 0: ‖w‖₂ in 10–16 (loss penalty)',
        passed: s0.wNorm >= 10 && s0.wNorm <= 16,
        detail: `‖w‖ = ${formatNumber(s0.wNorm)}`,
      },
      {
        name: 'λ = 0: test loss far above train loss',
        passed: s0.testLoss > 10 * s0.trainLoss,
        detail: `train ${formatNumber(s0.trainLoss)}, test ${formatNumber(s0.testLoss)}`,
      },
      {
        name: 'λ = 3: ‖w‖₂ < 0.6 (loss penalty)',
        passed: s3.wNorm < 0.6,
        detail: `‖w‖ = ${formatNumber(s3.wNorm)}`,
      },
      {
        name: 'λ = 3: lower test loss than λ = 0 (loss penalty)',
        passed: s3.testLoss < s0.testLoss,
        detail: `${formatNumber(s3.testLoss)} vs ${formatNumber(s0.testLoss)}`,
      },
      {
        name: 'optimizer groups (bias not decayed): λ = 0 ‖w‖ in 10–16, λ = 3 ‖w‖ < 0.6',
        passed: c0.wNorm >= 10 && c0.wNorm <= 16 && c3.wNorm < 0.6,
        detail: `‖w‖ ${formatNumber(c0.wNorm)} → ${formatNumber(c3.wNorm)}`,
      },
      {
        name: 'optimizer groups: λ = 3 lowers the test loss',
        passed: c3.testLoss < c0.testLoss,
        detail: `${formatNumber(c3.testLoss)} vs ${formatNumber(c0.testLoss)}`,
      },
      {
        name: 'L1 with the proximal step gives exact zeros',
        passed: (l1.zeros ?? 0) > 0,
        detail: `${l1.zeros} of 200 weights exactly 0`,
      },
    ];
    const curvePts: Point[] = [];
    for (const r of [s0, s3]) {
      for (const c of r.curve)
        curvePts.push(
          { x: c.epoch, y: c.trainLoss, series: `λ = ${r.lambda}`, split: 'train' },
          { x: c.epoch, y: c.testLoss, series: `λ = ${r.lambda}`, split: 'test' },
        );
    }
    const normPts: Point[] = sweep.map((r) => ({ x: r.lambda, y: r.wNorm, series: '‖w‖₂' }));
    const lossPts: Point[] = sweep.flatMap((r) => [
      { x: r.lambda, y: r.trainLoss, series: 'loss penalty λ·½‖w‖²', split: 'train' },
      { x: r.lambda, y: r.testLoss, series: 'loss penalty λ·½‖w‖²', split: 'test' },
    ]);
    return {
      name: 'weight-decay',
      title: 'Weight decay (d = 200, 20 training points)',
      summary: runs.map((r) => [
        `${r.how}, λ = ${r.lambda}`,
        `‖w‖ ${formatNumber(r.wNorm)} · train ${formatNumber(r.trainLoss)} · test ${formatNumber(r.testLoss)}${r.zeros !== undefined ? ` · ${r.zeros} zeros` : ''}`,
      ]),
      checks,
      plots: [
        linePlot(curvePts, {
          id: 'weight-decay-curves',
          title: 'Train and test loss, λ = 0 vs λ = 3',
          xTitle: 'epoch',
          yTitle: '½·MSE',
          logY: true,
          points: false,
          integerX: true,
        }),
        linePlot(normPts, {
          id: 'weight-decay-norm',
          title: '‖w‖₂ after training against λ',
          xTitle: 'λ',
          yTitle: '‖w‖₂',
          logY: true,
          logX: true,
          xTicks: lambdas,
        }),
        linePlot(lossPts, {
          id: 'weight-decay-loss',
          title: 'Final losses against λ',
          xTitle: 'λ',
          yTitle: '½·MSE',
          logY: true,
          logX: true,
          xTicks: lambdas,
        }),
      ],
      tables: [
        {
          title: 'Runs',
          header: ['how', 'λ', '‖w‖₂', 'train loss', 'test loss', 'zeros'],
          rows: runs.map((r) => [
            r.how,
            r.lambda,
            formatNumber(r.wNorm),
            formatNumber(r.trainLoss),
            formatNumber(r.testLoss),
            r.zeros ?? '',
          ]),
        },
      ],
      result: {
        runs: runs.map(({ curve: _c, ...r }) => r),
        sweep: sweep.map((r) => ({
          lambda: r.lambda,
          wNorm: r.wNorm,
          trainLoss: r.trainLoss,
          testLoss: r.testLoss,
        })),
      },
      settings: {
        data: 'y = 0.05 + Σ 0.01·xᵢ + ε, d = 200, 20 training and 100 test points',
        model: 'linear, w ~ N(0, 1)',
        optimizer: 'SGD',
        lr: LR,
        batchSize: BATCH,
        epochs: EPOCHS,
        lambdas,
      },
    };
  },
};
