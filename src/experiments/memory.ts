/**
 * D2L "Forward propagation, backward propagation and computational graphs": the memory training
 * keeps for backward vs prediction, measured on the dropout MLP (784-256-256-10) at batch 256, and
 * how it grows with batch size and depth. Needs no data: the graph depends on shapes only.
 */
import { graphStats } from '../autograd/export.js';
import { noGrad } from '../autograd/mode.js';
import { crossEntropy } from '../nn/functional/loss.js';
import { linePlot, type Point } from '../report/plots.js';
import { randn, zeros } from '../tensor/create.js';
import { bytesPerElement } from '../util/dtype.js';
import { Rng } from '../util/random.js';
import { about } from './catalog.js';
import { fashionMlp } from './fashionTrainer.js';
import type { Check, Experiment, ExperimentResult } from './types.js';

export const memory: Experiment = {
  ...about('memory'),
  async run(ctx): Promise<ExperimentResult> {
    const g = new Rng(ctx.seed);
    const measure = (batch: number, hidden: number[]) => {
      const model = fashionMlp(
        hidden,
        hidden.map((_, i) => (i === 0 ? 0.2 : 0.5)),
        g,
      );
      const x = randn([batch, 784], { generator: g });
      const y = zeros([batch], { dtype: 'int32' });
      const trainLoss = crossEntropy(model.forward(x), y);
      const stats = graphStats(trainLoss);
      model.eval();
      const predict = noGrad(() => crossEntropy(model.forward(x), y));
      const params = model.parameters().reduce((s, p) => s + p.size * bytesPerElement(p.dtype), 0);
      return {
        batch,
        depth: hidden.length,
        saved: stats.savedBytes,
        activations: stats.activationBytes,
        predict: graphStats(predict).savedBytes,
        params,
        nodes: stats.nodes,
      };
    };
    const main = measure(256, [256, 256]);
    const batches = (ctx.quick ? [32, 64, 128, 256] : [16, 32, 64, 128, 256, 512, 1024]).map((b) =>
      measure(b, [256, 256]),
    );
    const depths = (ctx.quick ? [1, 2, 4] : [1, 2, 3, 4, 6, 8]).map((d) =>
      measure(256, new Array(d).fill(256)),
    );
    for (const r of [...batches, ...depths]) ctx.onMetrics({ experiment: 'memory', ...r });
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
    // Growth per extra sample (and per extra layer) between consecutive measurements: constant when
    // memory is affine in batch size (a few bytes of scalars do not depend on the batch).
    const perSampleSteps = batches
      .slice(1)
      .map((r, i) => (r.activations - batches[i].activations) / (r.batch - batches[i].batch));
    const perSample = perSampleSteps[0];
    const linearInBatch = perSampleSteps.every((v) => Math.abs(v - perSample) < 1e-9);
    const perLayer = depths
      .slice(1)
      .map((r, i) => (r.activations - depths[i].activations) / (r.depth - depths[i].depth));
    const linearInDepth = perLayer.every((v) => Math.abs(v - perLayer[0]) < 1e-9);
    const checks: Check[] = [
      {
        name: 'training keeps memory for backward, prediction keeps none',
        passed: main.saved > 0 && main.predict === 0,
        detail: `training ${mb(main.saved)} (activations ${mb(main.activations)}), prediction ${mb(main.predict)}`,
      },
      {
        name: 'activation memory grows linearly with batch size',
        passed: linearInBatch,
        detail: `${(perSample / 1024).toFixed(2)} KiB more per extra sample, at every batch size`,
      },
      {
        name: 'activation memory grows linearly with depth',
        passed: linearInDepth,
        detail: `${mb(perLayer[0] ?? 0)} per extra hidden layer at batch 256`,
      },
    ];
    const bPts: Point[] = batches.flatMap((r) => [
      { x: r.batch, y: r.activations / 2 ** 20, series: 'activations kept for backward' },
      { x: r.batch, y: r.params / 2 ** 20, series: 'parameters' },
    ]);
    const dPts: Point[] = depths.map((r) => ({
      x: r.depth,
      y: r.activations / 2 ** 20,
      series: 'activations kept for backward',
    }));
    return {
      name: 'memory',
      title: 'Memory: training vs prediction',
      summary: [
        ['dropout MLP 784-256-256-10, batch 256: kept for backward', mb(main.saved)],
        ['of which activations (not parameters or inputs)', mb(main.activations)],
        ['kept for backward in prediction (noGrad)', mb(main.predict)],
        ['parameters', mb(main.params)],
      ],
      checks,
      plots: [
        linePlot(bPts, {
          id: 'memory-batch',
          title: 'Memory kept for backward against batch size',
          xTitle: 'batch size',
          yTitle: 'MiB',
          integerX: true,
        }),
        linePlot(dPts, {
          id: 'memory-depth',
          title: 'Activation memory against depth (batch 256)',
          xTitle: 'hidden layers',
          yTitle: 'MiB',
          integerX: true,
          xTicks: depths.map((r) => r.depth),
        }),
      ],
      tables: [
        {
          title: 'Measurements',
          header: ['batch', 'hidden layers', 'kept for backward', 'activations', 'prediction', 'graph nodes'],
          rows: [...batches, ...depths].map((r) => [
            r.batch,
            r.depth,
            mb(r.saved),
            mb(r.activations),
            mb(r.predict),
            r.nodes,
          ]),
        },
      ],
      result: { main, batches, depths },
      settings: {
        model: '784-256-…-10 MLP, ReLU, dropout 0.2 then 0.5, one forward pass and loss (no data needed)',
        batchSizes: batches.map((r) => r.batch),
        depths: depths.map((r) => r.depth),
        dtype: 'float32',
      },
    };
  },
};
