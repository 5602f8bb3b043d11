/**
 * Optimizer behaviour beyond the PyTorch trajectories: validation messages, the default decay rule
 * (weights decayed, biases and norm weights not), decay applied only to its group, proximal L1
 * producing exact zeros on a sparse regression, state-dict round trips, clipping edge cases.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { nn, optim, Rng, type Tensor } from '../src/index.js';

describe('validation', () => {
  const p = () => k.zeros([2, 2], { requiresGrad: true });
  it('names bad values', () => {
    expect(() => new optim.SGD([p()], { lr: 0.1, weightDecay: -1 })).toThrow(
      'SGD: weightDecay must be ≥ 0, got -1',
    );
    expect(() => new optim.SGD([p()], { lr: -0.1 })).toThrow('SGD: lr must be ≥ 0, got -0.1');
    expect(() => new optim.SGD([p()], { lr: 0.1, nesterov: true })).toThrow(
      /nesterov needs momentum > 0 and dampening = 0/,
    );
    expect(() => new optim.Adam([p()], { betas: [1, 0.9] })).toThrow(
      'Adam: betas[0] must be in [0, 1), got 1',
    );
    expect(() => new optim.AdamW([p()], { proximal: true })).toThrow(/proximal applies to penalty 'l1'/);
    expect(() => new optim.SGD([p()], { lr: 0.1, penalty: 'l3' as never })).toThrow(
      /penalty must be 'l2' or 'l1', got 'l3'/,
    );
  });
  it('a parameter in two groups is an error', () => {
    const w = p();
    expect(() => new optim.SGD([{ params: [w] }, { params: [w], name: 'again' }], { lr: 0.1 })).toThrow(
      "SGD (group 'again'): parameter 0 appears in more than one group",
    );
  });
  it('non-leaf and integer tensors are refused', () => {
    const w = p();
    expect(() => new optim.SGD([k.mul(w, 2)], { lr: 0.1 })).toThrow(
      /not a leaf tensor \(it came from 'mul'\)/,
    );
    expect(() => new optim.SGD([k.zeros([2], { dtype: 'int32' })], { lr: 0.1 })).toThrow(/dtype int32/);
  });
});

describe('parameter groups', () => {
  it('the default rule decays weight matrices, not biases or norm weights', () => {
    const m = new nn.Sequential(new nn.Linear(3, 4), new nn.LayerNorm(4), new nn.Linear(4, 2));
    const groups = optim.decayGroups(m.namedParameters(), { weightDecay: 0.1 });
    expect(groups.map((gr) => [gr.name, gr.weightDecay, gr.params.length])).toEqual([
      ['decay', 0.1, 2],
      ['noDecay', 0, 4],
    ]);
    const custom = optim.decayGroups(m.namedParameters(), {
      weightDecay: 0.1,
      noDecay: (name) => name.startsWith('2.'),
    });
    expect(custom[1].params.length).toBe(2);
  });

  it('weight decay acts only on its group', () => {
    // With zero gradients only decay moves a weight: w ← w − lr·λ·w for the decayed group.
    const w = k.full([2, 2], 1, { requiresGrad: true });
    const b = k.full([2], 1, { requiresGrad: true });
    const opt = new optim.SGD(
      optim.decayGroups(
        [
          ['w', w],
          ['b', b],
        ],
        { weightDecay: 0.5 },
      ),
      { lr: 0.1 },
    );
    w.grad = k.zeros([2, 2]);
    b.grad = k.zeros([2]);
    opt.step();
    expect(Array.from(w.readSync())).toEqual([0.95, 0.95, 0.95, 0.95].map((v) => Math.fround(v)));
    expect(Array.from(b.readSync())).toEqual([1, 1]);
  });

  it('coupled (SGD) and decoupled (AdamW) decay differ as documented', () => {
    // AdamW: w ← w − lr·(adam(g) + λw); with g = 0 adam(g) = 0, so w ← (1 − lr·λ)·w exactly.
    const w = k.full([3], 2, { dtype: 'float64', requiresGrad: true });
    const opt = new optim.AdamW([w], { lr: 0.1, weightDecay: 0.5 });
    w.grad = k.zeros([3], { dtype: 'float64' });
    opt.step();
    expect(Array.from(w.readSync())).toEqual([1.9, 1.9, 1.9]);
    // Adam (coupled): the decay goes through the adaptive scaling: first step moves by ≈ lr.
    const v = k.full([3], 2, { dtype: 'float64', requiresGrad: true });
    const adam = new optim.Adam([v], { lr: 0.1, weightDecay: 0.5 });
    v.grad = k.zeros([3], { dtype: 'float64' });
    adam.step();
    expect(v.readSync()[0]).toBeCloseTo(1.9, 6);
  });
});

describe('L1', () => {
  // Sparse regression: y = X·w* with only 3 of 20 weights non-zero.
  const g = new Rng(5);
  const X = k.randn([200, 20], { generator: g, dtype: 'float64' });
  const wStar = k.tensor(
    Array.from({ length: 20 }, (_, i) => [({ 0: 2, 5: -3, 11: 1.5 } as Record<number, number>)[i] ?? 0]),
    { dtype: 'float64' },
  );
  const y = k.matmul(X, wStar);

  function trainSparse(opts: Partial<optim.SGDOptions>): Tensor {
    const w = k.full([20, 1], 0.1, { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 0.05, ...opts });
    for (let i = 0; i < 300; i++) {
      opt.zeroGrad();
      k.mean(k.square(k.sub(k.matmul(X, w), y))).backward();
      opt.step();
    }
    return w;
  }

  it('the proximal step yields exact zeros where w* is zero', () => {
    const w = trainSparse({ weightDecay: 0.05, penalty: 'l1', proximal: true });
    const zeros = Array.from(w.readSync()).filter((v) => v === 0).length;
    expect(zeros).toBe(17);
    expect(w.readSync()[5]).toBeLessThan(-2.5);
  });

  it('the subgradient alone leaves small non-zero weights', () => {
    const w = trainSparse({ weightDecay: 0.05, penalty: 'l1' });
    const zeros = Array.from(w.readSync()).filter((v) => v === 0).length;
    expect(zeros).toBeLessThan(17);
    const small = Array.from(w.readSync()).filter(
      (v, i) => ![0, 5, 11].includes(i) && Math.abs(v) < 0.01,
    ).length;
    expect(small).toBe(17);
  });
});

describe('state dicts', () => {
  it('Adam resumes exactly from a saved state', () => {
    const make = () => k.tensor([1, -2, 3], { dtype: 'float64', requiresGrad: true });
    const loss = (w: Tensor) => k.sum(k.mul(k.square(w), k.tensor([1, 2, 3], { dtype: 'float64' })));
    const a = make();
    const optA = new optim.Adam([a], { lr: 0.1, amsgrad: true });
    for (let i = 0; i < 3; i++) {
      optA.zeroGrad();
      loss(a).backward();
      optA.step();
    }
    const snapshot = JSON.parse(JSON.stringify(optA.stateDict()));
    const b = k.tensor(a, { requiresGrad: true });
    const optB = new optim.Adam([b], { lr: 0.5 });
    optB.loadStateDict(snapshot);
    for (const [w, o] of [
      [a, optA],
      [b, optB],
    ] as const) {
      o.zeroGrad();
      loss(w).backward();
      o.step();
    }
    expect(Array.from(b.readSync())).toEqual(Array.from(a.readSync()));
    expect(optB.lr).toBe(0.1);
  });

  it('loadStateDict rejects a different layout', () => {
    const o = new optim.SGD([k.zeros([2], { requiresGrad: true })], { lr: 0.1 });
    const other = new optim.SGD(
      [k.zeros([2], { requiresGrad: true }), k.zeros([2], { requiresGrad: true })],
      { lr: 0.1 },
    );
    expect(() => o.loadStateDict(other.stateDict())).toThrow(/group 0 has 1 parameters, the state has 2/);
  });
});

describe('clipping', () => {
  it('clipGradNorm_ returns the norm, clips above maxNorm, leaves small gradients', () => {
    const w = k.zeros([2], { dtype: 'float64', requiresGrad: true });
    w.grad = k.tensor([3, 4], { dtype: 'float64' });
    expect(optim.clipGradNorm_([w], 1)).toBe(5);
    expect(k.sum(k.square(w.grad as Tensor)).item()).toBeCloseTo(1, 5);
    w.grad = k.tensor([0.3, 0.4], { dtype: 'float64' });
    expect(optim.clipGradNorm_([w], 1)).toBeCloseTo(0.5, 12);
    expect((w.grad as Tensor).toArray()).toEqual([0.3, 0.4]);
  });
  it('errorIfNonfinite names the problem; clipGradValue_ clamps', () => {
    const w = k.zeros([2], { requiresGrad: true });
    w.grad = k.tensor([Number.NaN, 1]);
    expect(() => optim.clipGradNorm_([w], 1, { errorIfNonfinite: true })).toThrow(
      /total norm of order 2 of the gradients is NaN/,
    );
    w.grad = k.tensor([-5, 0.5]);
    optim.clipGradValue_([w], 1);
    expect((w.grad as Tensor).toArray()).toEqual([-1, 0.5]);
  });
  it('infinity norm', () => {
    const w = k.zeros([3], { requiresGrad: true });
    w.grad = k.tensor([1, -7, 2]);
    expect(optim.clipGradNorm_([w], 100, { normType: Number.POSITIVE_INFINITY })).toBe(7);
  });
});

describe('gradient transformations as chains (optax style)', () => {
  const lsq = () => {
    const gen = new Rng(2);
    const X = k.randn([16, 4], { generator: gen, dtype: 'float64' });
    const y = k.randn([16, 1], { generator: gen, dtype: 'float64' });
    const W = k.randn([4, 1], { generator: gen, dtype: 'float64', requiresGrad: true });
    const b = k.zeros([1], { dtype: 'float64', requiresGrad: true });
    const loss = () => k.mean(k.square(k.sub(k.add(k.matmul(X, W), b), y)));
    return { W, b, loss };
  };
  const run = (make: (W: Tensor, b: Tensor) => optim.Optimizer<optim.BaseOptions>, steps = 5) => {
    const { W, b, loss } = lsq();
    const opt = make(W, b);
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad();
      loss().backward();
      opt.step();
    }
    return [...W.readSync(), ...b.readSync()];
  };

  it('a one-line chain reproduces AdamW exactly, and SGD with momentum and coupled decay', () => {
    const adamw = run((W, b) => new optim.AdamW([W, b], { lr: 0.05, weightDecay: 0.1 }));
    const chained = run(
      (W, b) =>
        new optim.ChainOptimizer(
          [W, b],
          optim.chain(
            optim.scaleByAdam(),
            optim.addDecayedWeights({ weightDecay: 0.1 }),
            optim.scaleByLearningRate(0.05),
          ),
        ),
    );
    expect(chained).toEqual(adamw);
    const sgd = run((W, b) => new optim.SGD([W, b], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }));
    const sgdChain = run(
      (W, b) =>
        new optim.ChainOptimizer(
          [W, b],
          optim.chain(
            optim.addDecayedWeights({ weightDecay: 0.01 }),
            optim.traceMomentum({ momentum: 0.9 }),
            optim.scaleByLearningRate(),
          ),
          { lr: 0.1 },
        ),
    );
    expect(sgdChain).toEqual(sgd);
  });

  it('clipByGlobalNorm first in a chain equals clipGradNorm_ before the step', () => {
    const manual = (() => {
      const { W, b, loss } = lsq();
      const opt = new optim.Adam([W, b], { lr: 0.05 });
      for (let i = 0; i < 5; i++) {
        opt.zeroGrad();
        loss().backward();
        optim.clipGradNorm_([W, b], 0.1);
        opt.step();
      }
      return [...W.readSync(), ...b.readSync()];
    })();
    const chained = run(
      (W, b) =>
        new optim.ChainOptimizer(
          [W, b],
          optim.chain(optim.clipByGlobalNorm(0.1), optim.scaleByAdam(), optim.scaleByLearningRate(0.05)),
        ),
    );
    for (let i = 0; i < manual.length; i++) expect(chained[i]).toBeCloseTo(manual[i], 12);
    expect(() => optim.clipByGlobalNorm(-1)).toThrow('clipByGlobalNorm: maxNorm must be ≥ 0, got -1');
  });

  it('masked and partition apply a transformation to some parameters only; the lr follows schedulers', () => {
    // Decay only rank-2 parameters (the weight, not the bias): the same as decay groups.
    const groups = run(
      (W, b) =>
        new optim.SGD(
          [
            { params: [W], weightDecay: 0.5 },
            { params: [b], weightDecay: 0 },
          ],
          { lr: 0.1 },
        ),
    );
    const viaMask = run(
      (W, b) =>
        new optim.ChainOptimizer(
          [W, b],
          optim.chain(
            optim.masked(optim.addDecayedWeights({ weightDecay: 0.5 }), (p) => p.shape.length >= 2),
            optim.scaleByLearningRate(),
          ),
          { lr: 0.1 },
        ),
    );
    expect(viaMask).toEqual(groups);
    const viaPartition = run(
      (W, b) =>
        new optim.ChainOptimizer(
          [W, b],
          optim.chain(
            optim.partition(
              { decay: optim.addDecayedWeights({ weightDecay: 0.5 }), none: optim.identity() },
              (p) => (p.index === 0 ? 'decay' : 'none'),
            ),
            optim.scaleByLearningRate(),
          ),
          { lr: 0.1 },
        ),
    );
    expect(viaPartition).toEqual(groups);
    // scaleByLearningRate() without a value reads the group's lr, which a scheduler halves.
    const { W, b, loss } = lsq();
    const opt = new optim.ChainOptimizer([W, b], optim.chain(optim.scaleByLearningRate()), { lr: 1 });
    const sched = new optim.StepLR(opt, 1, 0.5);
    const before = W.readSync()[0];
    loss().backward();
    sched.step();
    opt.step();
    const g0 = (W.grad as Tensor).readSync()[0];
    expect(W.readSync()[0]).toBeCloseTo(before - 0.5 * g0, 12);
    expect(() =>
      new optim.ChainOptimizer(
        [W],
        optim.partition({ a: optim.identity() }, () => 'b'),
      ).step(),
    ).toThrow("partition: label 'b' has no transformation (labels: a)");
  });
});

describe('eager steps on the CPU kernels', () => {
  const run = (backend: string, make: (ps: Tensor[]) => optim.Optimizer<optim.BaseOptions>) => {
    k.setBackend(backend);
    try {
      const g = new Rng(31);
      const w = k.randn([96, 64], { generator: g }).requiresGrad_(); // 6,144 floats: adopted
      const b = k.randn([64], { generator: g }).requiresGrad_(); // small: copied each step
      const before = w.reshape([6144]); // a view made before the first step follows the parameter
      const opt = make([w, b]);
      // Element-wise losses only: their gradients have the same bits on every backend.
      const x = k.randn([96, 64], { generator: g });
      for (let i = 0; i < 4; i++) {
        opt.zeroGrad();
        k.add(k.sum(k.square(k.mul(w, x))), k.sum(k.mul(k.square(b), 3))).backward();
        opt.step();
      }
      return {
        w: Array.from(w.readSync()),
        b: Array.from(b.readSync()),
        view: Array.from(before.readSync()),
        adopted: (w.storage as { region?: unknown }).region != null,
        small: (b.storage as { region?: unknown }).region != null,
      };
    } finally {
      k.setBackend('wasm');
    }
  };
  const makers: Record<string, (ps: Tensor[]) => optim.Optimizer<optim.BaseOptions>> = {
    'SGD momentum': (ps) => new optim.SGD(ps, { lr: 0.01, momentum: 0.9 }),
    AdamW: (ps) => new optim.AdamW(ps, { lr: 0.01, weightDecay: 0.1 }),
    'Adam amsgrad': (ps) => new optim.Adam(ps, { lr: 0.01, amsgrad: true }),
  };
  const cpu = k.availableBackends().filter((n) => n === 'wasm' || n === 'native');
  it.each(Object.keys(makers))(
    '%s: parameters and state move into the kernels’ memory and update in place, with the js bits',
    (name) => {
      const want = run('js', makers[name]);
      expect(want.adopted).toBe(false);
      for (const backend of cpu) {
        const got = run(backend, makers[name]);
        expect(got.adopted, backend).toBe(true);
        expect(got.small, backend).toBe(false);
        expect(got.w, backend).toEqual(want.w);
        expect(got.b, backend).toEqual(want.b);
        expect(got.view, backend).toEqual(got.w);
      }
    },
  );
});
