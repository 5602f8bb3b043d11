/**
 * Compiled against eager for every layer type, activation and loss keel has: a few training steps
 * (SGD with momentum and decay) of a small net built around each, compiled and eagerly, on every
 * backend, must give the same losses, weights, gradients and buffers (BatchNorm's running
 * statistics) bit for bit — the kernels are the same; fusion must not change a rounding.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { availableBackends, compile, nn, optim, Rng, type Tensor } from '../src/index.js';

type Loss = (out: Tensor, y: Tensor, yFloat: Tensor) => Tensor;

/** A middle layer of width 8 (and an input layer before it) for each layer type. */
const layers: Record<string, (g: Rng) => nn.Module[]> = {
  ReLU: () => [new nn.ReLU()],
  LeakyReLU: () => [new nn.LeakyReLU(0.1)],
  PReLU: () => [new nn.PReLU(8)],
  ELU: () => [new nn.ELU()],
  SELU: () => [new nn.SELU()],
  GELU: () => [new nn.GELU()],
  SiLU: () => [new nn.SiLU()],
  Sigmoid: () => [new nn.Sigmoid()],
  Tanh: () => [new nn.Tanh()],
  Softplus: () => [new nn.Softplus()],
  Softmax: () => [new nn.Softmax()],
  LogSoftmax: () => [new nn.LogSoftmax()],
  LayerNorm: () => [new nn.LayerNorm(8), new nn.ReLU()],
  BatchNorm1d: () => [new nn.BatchNorm1d(8), new nn.ReLU()],
  Dropout: (g) => [new nn.ReLU(), new nn.Dropout(0.3, g)],
  AlphaDropout: (g) => [new nn.SELU(), new nn.AlphaDropout(0.2, g)],
  'DropConnectLinear + Identity + Flatten': (g) => [
    new nn.ReLU(),
    new nn.DropConnectLinear(8, 8, { p: 0.3, generator: g, maskGenerator: g }),
    new nn.Identity(),
    new nn.Flatten(),
  ],
};

const losses: Record<string, Loss> = {
  crossEntropy: (o, y) => nn.F.crossEntropy(o, y),
  'crossEntropy label smoothing, class weights': (o, y) =>
    nn.F.crossEntropy(o, y, { labelSmoothing: 0.1, weight: k.tensor([1, 2, 0.5]) }),
  nllLoss: (o, y) => nn.F.nllLoss(k.logSoftmax(o, 1), y),
  mseLoss: (o, _y, yf) => nn.F.mseLoss(o, yf),
  l1Loss: (o, _y, yf) => nn.F.l1Loss(o, yf),
  huberLoss: (o, _y, yf) => nn.F.huberLoss(o, yf, 0.5),
  smoothL1Loss: (o, _y, yf) => nn.F.smoothL1Loss(o, yf, 0.5),
  bceWithLogits: (o, _y, yf) => nn.F.bceWithLogits(o, k.sigmoid(yf)),
};

function run(compiled: boolean, middle: (g: Rng) => nn.Module[], loss: Loss) {
  const g = new Rng(5);
  const model = new nn.Sequential(
    new nn.Linear(6, 8, { generator: g }),
    ...middle(g),
    new nn.Linear(8, 3, { generator: g }),
  );
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 });
  const body = (x: Tensor, y: Tensor, yf: Tensor) => {
    opt.zeroGrad();
    const l = loss(model.forward(x), y, yf);
    l.backward();
    opt.step();
    return l;
  };
  const step = compiled ? compile(body) : body;
  const d = new Rng(8);
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    const x = k.randn([16, 6], { generator: d });
    const y = k.randint(0, 3, [16], { generator: d });
    out.push(step(x, y, k.randn([16, 3], { generator: d })).item());
  }
  return {
    losses: out,
    params: model.parameters().map((p) => Array.from(p.readSync())),
    grads: model.parameters().map((p) => Array.from(p.grad?.readSync() ?? [])),
    buffers: Object.entries(model.stateDict()).map(([n, t]) => [n, Array.from(t.readSync())]),
    plans: compiled ? (step as ReturnType<typeof compile>).plans : 0,
  };
}

describe.each(availableBackends())('compiled = eager on %s', (name) => {
  for (const [layer, middle] of Object.entries(layers)) {
    it(`${layer} (cross-entropy)`, () => {
      k.setBackend(name);
      try {
        const eager = run(false, middle, losses.crossEntropy);
        const plan = run(true, middle, losses.crossEntropy);
        expect(plan.plans).toBe(1);
        expect(plan.losses).toEqual(eager.losses);
        expect(plan.params).toEqual(eager.params);
        expect(plan.grads).toEqual(eager.grads);
        expect(plan.buffers).toEqual(eager.buffers);
      } finally {
        k.setBackend('wasm');
      }
    });
  }
  for (const [label, loss] of Object.entries(losses)) {
    it(`loss ${label} (GELU net)`, () => {
      k.setBackend(name);
      try {
        const eager = run(false, layers.GELU, loss);
        const plan = run(true, layers.GELU, loss);
        expect(plan.plans).toBe(1);
        expect(plan.losses).toEqual(eager.losses);
        expect(plan.params).toEqual(eager.params);
      } finally {
        k.setBackend('wasm');
      }
    });
  }
});
