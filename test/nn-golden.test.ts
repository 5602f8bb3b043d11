/**
 * nn against PyTorch: activations, losses (reductions, label smoothing, class weights, probability
 * targets, |x| = 1000), normalization and linear, forward and gradients (float64 and float32); and
 * BatchNorm's running statistics.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { nn, type Tensor } from '../src/index.js';
import { type Args, decode, type Encoded, expectClose, goldenSuite } from './helpers.js';

const F = nn.F;
const calls: Record<string, (xs: Tensor[], a: Args) => Tensor> = {
  leakyRelu: ([x], a) => F.leakyRelu(x, a.slope),
  prelu: ([x, w]) => F.prelu(x, w),
  elu: ([x], a) => F.elu(x, a.alpha),
  selu: ([x]) => F.selu(x),
  gelu: ([x], a) => F.gelu(x, a.approximate),
  silu: ([x]) => F.silu(x),
  softplus: ([x], a) => F.softplus(x, a.beta, a.threshold),
  layerNorm: ([x, w, b], a) => F.layerNorm(x, a.shape, w, b),
  linear: ([x, w, b]) => F.linear(x, w, b),
  crossEntropy: ([x, y, w], a) =>
    F.crossEntropy(x, y, {
      weight: a.weighted ? w : undefined,
      labelSmoothing: a.labelSmoothing,
      reduction: a.reduction,
    }),
  nllLoss: ([x, y, w]) => F.nllLoss(F.logSoftmax(x, 1), y, { weight: w }),
  mseLoss: ([x, y]) => F.mseLoss(x, y),
  l1Loss: ([x, y]) => F.l1Loss(x, y),
  huberLoss: ([x, y], a) => F.huberLoss(x, y, a.delta),
  smoothL1Loss: ([x, y], a) => F.smoothL1Loss(x, y, a.beta),
  bceWithLogits: ([x, t, w, pw], a) => F.bceWithLogits(x, t, a.weighted ? { weight: w, posWeight: pw } : {}),
  batchNorm: ([x, w, b], a) => F.batchNorm(x, null, null, w, b, { training: a.training }),
};

goldenSuite('golden values from PyTorch: nn', 'nn.json', calls);

it('BatchNorm running statistics match PyTorch after one training step', () => {
  const g = JSON.parse(readFileSync(new URL('./golden/nn.json', import.meta.url), 'utf8')) as {
    batchNormRunning: { input: Encoded; runningMean: Encoded; runningVar: Encoded };
  };
  const bn = new nn.BatchNorm1d(3);
  bn.forward(decode(g.batchNormRunning.input, 'float32'));
  expectClose(bn.buffer('running_mean'), decode(g.batchNormRunning.runningMean), 1e-5, 1e-6);
  expectClose(bn.buffer('running_var'), decode(g.batchNormRunning.runningVar), 1e-5, 1e-6);
  expect(bn.buffer('running_mean').dtype).toBe('float32');
  // As PyTorch: one training batch seen (an eval forward does not count).
  bn.eval();
  bn.forward(decode(g.batchNormRunning.input, 'float32'));
  expect(bn.buffer('num_batches_tracked').item()).toBe(1);
});
