/**
 * D2L "Numerical stability and initialization", measured: sigmoid vs ReLU gradients; the product
 * of 100 random 4×4 matrices exploding; per-layer gradient norms of a deep MLP (sigmoid and ReLU ×
 * N(0,1), N(0,0.01), Xavier, Kaiming) at initialization and after training, showing vanishing and
 * exploding gradients and their fix; symmetry (constant init keeps hidden units identical, random
 * init or dropout breaks it); and gradient clipping taming the exploding case.
 */

import { grad } from '../autograd/engine.js';
import { noGrad } from '../autograd/mode.js';
import { TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { spirals } from '../data/synthetic.js';
import { crossEntropy } from '../nn/functional/loss.js';
import { constant_, kaimingNormal_, normal_, xavierNormal_, zeros_ } from '../nn/init.js';
import { ReLU, Sigmoid } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/containers.js';
import { Linear } from '../nn/layers/linear.js';
import { Dropout } from '../nn/layers/regularization.js';
import type { Module } from '../nn/module.js';
import { relu, sigmoid } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { sum } from '../ops/reduce.js';
import { Adam, SGD } from '../optim/optimizers.js';
import { linePlot, type Point } from '../report/plots.js';
import { linspace, randn } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { fit } from '../train/fit.js';
import { formatNumber } from '../util/number.js';
import { Rng } from '../util/random.js';
import { about } from './catalog.js';
import type { Check, Experiment, ExperimentResult } from './types.js';

type InitName = 'N(0,1)' | 'N(0,0.01)' | 'xavier' | 'kaiming';
type Act = 'sigmoid' | 'relu';

function deepMlp(
  act: Act,
  init: InitName,
  depth: number,
  width: number,
  inputs: number,
  classes: number,
  g: Rng,
): Sequential {
  const layers: Module[] = [];
  for (let i = 0; i < depth; i++) {
    const l = new Linear(i === 0 ? inputs : width, i === depth - 1 ? classes : width, { generator: g });
    if (init === 'N(0,1)') normal_(l.weight, 0, 1, { generator: g });
    else if (init === 'N(0,0.01)') normal_(l.weight, 0, 0.01, { generator: g });
    else if (init === 'xavier') xavierNormal_(l.weight, 1, { generator: g });
    else kaimingNormal_(l.weight, { nonlinearity: 'relu', generator: g });
    zeros_(l.bias as Tensor);
    layers.push(l);
    if (i < depth - 1) layers.push(act === 'sigmoid' ? new Sigmoid() : new ReLU());
  }
  return new Sequential(...layers);
}

/** Gradient norm of each Linear weight, first layer first. */
function layerGradNorms(model: Sequential, X: Tensor, y: Tensor): number[] {
  model.zeroGrad();
  crossEntropy(model.forward(X), y).backward();
  return model.layers
    .filter((m): m is Linear => m instanceof Linear)
    .map((l) =>
      Math.sqrt(noGrad(() => sum(l.weight.grad ? l.weight.grad.square() : l.weight.mul(0)).item())),
    );
}

function spiralData(n: number, seed: number) {
  const s = spirals(n, 3, 0.05, seed);
  return { X: s.X, y: s.y };
}

export const stability: Experiment = {
  ...about('stability'),
  async run(ctx): Promise<ExperimentResult> {
    const checks: Check[] = [];
    const plots = [];
    const summary: [string, string][] = [];
    const g = new Rng(ctx.seed);

    // 1. sigmoid vs ReLU derivatives.
    const x = linspace(-8, 8, 161).requiresGrad_();
    const [ds] = grad(sum(sigmoid(x)), x) as Tensor[];
    const [dr] = grad(sum(relu(x)), x) as Tensor[];
    const xs = Array.from(x.readSync());
    const dsv = Array.from(ds.readSync());
    const drv = Array.from(dr.readSync());
    const actPts: Point[] = xs.flatMap((v, i) => [
      { x: v, y: dsv[i], series: "sigmoid'" },
      { x: v, y: drv[i], series: "ReLU'" },
    ]);
    plots.push(
      linePlot(actPts, {
        id: 'stability-activation-grads',
        title: 'Derivatives of sigmoid and ReLU',
        xTitle: 'x',
        yTitle: 'derivative',
        points: false,
      }),
    );
    const sigMax = Math.max(...dsv);
    const sigTail = dsv[0];
    checks.push({
      name: "sigmoid' ≤ 0.25 and vanishes for |x| large; ReLU' is 0 or 1",
      passed: sigMax <= 0.25 + 1e-6 && sigTail < 1e-3 && drv.every((v) => v === 0 || v === 1),
      detail: `max sigmoid' ${formatNumber(sigMax)}, sigmoid'(−8) ${formatNumber(sigTail)}`,
    });

    // 2. Product of 100 random 4×4 matrices.
    let M = randn([4, 4], { generator: g, dtype: 'float64' });
    const norms: Point[] = [];
    for (let i = 1; i < 100; i++) {
      M = matmul(M, randn([4, 4], { generator: g, dtype: 'float64' }));
      norms.push({ x: i + 1, y: Math.sqrt(sum(M.square()).item()), series: '‖M₁⋯Mₖ‖_F' });
    }
    const prodNorm = norms[norms.length - 1].y;
    plots.push(
      linePlot(norms, {
        id: 'stability-matrix-product',
        title: 'Norm of a product of k random 4×4 N(0,1) matrices',
        xTitle: 'k',
        yTitle: 'Frobenius norm',
        integerX: true,
        logY: true,
        points: false,
      }),
    );
    checks.push({
      name: 'product of 100 random 4×4 matrices explodes (about 1e20–1e30)',
      passed: prodNorm > 1e18 && prodNorm < 1e32,
      detail: `‖product‖_F = ${prodNorm.toExponential(2)}`,
    });
    summary.push(['‖product of 100 random 4×4 matrices‖', prodNorm.toExponential(2)]);

    // 3. Deep MLP: per-layer gradient norms at init and after training.
    const depth = 10;
    const width = ctx.quick ? 32 : 64;
    const train = spiralData(ctx.quick ? 300 : 900, ctx.seed);
    /** The training points in shuffled batches of 32, drawn with `g`. */
    const trainBatches = (g: Rng) =>
      new DataLoader(new TensorDataset(train.X, train.y), { batchSize: 32, shuffle: true, generator: g });
    const test = spiralData(300, ctx.seed + 1);
    const epochs = ctx.quick ? 5 : 30;
    const configs: [Act, InitName][] = [
      ['sigmoid', 'N(0,1)'],
      ['sigmoid', 'N(0,0.01)'],
      ['sigmoid', 'xavier'],
      ['relu', 'N(0,1)'],
      ['relu', 'N(0,0.01)'],
      ['relu', 'kaiming'],
    ];
    const rows: (string | number)[][] = [];
    // The same colour for a setting in both gradient-norm plots.
    const seriesOrder = configs.map(([act, init]) => `${act}, ${init}`);
    const initPts: Point[] = [];
    const trainedPts: Point[] = [];
    const byConfig: Record<
      string,
      { init: number[]; trained: number[]; testAccuracy: number; finalLoss: number }
    > = {};
    for (const [act, init] of configs) {
      const label = `${act}, ${init}`;
      const model = deepMlp(act, init, depth, width, 2, 3, new Rng(ctx.seed + 7));
      const atInit = layerGradNorms(model, train.X, train.y);
      const h = await fit({
        model,
        signal: ctx.signal,
        optimizer: new Adam(model.parameters(), { lr: 3e-3 }),
        train: trainBatches(new Rng(ctx.seed)),
        test: new DataLoader(new TensorDataset(test.X, test.y), { batchSize: 300 }),
        epochs,
      });
      const after = layerGradNorms(model, train.X, train.y);
      const last = h.epochs[h.epochs.length - 1];
      byConfig[label] = {
        init: atInit,
        trained: after,
        testAccuracy: last.testAccuracy ?? 0,
        finalLoss: last.trainLoss,
      };
      atInit.forEach((v, i) => {
        initPts.push({ x: i + 1, y: v, series: label });
      });
      after.forEach((v, i) => {
        trainedPts.push({ x: i + 1, y: v, series: label });
      });
      rows.push([
        label,
        formatNumber(atInit[0]),
        formatNumber(atInit[depth - 1]),
        formatNumber(atInit[0] / atInit[depth - 1]),
        formatNumber(last.trainLoss),
        formatNumber(last.testAccuracy ?? 0),
      ]);
      ctx.onMetrics({
        experiment: 'stability',
        config: label,
        gradNormsAtInit: atInit,
        gradNormsAfter: after,
        testAccuracy: last.testAccuracy,
        trainLoss: last.trainLoss,
      });
    }
    plots.push(
      linePlot(initPts, {
        id: 'stability-grad-norms-init',
        title: `Per-layer gradient norms at initialization (${depth} layers)`,
        xTitle: 'layer',
        yTitle: '‖∂L/∂W‖',
        logY: true,
        integerX: true,
        seriesOrder,
      }),
    );
    plots.push(
      linePlot(trainedPts, {
        id: 'stability-grad-norms-trained',
        title: `Per-layer gradient norms after ${epochs} epochs`,
        xTitle: 'layer',
        yTitle: '‖∂L/∂W‖',
        logY: true,
        integerX: true,
        seriesOrder,
      }),
    );
    const ratio = (l: string) => byConfig[l].init[0] / byConfig[l].init[depth - 1];
    checks.push({
      name: 'sigmoid with N(0,1): gradients vanish toward the first layer (first < 1/20 of last)',
      passed: ratio('sigmoid, N(0,1)') < 0.05,
      detail: `first/last layer gradient norm ${ratio('sigmoid, N(0,1)').toExponential(2)}`,
    });
    const reluSmall = Math.max(...byConfig['relu, N(0,0.01)'].init);
    checks.push({
      name: 'N(0,0.01): gradients vanish (sigmoid: toward the first layer; ReLU: in every layer)',
      passed: ratio('sigmoid, N(0,0.01)') < 1e-2 && reluSmall < 1e-6,
      detail: `sigmoid first/last ${ratio('sigmoid, N(0,0.01)').toExponential(2)}; ReLU largest layer norm ${reluSmall.toExponential(2)}`,
    });
    const reluBig = byConfig['relu, N(0,1)'];
    checks.push({
      name: 'ReLU with N(0,1): gradients explode (norms ≫ 1)',
      passed: Math.max(...reluBig.init) > 1e3 || !reluBig.init.every(Number.isFinite),
      detail: `largest layer gradient norm ${Math.max(...reluBig.init).toExponential(2)}`,
    });
    checks.push({
      name: 'Kaiming (ReLU) keeps first/last gradient norms within 100×',
      passed: ratio('relu, kaiming') > 1e-2 && ratio('relu, kaiming') < 1e2,
      detail: `ratio ${formatNumber(ratio('relu, kaiming'))}`,
    });
    const kaimingAcc = byConfig['relu, kaiming'].testAccuracy;
    const badAcc = byConfig['sigmoid, N(0,0.01)'].testAccuracy;
    checks.push({
      name: 'the fixed initialization trains better than a vanishing one',
      passed: kaimingAcc > badAcc,
      detail: `test accuracy ReLU+Kaiming ${formatNumber(kaimingAcc)} vs sigmoid+N(0,0.01) ${formatNumber(badAcc)}`,
    });

    // 4. Symmetry: constant init keeps hidden units identical; random init or dropout breaks it.
    const symmetry = async (initConst: boolean, dropout: number): Promise<number> => {
      const sg = new Rng(ctx.seed + 3);
      const l1 = new Linear(2, 16, { generator: sg });
      const l2 = new Linear(16, 3, { generator: sg });
      if (initConst) {
        for (const l of [l1, l2]) {
          constant_(l.weight, 0.1);
          zeros_(l.bias as Tensor);
        }
      }
      const layers: Module[] = [l1, new ReLU()];
      if (dropout > 0) layers.push(new Dropout(dropout, new Rng(ctx.seed + 4)));
      layers.push(l2);
      const model = new Sequential(...layers);
      await fit({
        model,
        signal: ctx.signal,
        optimizer: new SGD(model.parameters(), { lr: 0.1 }),
        train: trainBatches(sg),
        epochs: ctx.quick ? 2 : 5,
      });
      // Largest difference between any hidden unit's incoming weights and unit 0's.
      const w = l1.weight.toArray() as number[][];
      return Math.max(...w.map((row) => Math.max(...row.map((v, j) => Math.abs(v - w[0][j])))));
    };
    const constSpread = await symmetry(true, 0);
    const randSpread = await symmetry(false, 0);
    const dropSpread = await symmetry(true, 0.5);
    checks.push({
      name: 'constant init: hidden units stay identical after training',
      passed: constSpread === 0,
      detail: `max difference between units ${constSpread}`,
    });
    checks.push({
      name: 'random init or dropout breaks the symmetry',
      passed: randSpread > 1e-3 && dropSpread > 1e-6,
      detail: `random init ${formatNumber(randSpread)}, constant init + dropout ${formatNumber(dropSpread)}`,
    });

    // 5. Gradient clipping tames the exploding case: without it the loss turns NaN and fit stops
    // there with a diagnosis; with it every step stays finite and the loss falls.
    const clipSteps = async (clip: number | undefined) => {
      const model = deepMlp('relu', 'N(0,1)', depth, width, 2, 3, new Rng(ctx.seed + 7));
      const losses: number[] = [];
      const h = await fit({
        model,
        signal: ctx.signal,
        optimizer: new SGD(model.parameters(), { lr: 0.01 }),
        train: trainBatches(new Rng(ctx.seed)),
        epochs: ctx.quick ? 2 : 5,
        clipGradNorm: clip,
        callbacks: [{ onBatchEnd: (b) => void losses.push(b.loss) }],
      });
      // The diverged step is not a completed step; its loss is the divergence's.
      if (h.divergence) losses.push(h.divergence.loss);
      return { losses, divergence: h.divergence };
    };
    const raw = await clipSteps(undefined);
    const clip = await clipSteps(1);
    const clipPts: Point[] = [
      ...raw.losses.map((v, i) => ({ x: i + 1, y: v, series: 'no clipping' })),
      ...clip.losses.map((v, i) => ({ x: i + 1, y: v, series: 'clipGradNorm 1' })),
    ];
    plots.push(
      linePlot(clipPts, {
        id: 'stability-clipping',
        title: 'ReLU + N(0,1), 10 layers: training loss per step, with and without clipping',
        xTitle: 'step',
        yTitle: 'train loss',
        logY: true,
        points: false,
        integerX: true,
        caption: raw.divergence
          ? `Without clipping fit stops at step ${raw.divergence.step}: ${raw.divergence.diagnosis}.`
          : undefined,
      }),
    );
    // Single steps are noisy (a batch can be all right, loss 0): compare the first and last tenths.
    const tenth = Math.max(1, Math.floor(clip.losses.length / 10));
    const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const clipFirst = meanOf(clip.losses.slice(0, tenth));
    const clipLast = meanOf(clip.losses.slice(-tenth));
    const rawDiv = raw.divergence;
    checks.push({
      name: 'without clipping the exploding net diverges (its loss explodes or turns NaN, and fit stops there)',
      passed: rawDiv !== undefined,
      detail: rawDiv
        ? `stopped at step ${rawDiv.step} (loss ${formatNumber(rawDiv.loss)}): ${rawDiv.diagnosis}`
        : `no divergence in ${raw.losses.length} steps (final loss ${formatNumber(raw.losses[raw.losses.length - 1])})`,
    });
    checks.push({
      name: 'with clipGradNorm 1 every step stays finite and the loss falls (mean of the first vs the last tenth of the steps)',
      passed: !clip.divergence && clip.losses.every(Number.isFinite) && clipLast < clipFirst,
      detail: `${clip.losses.length} steps, loss ${formatNumber(clipFirst)} → ${formatNumber(clipLast)}`,
    });
    summary.push(
      ['constant-init unit spread', String(constSpread)],
      [
        'loss with clipping, first → last tenth of the steps',
        `${formatNumber(clipFirst)} → ${formatNumber(clipLast)}`,
      ],
      [
        'without clipping',
        rawDiv ? `diverged at step ${rawDiv.step} (loss ${formatNumber(rawDiv.loss)})` : 'no divergence',
      ],
    );
    for (const r of rows) summary.push([`${r[0]}`, `first/last grad ratio ${r[3]}, test acc ${r[5]}`]);

    return {
      name: 'stability',
      title: 'Numerical stability and initialization',
      summary,
      checks,
      plots,
      keyPlot: 'stability-grad-norms-init',
      tables: [
        {
          title: `Deep MLP (${depth} linear layers, width ${width}, spirals, ${epochs} epochs)`,
          header: [
            'activation, init',
            '‖∂L/∂W₁‖ at init',
            `‖∂L/∂W${depth}‖ at init`,
            'first/last',
            'final train loss',
            'test accuracy',
          ],
          rows,
        },
      ],
      result: {
        sigmoidGradMax: sigMax,
        matrixProductNorm: prodNorm,
        deepMlp: byConfig,
        symmetry: { constSpread, randSpread, dropSpread },
        clipping: { clipped: clip.losses, unclipped: raw.losses, divergence: raw.divergence ?? null },
      },
      settings: {
        deepMlp: {
          layers: depth,
          width,
          data: `3-class spirals, ${train.X.shape[0]} train / 300 test points`,
          optimizer: 'Adam',
          lr: 3e-3,
          batchSize: 32,
          epochs,
        },
        inits: configs.map(([a, i]) => `${a}, ${i}`),
        symmetry: {
          model: '2-16-3, ReLU',
          optimizer: 'SGD',
          lr: 0.1,
          epochs: ctx.quick ? 2 : 5,
          dropout: 0.5,
        },
        clipping: {
          model: `ReLU, N(0,1), ${depth} layers`,
          optimizer: 'SGD',
          lr: 0.01,
          clipGradNorm: 1,
          epochs: ctx.quick ? 2 : 5,
        },
      },
    };
  },
};
