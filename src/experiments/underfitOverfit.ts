/**
 * D2L "Model selection, underfitting and overfitting": fit y = 5 + 1.2x − 3.4x²/2! + 5.6x³/3! + ε
 * with polynomial features xⁱ/i!. Degree 3 recovers the coefficients; degree 1 underfits (high
 * train and test loss); degree 20 trained on a handful of points overfits (train loss below test).
 */

import { TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { polynomialData } from '../data/synthetic.js';
import { mseLoss } from '../nn/functional/loss.js';
import { normal_ } from '../nn/init.js';
import { Linear } from '../nn/layers/linear.js';
import { narrow } from '../ops/shape.js';
import { SGD } from '../optim/optimizers.js';
import { linePlot, type Point } from '../report/plots.js';
import type { Tensor } from '../tensor/tensor.js';
import { evaluate, fit } from '../train/fit.js';
import { formatNumber } from '../util/number.js';
import { Rng } from '../util/random.js';
import { about } from './catalog.js';
import type { Check, Experiment, ExperimentContext, ExperimentResult } from './types.js';

interface FitResult {
  label: string;
  weights: number[];
  trainLoss: number;
  testLoss: number;
  curve: { epoch: number; trainLoss: number; testLoss: number }[];
}

async function fitPolynomial(
  ctx: ExperimentContext,
  label: string,
  features: number,
  trainX: Tensor,
  trainY: Tensor,
  testX: Tensor,
  testY: Tensor,
  epochs: number,
): Promise<FitResult> {
  const g = new Rng(ctx.seed + features);
  const model = new Linear(features, 1, { bias: false, generator: g });
  normal_(model.weight, 0, 0.01, { generator: g });
  const x = narrow(trainX, 1, 0, features);
  const xt = narrow(testX, 1, 0, features);
  const trainLoader = new DataLoader(new TensorDataset(x, trainY), {
    batchSize: Math.min(10, trainY.shape[0]),
    shuffle: true,
    generator: g,
  });
  const testLoader = new DataLoader(new TensorDataset(xt, testY), { batchSize: 100 });
  const curve: FitResult['curve'] = [];
  const every = Math.max(1, Math.floor(epochs / 40));
  await fit({
    model,
    signal: ctx.signal,
    optimizer: new SGD(model.parameters(), { lr: 0.01 }),
    train: trainLoader,
    epochs,
    loss: mseLoss,
    callbacks: [
      {
        onEpochEnd(r) {
          if (r.epoch % every === 0 || r.epoch === epochs) {
            const trainLoss = evaluate(
              model,
              new DataLoader(new TensorDataset(x, trainY), { batchSize: 100 }),
              mseLoss,
            ).loss;
            const testLoss = evaluate(model, testLoader, mseLoss).loss;
            curve.push({ epoch: r.epoch, trainLoss, testLoss });
            ctx.onMetrics({
              experiment: 'underfit-overfit',
              run: label,
              epoch: r.epoch,
              trainLoss,
              testLoss,
            });
          }
        },
      },
    ],
  });
  const last = curve[curve.length - 1];
  return {
    label,
    weights: Array.from(model.weight.readSync()),
    trainLoss: last.trainLoss,
    testLoss: last.testLoss,
    curve,
  };
}

export const underfitOverfit: Experiment = {
  ...about('underfit-overfit'),
  async run(ctx): Promise<ExperimentResult> {
    const epochs = 400; // under a second: the quick run is the full run
    const d = polynomialData({ maxDegree: 20, nTrain: 100, nTest: 100, seed: ctx.seed });
    const { trainFeatures: X, trainLabels: y, testFeatures: Xt, testLabels: yt } = d;
    ctx.log(`underfit-overfit: ${epochs} epochs of SGD (lr 0.01, batch 10) on 100 points per fit`);
    const cubic = await fitPolynomial(ctx, 'degree 3 (normal)', 4, X, y, Xt, yt, epochs);
    const linear = await fitPolynomial(ctx, 'degree 1 (underfit)', 2, X, y, Xt, yt, epochs);
    const few = 10;
    const high = await fitPolynomial(
      ctx,
      `degree 20, ${few} points (overfit)`,
      20,
      narrow(X, 0, 0, few),
      narrow(y, 0, 0, few),
      Xt,
      yt,
      epochs * 5,
    );
    const maxCoefError = Math.max(...d.trueCoefficients.map((c, i) => Math.abs(cubic.weights[i] - c)));
    const checks: Check[] = [
      {
        name: 'degree 3 recovers [5, 1.2, −3.4, 5.6] within 0.1',
        passed: maxCoefError < 0.1,
        detail: `max |error| ${formatNumber(maxCoefError)}; weights [${cubic.weights
          .slice(0, 4)
          .map((w) => w.toFixed(3))
          .join(', ')}]`,
      },
      {
        name: 'degree 1 underfits: higher train and test loss than degree 3',
        passed: linear.trainLoss > cubic.trainLoss && linear.testLoss > cubic.testLoss,
        detail: `train ${formatNumber(linear.trainLoss)} vs ${formatNumber(cubic.trainLoss)}, test ${formatNumber(linear.testLoss)} vs ${formatNumber(cubic.testLoss)}`,
      },
      {
        name: 'degree 20 on few points overfits: train loss below test loss',
        passed: high.trainLoss < high.testLoss,
        detail: `train ${formatNumber(high.trainLoss)}, test ${formatNumber(high.testLoss)}`,
      },
    ];
    const pts: Point[] = [];
    for (const r of [cubic, linear, high]) {
      for (const c of r.curve) {
        pts.push(
          { x: c.epoch, y: c.trainLoss, series: r.label, split: 'train' },
          { x: c.epoch, y: c.testLoss, series: r.label, split: 'test' },
        );
      }
    }
    return {
      name: 'underfit-overfit',
      title: 'Underfitting and overfitting (polynomial regression)',
      summary: [cubic, linear, high].map((r) => [
        r.label,
        `train ${formatNumber(r.trainLoss)} · test ${formatNumber(r.testLoss)}`,
      ]),
      checks,
      plots: [
        linePlot(pts, {
          id: 'underfit-overfit-loss',
          title: 'Train and test loss',
          xTitle: 'epoch',
          yTitle: 'MSE',
          logY: true,
          points: false,
          integerX: true,
        }),
      ],
      tables: [
        {
          title: 'Degree-3 coefficients',
          header: ['', 'x⁰', 'x¹', 'x²/2!', 'x³/3!'],
          rows: [
            ['true', ...d.trueCoefficients],
            ['learned', ...cubic.weights.slice(0, 4).map((w) => formatNumber(w))],
          ],
        },
      ],
      result: {
        cubic: { weights: cubic.weights.slice(0, 4), trainLoss: cubic.trainLoss, testLoss: cubic.testLoss },
        linear: { trainLoss: linear.trainLoss, testLoss: linear.testLoss },
        degree20: { points: few, trainLoss: high.trainLoss, testLoss: high.testLoss },
        maxCoefError,
      },
      settings: {
        data: 'y = 5 + 1.2x − 3.4x²/2! + 5.6x³/3! + ε, ε ~ N(0, 0.1²); features xⁱ/i! up to degree 20; 100 train and 100 test points',
        fits: ['degree 3 on 100 points', 'degree 1 on 100 points', `degree 20 on ${few} points`],
        optimizer: 'SGD',
        lr: 0.01,
        batchSize: 10,
        epochs: { 'degree 3': epochs, 'degree 1': epochs, 'degree 20': epochs * 5 },
      },
    };
  },
};
