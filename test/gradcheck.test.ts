/**
 * Every differentiable op checked against central finite differences in float64, over shapes with
 * broadcasting, size-1 and 0-d dimensions. The table of primitives is keyed by the `Primitive`
 * type, so a new primitive without a check fails to compile; composites are listed separately.
 * A second table checks second derivatives (createGraph) through the backward rules.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { nn, type Primitive, Rng, type Tensor } from '../src/index.js';

const gen = new Rng(7);
/** Uniform float64 in [lo, hi). */
function r(shape: number[], lo = -2, hi = 2): Tensor {
  const t = k.zeros(shape, { dtype: 'float64' });
  const values = new Float64Array(t.size);
  gen.fillUniform(values, lo, hi);
  t.storage.write(t, values);
  return t;
}
const pos = (shape: number[]) => r(shape, 0.3, 2);
const idx = (values: number[], shape: number[]) => k.tensor(values, { dtype: 'int32' }).reshape(shape);

interface Case {
  name: string;
  fn: (...xs: Tensor[]) => Tensor;
  inputs: Tensor[];
  opts?: k.GradcheckOptions;
}
const c = (name: string, fn: (...xs: Tensor[]) => Tensor, ...inputs: Tensor[]): Case => ({
  name,
  fn,
  inputs,
});
// Constants used inside checked functions are drawn once, outside them.
const cond34 = k.gt(r([3, 4]), 0);
const cond22 = k.gt(r([2, 2]), 0);
const y34 = k.relu(r([3, 4]));
const w423 = r([4, 2, 3]);
const w234 = r([2, 3, 4]);
const w22 = r([2, 2]);
const w36 = r([3, 6]);
const w43 = r([4, 3]);
const labels = idx([0, 2, 1, 2, 0], [5]);
const classW = k.tensor([0.2, 1, 3], { dtype: 'float64' });
const sampleW = k.tensor([1, 0.5, 2, 0, 1], { dtype: 'float64' });
const bceT = k.cast(k.gt(r([4, 3]), 0), 'float64');
const posW = pos([3]);

const binaryShapes: [number[], number[]][] = [
  [
    [2, 3],
    [2, 3],
  ],
  [[4, 3], [3]],
  [
    [4, 1, 3],
    [2, 1],
  ],
  [[2, 3], []],
  [[], []],
  [
    [1, 3],
    [2, 1],
  ],
];
const binary = (name: string, fn: (a: Tensor, b: Tensor) => Tensor, mk = r) =>
  binaryShapes.map(([s1, s2]) => c(`${name} [${s1}]∘[${s2}]`, fn as Case['fn'], mk(s1), mk(s2)));
const unary = (name: string, fn: (a: Tensor) => Tensor, mk = r) =>
  [[3, 4], [], [1, 5], [2, 1, 3]].map((s) => c(`${name} [${s}]`, fn as Case['fn'], mk(s)));

const primitives: { [K in Primitive]: Case[] } = {
  neg: unary('neg', k.neg),
  exp: unary('exp', k.exp),
  log: unary('log', k.log, pos),
  sqrt: unary('sqrt', k.sqrt, pos),
  abs: unary('abs', k.abs),
  sign: unary('sign', (x) => k.mul(k.sign(x), x)),
  relu: unary('relu', k.relu),
  // reluGrad is linear in g; y's values pick where g passes (its own gradient is 0).
  reluGrad: [
    c('reluGrad [3,4]∘[3,4]', (g) => k.reluGrad(g, y34), r([3, 4])),
    c('reluGrad [4]∘[3,4] broadcast g', (g) => k.reluGrad(g, y34), r([4])),
  ],
  sigmoid: unary('sigmoid', k.sigmoid),
  tanh: unary('tanh', k.tanh),
  erf: unary('erf', k.erf),
  cast: [
    {
      // float32 in the middle: a coarse step and float32 tolerances
      ...c('cast float64→float32→float64', (x) => k.cast(k.mul(k.cast(x, 'float32'), 3), 'float64'), r([3])),
      opts: { eps: 1e-2, atol: 1e-3, rtol: 1e-3 },
    },
  ],
  add: binary('add', k.add),
  sub: binary('sub', k.sub),
  mul: binary('mul', k.mul),
  div: binary('div', k.div, pos),
  pow: binary('pow', k.pow, pos),
  maximum: binary('maximum', k.maximum),
  minimum: binary('minimum', k.minimum),
  // The mask is drawn from a fresh generator per call, so every evaluation sees the same mask.
  dropout: [
    c('dropout p=0.5 [3,4]', (x) => k.dropoutMasked(x, 0.5, 2, new Rng(3)), r([3, 4])),
    c('dropout p=0.2 0-d', (x) => k.dropoutMasked(x, 0.2, 1.25, new Rng(4)), r([])),
  ],
  crossEntropy: [
    c('crossEntropy mean', (x) => k.softmaxCrossEntropy(x, labels), r([5, 3])),
    c('crossEntropy sum, large logits', (x) => k.softmaxCrossEntropy(k.mul(x, 30), labels, 'sum'), r([5, 3])),
    c('crossEntropy none', (x) => k.softmaxCrossEntropy(x, labels, 'none'), r([5, 3])),
  ],
  where: [
    c('where broadcast', (a, b) => k.where(cond34, a, b), r([3, 4]), r([4])),
    c('where 0-d branch', (a, b) => k.where(cond22, a, b), r([]), r([2, 1])),
  ],
  sum: [
    c('sum all', (x) => k.sum(x), r([3, 4])),
    c('sum axis 1', (x) => k.sum(x, 1), r([3, 4, 2])),
    c('sum axes [0,2] keepdim', (x) => k.sum(x, [0, 2], true), r([3, 4, 2])),
    c('sum 0-d', (x) => k.sum(x), r([])),
    c('sum size-1 axis', (x) => k.sum(x, 1), r([3, 1])),
  ],
  amax: [
    c('amax axis 1', (x) => k.amax(x, 1), r([3, 4])),
    c('amax all', (x) => k.amax(x), r([2, 3])),
    c('amax keepdim', (x) => k.amax(x, 0, true), r([3, 2])),
  ],
  amin: [c('amin axis 0', (x) => k.amin(x, 0), r([3, 4])), c('amin all', (x) => k.amin(x), r([2, 3]))],
  matmul: [
    c('matmul 2-D', k.matmul, r([3, 4]), r([4, 2])),
    c('matmul batched broadcast', k.matmul, r([2, 1, 3, 4]), r([3, 4, 2])),
    c('matmul 1-D × 2-D', k.matmul, r([4]), r([4, 3])),
    c('matmul 2-D × 1-D', k.matmul, r([3, 4]), r([4])),
    c('matmul 1-D × 1-D', k.matmul, r([4]), r([4])),
    c('matmul transposed operands', (a, b) => k.matmul(k.transpose(a), k.transpose(b)), r([4, 3]), r([2, 4])),
    c('matmul size-1 dims', k.matmul, r([1, 1, 4]), r([4, 1])),
  ],
  linear: [
    c('linear 2-D with bias', (x, w, b) => k.linear(x, w, b), r([5, 4]), r([3, 4]), r([3])),
    c('linear batched, no bias', (x, w) => k.linear(x, w), r([2, 3, 4]), r([5, 4])),
    c(
      'linear on a transposed input',
      (x, w, b) => k.linear(k.transpose(x), w, b),
      r([4, 5]),
      r([3, 4]),
      r([3]),
    ),
  ],
  reshape: [
    c('reshape', (x) => k.reshape(x, [4, -1]), r([2, 3, 2])),
    c('reshape non-contiguous', (x) => k.reshape(k.transpose(x), [-1]), r([3, 4])),
    c('reshape 0-d', (x) => k.reshape(x, [1, 1]), r([])),
  ],
  permute: [c('permute', (x) => k.mul(k.permute(x, [2, 0, 1]), w423), r([2, 3, 4]))],
  expand: [
    c('expand', (x) => k.mul(k.expand(x, [2, 3, 4]), w234), r([3, 1])),
    c('expand 0-d', (x) => k.mul(k.expand(x, [2, 2]), w22), r([])),
  ],
  slice: [
    c('slice step', (x) => k.slice(x, 1, 1, 5, 2), r([3, 6])),
    c('slice negative', (x) => k.slice(x, 0, -2), r([4, 2])),
    c('slice of slice', (x) => k.slice(k.slice(x, 0, 1), 1, 0, 2), r([3, 3])),
  ],
  sliceScatter: [c('sliceScatter', (x) => k.mul(k.sliceScatter(x, [3, 6], 1, 1, 2), w36), r([3, 3]))],
  contiguous: [
    c('contiguous', (x) => k.mul(k.contiguous(k.transpose(x)), w43), r([3, 4])),
    c('clone', (x) => k.mul(k.clone(k.transpose(x)), w43), r([3, 4])),
  ],
  concat: [
    c('concat axis 1', (a, b, d) => k.concat([a, b, d], 1), r([2, 1]), r([2, 3]), r([2, 2])),
    c('concat axis 0', (a, b) => k.concat([a, b], 0), r([1, 3]), r([2, 3])),
  ],
  gather: [
    c('gather axis 1', (x) => k.gather(x, 1, idx([0, 2, 1, 0, 1, 1, 0, 2], [2, 4])), r([2, 3])),
    c('gather axis 0 repeated', (x) => k.gather(x, 0, idx([0, 0, 2, 0, 2, 2], [3, 2])), r([3, 2])),
  ],
  scatterAdd: [
    c(
      'scatterAdd',
      (x, s) => k.scatterAdd(x, 1, idx([0, 2, 1, 0, 1, 1, 0, 2], [2, 4]), s),
      r([2, 3]),
      r([2, 4]),
    ),
  ],
  indexSelect: [c('indexSelect', (x) => k.indexSelect(x, 0, idx([2, 0, 2, 1], [4])), r([3, 2]))],
  indexAdd: [c('indexAdd', (x, s) => k.indexAdd(x, 1, idx([1, 1, 0], [3]), s), r([2, 2]), r([2, 3]))],
};

const composites: Case[] = [
  ...unary('square', k.square),
  ...unary('reciprocal', k.reciprocal, pos),
  c('clamp', (x) => k.clamp(x, -0.5, 0.7), r([3, 4])),
  c('mean axis', (x) => k.mean(x, 1), r([3, 4])),
  c('mean all', (x) => k.mean(x), r([2, 3])),
  c('var unbiased', (x) => k.variance(x, 1), r([3, 4])),
  c('var population keepdim', (x) => k.variance(x, 0, { correction: 0, keepdim: true }), r([3, 4])),
  c('std', (x) => k.std(x, 1), r([3, 4])),
  c('logsumexp', (x) => k.logsumexp(x, 1), r([3, 4])),
  c('logsumexp all', (x) => k.logsumexp(x), r([2, 3])),
  c('softmax', (x) => k.softmax(x, -1), r([3, 5])),
  c('softmax axis 0', (x) => k.softmax(x, 0), r([3, 5])),
  c('logSoftmax', (x) => k.logSoftmax(x, -1), r([3, 5])),
  c('squeeze/unsqueeze', (x) => k.unsqueeze(k.squeeze(x), 0), r([1, 3, 1])),
  c('transpose', (x) => k.transpose(x, 0, 2), r([2, 3, 4])),
  c('flatten', (x) => k.flatten(x, 1), r([2, 3, 4])),
  c('narrow', (x) => k.narrow(x, 1, 1, 2), r([3, 4])),
  c('select', (x) => k.select(x, 1, -1), r([3, 4])),
  c('stack', (a, b) => k.stack([a, b], 1), r([2, 3]), r([2, 3])),
  c(
    'split',
    (x) =>
      k.concat(
        k.split(x, 2, 0).map((p, i) => k.mul(p, i + 1)),
        0,
      ),
    r([5, 3]),
  ),
  c('chunk', (x) => k.concat(k.chunk(x, 2, 1).reverse(), 1), r([2, 4])),
  // nn functionals
  c('leakyRelu', (x) => nn.F.leakyRelu(x, 0.1), r([3, 4])),
  c('prelu per channel', (x, w) => nn.F.prelu(x, w), r([2, 3, 2]), r([3])),
  c('elu', (x) => nn.F.elu(x, 0.5), r([3, 4])),
  c('selu', (x) => nn.F.selu(x), r([3, 4])),
  c('gelu', (x) => nn.F.gelu(x), r([3, 4])),
  c('gelu tanh', (x) => nn.F.gelu(x, 'tanh'), r([3, 4])),
  c('silu', (x) => nn.F.silu(x), r([3, 4])),
  c('softplus', (x) => nn.F.softplus(x, 2, 3), r([3, 4])),
  c('linear', (x, w, b) => nn.F.linear(x, w, b), r([5, 4]), r([3, 4]), r([3])),
  c('layerNorm', (x, w, b) => nn.F.layerNorm(x, [4], w, b), r([3, 4]), r([4]), r([4])),
  c(
    'batchNorm (training)',
    (x, w, b) => nn.F.batchNorm(x, null, null, w, b, { training: true }),
    r([6, 3]),
    r([3]),
    r([3]),
  ),
  c(
    'crossEntropy smoothing + class weights',
    (x) => nn.F.crossEntropy(x, labels, { labelSmoothing: 0.1, weight: classW }),
    r([5, 3]),
  ),
  c(
    'crossEntropy sample weights',
    (x) => nn.F.crossEntropy(x, labels, { sampleWeights: sampleW }),
    r([5, 3]),
  ),
  c('nllLoss', (x) => nn.F.nllLoss(k.logSoftmax(x, 1), labels), r([5, 3])),
  c('bceWithLogits', (x) => nn.F.bceWithLogits(x, bceT, { posWeight: posW }), r([4, 3])),
  c('huberLoss', (x, y) => nn.F.huberLoss(x, y, 0.5), r([4, 3]), r([4, 3])),
  c('smoothL1Loss', (x, y) => nn.F.smoothL1Loss(x, y, 0.5), r([4, 3]), r([4, 3])),
  c('l2Penalty + l1Penalty', (a, b) => k.add(nn.F.l2Penalty([a, b]), nn.F.l1Penalty(a)), r([3]), r([2, 2])),
];

describe('gradcheck: every primitive in float64', () => {
  for (const [name, cases] of Object.entries(primitives)) {
    for (const cs of cases) {
      it(cs.name, () => {
        const res = k.gradcheck(
          cs.fn,
          cs.inputs.map((t) => t.requiresGrad_()),
          cs.opts,
        );
        expect(res.passed, JSON.stringify(res.worst)).toBe(true);
        expect(res.checked).toBeGreaterThan(0);
      });
    }
    it(`${name} is recorded under its own name`, () => {
      const seen = new Set<string>();
      for (const cs of cases) {
        const xs = cs.inputs.map((t) => k.tensor(t, { requiresGrad: true }));
        const stack = [cs.fn(...xs).gradFn];
        while (stack.length) {
          const n = stack.pop();
          if (!n) continue;
          seen.add(n.op);
          for (const e of n.next) if (e?.node) stack.push(e.node);
        }
      }
      expect([...seen]).toContain(name);
    });
  }
});

describe('gradcheck: composites in float64', () => {
  for (const cs of composites) {
    it(cs.name, () => {
      const res = k.gradcheck(
        cs.fn,
        cs.inputs.map((t) => t.requiresGrad_()),
      );
      expect(res.passed, JSON.stringify(res.worst)).toBe(true);
    });
  }
});

describe('second derivatives (createGraph) against finite differences of the gradient', () => {
  // gradcheck of x ↦ ∂⟨v, f(x)⟩/∂x checks every backward rule's own backward.
  const second: [string, (x: Tensor) => Tensor, () => Tensor][] = [
    ['exp', k.exp, () => r([3])],
    ['log', k.log, () => pos([3])],
    ['sqrt', k.sqrt, () => pos([3])],
    ['sigmoid', k.sigmoid, () => r([3])],
    ['tanh', k.tanh, () => r([3])],
    ['mul', (x) => k.mul(x, k.mul(x, x)), () => r([3])],
    ['div', (x) => k.div(1, x), () => pos([3])],
    ['pow', (x) => k.pow(x, k.mul(x, 0.5)), () => pos([3])],
    ['matmul', (x) => k.matmul(x, x), () => r([2, 2])],
    ['softmax', (x) => k.softmax(x), () => r([4])],
    ['crossEntropy', (x) => k.mul(k.softmaxCrossEntropy(x, labels), x), () => r([5, 3])],
    ['logsumexp', (x) => k.logsumexp(x), () => r([4])],
    ['abs·x', (x) => k.mul(k.abs(x), x), () => r([3])],
    ['relu·x', (x) => k.mul(k.relu(x), x), () => r([3])],
    ['amax', (x) => k.mul(k.amax(x), x), () => r([3])],
    ['gather', (x) => k.mul(k.gather(x, 0, idx([2, 0, 2], [3])), x), () => r([3])],
    ['slice', (x) => k.mul(k.slice(x, 0, 1), k.slice(x, 0, 0, 2)), () => r([3])],
  ];
  for (const [name, f, mk] of second) {
    it(name, () => {
      const v = r([16]);
      const gradOf = (x: Tensor) => {
        const y = f(x);
        const [g] = k.grad(k.sum(k.mul(k.reshape(y, [-1]), k.narrow(v, 0, 0, y.size))), x, {
          createGraph: true,
        });
        return g as Tensor;
      };
      const res = k.gradcheck(gradOf, [mk().requiresGrad_()]);
      expect(res.passed, JSON.stringify(res.worst)).toBe(true);
    });
  }
});
