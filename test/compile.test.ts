/**
 * Compiled steps against eager execution: the same losses, weights and gradients, step after step,
 * for training steps of MLPs with every optimizer family, dropout, and the evaluation step; a new
 * shape traces a new plan; what a plan cannot hold is refused, naming it, or run eagerly on request.
 */
import { describe, expect, it } from 'vitest';
import { stats as hostStats } from '../src/backend/host.js';
import { profilePlans } from '../src/backend/wasm/planRunner.js';
import * as k from '../src/index.js';
import {
  availableBackends,
  backendByName,
  CompileError,
  compile,
  data,
  nn,
  optim,
  Rng,
  type Tensor,
  tap,
  train,
} from '../src/index.js';

function mlp(seed: number, dropout: number) {
  const g = new Rng(seed);
  const layers: nn.Module[] = [new nn.Linear(12, 16, { generator: g }), new nn.ReLU()];
  if (dropout > 0) layers.push(new nn.Dropout(dropout, new Rng(seed + 1)));
  layers.push(new nn.Linear(16, 16, { generator: g }), new nn.Tanh(), new nn.Linear(16, 3, { generator: g }));
  return new nn.Sequential(...layers);
}

function batches(n: number, size: number, seed: number): [Tensor, Tensor][] {
  const g = new Rng(seed);
  return Array.from({ length: n }, () => [
    k.randn([size, 12], { generator: g }),
    k.randint(0, 3, [size], { generator: g }),
  ]);
}

const makers: Record<string, (ps: Tensor[]) => optim.Optimizer<optim.BaseOptions>> = {
  sgd: (ps) => new optim.SGD(ps, { lr: 0.1 }),
  'sgd momentum nesterov decay': (ps) =>
    new optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
  adam: (ps) => new optim.Adam(ps, { lr: 0.01, weightDecay: 1e-3 }),
  'adamw amsgrad': (ps) => new optim.AdamW(ps, { lr: 0.01, amsgrad: true }),
  'rmsprop centered': (ps) => new optim.RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.5 }),
  adagrad: (ps) => new optim.Adagrad(ps, { lr: 0.05, lrDecay: 0.01 }),
  'sgd l1 proximal': (ps) =>
    new optim.SGD(ps, { lr: 0.05, weightDecay: 0.01, penalty: 'l1', proximal: true }),
};

/** Runs a training step on each batch of `data`; returns the losses and the final weights. */
function trainSteps(
  compiled: boolean,
  make: (ps: Tensor[]) => optim.Optimizer<optim.BaseOptions>,
  dropout: number,
  model: nn.Module = mlp(3, dropout),
  data: [Tensor, Tensor][] = batches(6, 32, 9),
) {
  const opt = make(model.parameters());
  const body = (x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = nn.F.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss;
  };
  const step = compiled ? compile(body) : body;
  const losses: number[] = [];
  for (const [x, y] of data) losses.push(step(x, y).item());
  return {
    losses,
    weights: model.parameters().map((p) => Array.from(p.readSync())),
    grads: model.parameters().map((p) => Array.from(p.grad?.readSync() ?? [])),
    step,
  };
}

describe.each(availableBackends())('compile on %s', (name) => {
  for (const [label, make] of Object.entries(makers)) {
    it(`a training step with ${label} and dropout gives eager's losses, weights and gradients`, () => {
      k.setBackend(name);
      try {
        const eager = trainSteps(false, make, 0.3);
        const plan = trainSteps(true, make, 0.3);
        expect(plan.losses).toEqual(eager.losses);
        expect(plan.weights).toEqual(eager.weights);
        expect(plan.grads).toEqual(eager.grads);
        expect((plan.step as ReturnType<typeof compile>).plans).toBe(1);
      } finally {
        k.setBackend('wasm');
      }
    });
  }
});

describe('compile', () => {
  it('returns a list as the function does when leaves also receive gradients, on replays too', () => {
    const w = k.randn([3, 2], { generator: new Rng(3) }).requiresGrad_();
    const f = (x: Tensor) => {
      w.grad = null;
      const y = k.sum(k.mul(w, x));
      y.backward();
      return [y];
    };
    const step = compile(f);
    for (let i = 0; i < 3; i++) {
      const out = step(k.full([3, 2], i + 1));
      expect(out.length).toBe(1);
      expect(out[0].item()).toBeCloseTo((i + 1) * (k.sum(w).item() as number), 5);
      expect(Array.from((w.grad as Tensor).readSync())).toEqual(new Array(6).fill(i + 1));
    }
  });

  it('runs taps after the trace and after every replay, with the values eager gives (fusion keeps the tapped tensor)', () => {
    const g = new Rng(2);
    const lin = new nn.Linear(6, 5, { generator: g });
    const seen: number[][] = [];
    const f = compile((x: Tensor) => {
      const z = lin.forward(x); // linear + relu fuse, unless z itself is read
      tap(z, (v) => seen.push(Array.from(v.readSync())));
      return k.relu(z);
    });
    const xs = [1, 2, 3].map((s) => k.randn([4, 6], { generator: new Rng(s) }));
    for (const x of xs) f(x);
    expect(f.plans).toBe(1);
    expect(seen).toEqual(xs.map((x) => Array.from(lin.forward(x).readSync())));
    // Eagerly a tap runs at once.
    let now = 0;
    tap(k.ones([3]), (v) => {
      now = v.size;
    });
    expect(now).toBe(3);
  });

  it("a module's forward tap is compiled (a forward hook is refused), and removing it restores the module", () => {
    const m = new nn.Linear(3, 2, { generator: new Rng(1) });
    const seen: number[] = [];
    const handle = m.registerForwardTap((_m, y) => seen.push(y.shape[0]));
    const f = compile((x: Tensor) => k.sum(m.forward(x)));
    f(k.ones([4, 3]));
    f(k.ones([4, 3]));
    expect(seen).toEqual([4, 4]);
    handle.remove();
    expect(Object.hasOwn(m, 'forward')).toBe(false);
    const hooked = m.registerForwardHook(() => undefined);
    expect(() => compile((x: Tensor) => m.forward(x))(k.ones([1, 3]))).toThrow(/registerForwardTap/);
    hooked.remove();
  });

  it('traces a new plan for a new shape (the last, smaller batch) and keeps both', () => {
    const model = mlp(1, 0);
    const f = compile((x: Tensor) => model.forward(x));
    const a = k.randn([8, 12], { generator: new Rng(1) });
    const b = k.randn([5, 12], { generator: new Rng(2) });
    expect(Array.from(f(a).readSync())).toEqual(Array.from(model.forward(a).readSync()));
    expect(Array.from(f(b).readSync())).toEqual(Array.from(model.forward(b).readSync()));
    expect(Array.from(f(a).readSync())).toEqual(Array.from(model.forward(a).readSync()));
    expect(f.plans).toBe(2);
  });

  it("picks the plan of each call's signature when shapes, dtypes, the key or the grad mode change between calls", () => {
    let scale = 2;
    const f = compile((x: Tensor) => k.mul(x, scale), { key: () => scale, cacheSize: 2 });
    const a = k.full([2, 3], 1);
    const b = k.full([3, 2], 1);
    const c = k.full([6], 1);
    const run = (x: Tensor) => Array.from(f(x).readSync());
    expect(run(a)).toEqual(new Array(6).fill(2));
    expect(run(a)).toEqual(new Array(6).fill(2));
    expect(f(b).shape).toEqual([3, 2]); // same size, another shape: its own plan
    expect(f(a).shape).toEqual([2, 3]);
    expect(f.plans).toBe(2);
    scale = 3; // a new key: a new plan (the least recently used, b's, is dropped: cacheSize 2)
    expect(run(a)).toEqual(new Array(6).fill(3));
    expect(f.plans).toBe(2);
    expect(f(c).shape).toEqual([6]); // drops a's plan with scale 2
    scale = 2;
    expect(run(a)).toEqual(new Array(6).fill(2)); // traced again, not a stale entry
    expect(f(k.full([2, 3], 1, { dtype: 'float64' })).dtype).toBe('float64');
    const g = compile((x: Tensor) => k.mul(x, x));
    const w = k.ones([2]).requiresGrad_();
    expect(g(w).requiresGrad).toBe(false); // outputs are detached either way
    k.noGrad(() => g(w));
    g(w);
    expect(g.plans).toBe(2); // with and without grad mode
    g.dispose();
    expect(g.plans).toBe(0);
    expect(Array.from(g(k.full([2], 3)).readSync())).toEqual([9, 9]);
  });

  it('sees parameters as they are at each call (by reference), and the optimizer follows a scheduler', () => {
    const w = k.tensor([1, 2, 3]).requiresGrad_();
    const opt = new optim.SGD([w], { lr: 0.5 });
    const step = compile(() => {
      opt.zeroGrad();
      const l = k.sum(k.mul(w, w));
      l.backward();
      opt.step();
      return l;
    });
    expect(step().item()).toBe(14); // 1 + 4 + 9; then w ← w − 0.5·2w = 0
    w.storage.write(w, [2, 0, 0]);
    opt.lr = 0.25;
    expect(step().item()).toBe(4); // reads the new w; then w ← 2 − 0.25·4 = 1
    expect(Array.from(w.readSync())).toEqual([1, 0, 0]);
    expect(Array.from(w.grad?.readSync() ?? [])).toEqual([4, 0, 0]);
  });

  it('refuses a host read while tracing, naming it, and puts the dropout generator back', () => {
    const g = new Rng(5);
    const before = g.getState();
    const f = compile((x: Tensor) => {
      const y = nn.F.dropout(x, 0.5, true, g);
      return k.mul(y, y.sum().item());
    });
    expect(() => f(k.ones([4]))).toThrow(CompileError);
    expect(() => f(k.ones([4]))).toThrow(/reads or writes a tensor's elements on the host/);
    expect(g.getState()).toEqual(before);
  });

  it('refuses random numbers drawn on the host while tracing (a plan would replay them), naming the way out', () => {
    const g = new Rng(3);
    const before = g.getState();
    const f = compile((x: Tensor) => k.add(x, k.randn(x.shape, { generator: g })));
    expect(() => f(k.ones([4]))).toThrow(/draws random numbers on the host \(Rng\.fillNormal.*sampleNormal/);
    expect(g.getState()).toEqual(before);
    // Drawn by the backend, the noise is new at every call.
    const h = compile((x: Tensor) => k.add(x, k.sampleNormal(x.shape, { generator: g })));
    const a = Array.from(h(k.ones([4])).readSync());
    const b = Array.from(h(k.ones([4])).readSync());
    expect(h.plans).toBe(1);
    expect(a).not.toEqual(b);
  });

  it("with fallback: 'eager' runs such a function eagerly and says why, once", () => {
    const reasons: string[] = [];
    const f = compile((x: Tensor) => k.mul(x, x.sum().item()), {
      fallback: 'eager',
      onFallback: (r) => reasons.push(r),
    });
    expect(Array.from(f(k.tensor([1, 2])).readSync())).toEqual([3, 6]);
    expect(Array.from(f(k.tensor([1, 3])).readSync())).toEqual([4, 12]);
    expect(reasons.length).toBe(1);
    expect(f.eagerReason).toMatch(/host/);
  });

  it('arguments must be tensors; options are checked', () => {
    const f = compile((x: Tensor) => x);
    expect(() => (f as unknown as (x: number) => Tensor)(3)).toThrow(
      'compile: argument 0 must be a Tensor, got number',
    );
    expect(() => compile((x: Tensor) => x, { cacheSize: 0 })).toThrow(
      'compile: cacheSize must be a positive integer, got 0',
    );
  });
});

describe("compiled steps at the dropout MLP's size", () => {
  const build = () => {
    const g = new Rng(0);
    return new nn.Sequential(
      new nn.Linear(784, 256, { generator: g }),
      new nn.ReLU(),
      new nn.Dropout(0.2, new Rng(1)),
      new nn.Linear(256, 256, { generator: g }),
      new nn.ReLU(),
      new nn.Dropout(0.5, new Rng(2)),
      new nn.Linear(256, 10, { generator: g }),
    );
  };
  const data = () => {
    const g = new Rng(7);
    return { x: k.rand([256, 784], { generator: g }), y: k.randint(0, 10, [256], { generator: g }) };
  };

  it.each(availableBackends().filter((b) => b !== 'js'))(
    'on %s: the same weights as eager after 3 steps (threaded products, fused kernels), no allocation once warm',
    (name) => {
      k.setBackend(name);
      try {
        const run = (compiled: boolean) => {
          const model = build();
          const opt = new optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
          const { x, y } = data();
          const body = (xb: Tensor, yb: Tensor) => {
            opt.zeroGrad();
            const l = nn.F.crossEntropy(model.forward(xb), yb);
            l.backward();
            opt.step();
            return l;
          };
          const step = compiled ? compile(body) : body;
          const losses = [0, 1, 2].map(() => step(x, y).item());
          return { losses, weights: model.parameters().map((p) => Array.from(p.readSync())), step, x, y };
        };
        const eager = run(false);
        const plan = run(true);
        expect(plan.losses).toEqual(eager.losses);
        expect(plan.weights).toEqual(eager.weights);
        const ops = (plan.step as ReturnType<typeof compile>).lastPlanOps;
        expect(ops.filter((o) => o === 'linearAct').length).toBe(2);
        expect(ops.filter((o) => o === 'reluBackward').length).toBe(2);
        expect(ops).toContain('crossEntropyStep');
        // Warm: the kernels ask the host pool for nothing.
        const before = hostStats.calls;
        for (let i = 0; i < 5; i++) plan.step(plan.x, plan.y);
        expect(hostStats.calls - before).toBe(0);
      } finally {
        k.setBackend('wasm');
      }
    },
  );
});

describe('the training step fit runs (TrainStep)', () => {
  it.each(availableBackends())(
    'on %s: gathers its batch by index, sums loss and accuracy on the backend, allocates nothing once warm (arena runners)',
    (name) => {
      k.setBackend(name);
      try {
        const g = new Rng(4);
        const X = k.randn([300, 20], { generator: g });
        const Y = k.randint(0, 3, [300], { generator: g });
        const model = new nn.Sequential(
          new nn.Linear(20, 32, { generator: g }),
          new nn.ReLU(),
          new nn.Dropout(0.3, new Rng(5)),
          new nn.Linear(32, 3, { generator: g }),
        );
        const step = new train.TrainStep({
          model,
          optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }),
          losses: train.lossesOf(),
          clipGradNorm: 1,
          dataset: new data.TensorDataset(X, Y),
        });
        const order = Int32Array.from({ length: 300 }, (_, i) => (i * 7) % 300);
        const run = (b: number) => {
          step.backward(order.subarray(b * 50, b * 50 + 50));
          step.update();
        };
        for (let b = 0; b < 3; b++) run(b);
        const before = hostStats.calls;
        for (let b = 3; b < 6; b++) run(b);
        // js has no arena runner: its plans replay through its allocating kernels.
        if (name !== 'js') expect(hostStats.calls - before).toBe(0);
        const sums = step.readSums();
        expect(sums.loss).toBeGreaterThan(0);
        expect(sums.correct).toBeGreaterThan(0);
        expect(step.eagerReasons).toEqual([]);
      } finally {
        k.setBackend('wasm');
      }
    },
  );
});

describe.each(availableBackends())('fit on %s', (name) => {
  it('compiled (the default) gives the eager run: the same history and weights, bit for bit', async () => {
    k.setBackend(name);
    try {
      const run = async (compile: boolean) => {
        const g = new Rng(11);
        const d = data.moons(300, 0.1, 4);
        const model = new nn.Sequential(
          new nn.Linear(2, 32, { generator: g }),
          new nn.ReLU(),
          new nn.Dropout(0.2, new Rng(12)),
          new nn.Linear(32, 2, { generator: g }),
        );
        const h = await train.fit({
          model,
          optimizer: new optim.AdamW(model.parameters(), { lr: 0.01 }),
          train: new data.DataLoader(new data.TensorDataset(d.X, d.y), {
            batchSize: 64,
            shuffle: true,
            generator: g,
          }),
          test: new data.DataLoader(new data.TensorDataset(d.X, d.y), { batchSize: 100 }),
          epochs: 3,
          clipGradNorm: 0.5,
          compile,
        });
        return {
          epochs: h.epochs.map(({ seconds: _s, samplesPerSecond: _r, ...r }) => r),
          weights: model.parameters().map((p) => Array.from(p.readSync())),
          eager: h.eagerReasons,
        };
      };
      const eager = await run(false);
      const compiled = await run(true);
      expect(compiled.epochs).toEqual(eager.epochs);
      expect(compiled.weights).toEqual(eager.weights);
      expect(compiled.eager).toBeUndefined();
    } finally {
      k.setBackend('wasm');
    }
  });
});

describe('a plain loop over a DataLoader with reuseBatches', () => {
  // The CPU backends with arena runners, whose host pool the stats count (js replays through its
  // allocating kernels; a GPU's batches live in its own buffers).
  it.each(availableBackends().filter((b) => b === 'wasm' || b === 'native'))(
    'on %s: the same losses as fresh batches, and no new host memory per step once warm',
    (name) => {
      k.setBackend(name);
      try {
        const g = new Rng(8);
        // 40 rows of 512 floats: 80 KB batches, pooled sizes (so recycling shows in the stats); 420
        // rows, so each epoch ends with a batch of 20, whose plan is traced at the end of epoch 1.
        const set = new data.TensorDataset(
          k.randn([420, 512], { generator: g }),
          k.randint(0, 4, [420], { generator: g }),
        );
        const run = (reuseBatches: boolean) => {
          const r = new Rng(9);
          const model = new nn.Sequential(
            new nn.Linear(512, 40, { generator: r }), // its weight has a batch's size, as in the MLP benchmarks
            new nn.ReLU(),
            new nn.Dropout(0.2, new Rng(10)),
            new nn.Linear(40, 4, { generator: r }),
          );
          const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
          const step = compile((x: Tensor, y: Tensor) => {
            opt.zeroGrad();
            const l = nn.F.crossEntropy(model.forward(x), y);
            l.backward();
            opt.step();
            return l;
          });
          const loader = new data.DataLoader(set, {
            batchSize: 40,
            shuffle: true,
            generator: r,
            reuseBatches,
          });
          const losses: number[] = [];
          const fresh: number[] = [];
          for (let epoch = 0; epoch < 2; epoch++)
            for (const [x, y] of loader) {
              losses.push(step(x, y).item());
              fresh.push(hostStats.freshBytes);
            }
          // New host memory over epoch 2, after both plans were traced (11 steps an epoch).
          return { losses, growth: (fresh.at(-1) ?? 0) - fresh[10] };
        };
        const plain = run(false);
        const reused = run(true);
        expect(reused.losses).toEqual(plain.losses);
        // Fresh batches: 80 KB of new memory per step in a synchronous loop. Recycled: none in the first
        // step after the last batch's trace (a trace takes no recycled buffer, else its dW₁ took the
        // batch's), only the last batch of 20 (40 KB, below the pool's sizes).
        expect(plain.growth).toBeGreaterThanOrEqual(8 * 80_000);
        expect(reused.growth).toBeLessThanOrEqual(65_536);
      } finally {
        k.setBackend('wasm');
      }
    },
  );
});

describe("the accuracy count's kernels as one pass (CPU plan runners)", () => {
  it.each(availableBackends())('on %s: counts as the eager kernels do, with ties and NaN logits', (name) => {
    k.setBackend(name);
    try {
      const g = new Rng(12);
      // Rows with ties (the first largest wins) and NaN (a NaN wins at its position).
      const base = k.randn([64, 7], { generator: g }).readSync() as Float32Array;
      for (let r = 0; r < 64; r += 5) base[r * 7 + 3] = base[r * 7 + 1] = 9;
      for (let r = 2; r < 64; r += 9) base[r * 7 + 4] = Number.NaN;
      const x = k.tensor(base).reshape([64, 7]);
      const t = k.randint(0, 7, [64], { generator: g });
      const twice = (xs: Tensor, ts: Tensor) => [
        train.countCorrect(xs, ts),
        train.countCorrect(k.mul(xs, 2), ts),
      ];
      const eager = twice(x, t).map((c) => c.item());
      const profile = profilePlans(true);
      const step = compile(twice);
      const first = step(x, t).map((c) => c.item());
      const again = step(x, t).map((c) => c.item());
      profilePlans(false);
      expect(first).toEqual(eager);
      expect(again).toEqual(eager);
      expect(eager[0]).toBeGreaterThan(0);
      // The arena runners ran both chains as the one pass (js replays the kernels).
      if (name === 'wasm' || name === 'native') expect(profile?.get('countCorrect')?.calls).toBe(2);
    } finally {
      k.setBackend('wasm');
    }
  });
});

describe('an optimizer step over a large parameter, shared with the helper threads', () => {
  /** Six steps of a net whose first weight has 300,000 elements (past SPLIT_OPTIMIZER_MIN). */
  function wide(compiled: boolean, make: (ps: Tensor[]) => optim.Optimizer<optim.BaseOptions>) {
    const g = new Rng(8);
    const model = new nn.Sequential(
      new nn.Linear(600, 500, { generator: g }),
      new nn.ReLU(),
      new nn.Linear(500, 3, { generator: g }),
    );
    const data = Array.from({ length: 6 }, (): [Tensor, Tensor] => [
      k.randn([16, 600], { generator: g }),
      k.randint(0, 3, [16], { generator: g }),
    ]);
    return trainSteps(compiled, make, 0, model, data);
  }

  it.each(availableBackends().filter((b) => b === 'wasm' || b === 'native'))(
    'on %s: every optimizer family gives the eager bits, the helpers taking blocks',
    (name) => {
      k.setBackend(name);
      try {
        const gemm = (backendByName('wasm') as unknown as { gemm: { threads: number; helperBlocks: number } })
          .gemm;
        const before = gemm.helperBlocks;
        for (const make of Object.values(makers)) {
          const eager = wide(false, make);
          const plan = wide(true, make);
          expect(plan.losses).toEqual(eager.losses);
          expect(plan.weights).toEqual(eager.weights);
        }
        // With a helper thread (2 cores or more) it took some of the blocks.
        if (gemm.threads > 1) expect(gemm.helperBlocks).toBeGreaterThan(before);
      } finally {
        k.setBackend('wasm');
      }
    },
  );
});

describe('sums over trailing axes in a plan (a loss, row sums)', () => {
  it.each(availableBackends())('on %s: the eager bits, for full sums, row sums and odd lengths', (name) => {
    k.setBackend(name);
    try {
      const g = new Rng(5);
      const a = k.randn([37, 53], { generator: g });
      const b = k.randn([3, 4, 131], { generator: g });
      const sums = (x: Tensor, y: Tensor) => {
        const x2 = k.mul(x, 1.5);
        const y2 = k.sub(y, 0.25);
        return [k.sum(x2), k.sum(x2, -1), k.sum(y2, [1, 2]), k.sum(y2, [2]), k.mean(x2)];
      };
      const eager = sums(a, b).map((t) => Array.from(t.readSync()));
      const step = compile(sums);
      for (let i = 0; i < 2; i++) expect(step(a, b).map((t) => Array.from(t.readSync()))).toEqual(eager);
      expect(eager[1]).toHaveLength(37);
      expect(eager[2]).toHaveLength(3);
    } finally {
      k.setBackend('wasm');
    }
  });
});

describe("cross-entropy's forward and backward as one wasm pass (CPU plan runners)", () => {
  it.each(availableBackends())(
    'on %s: the eager bits for loss and gradient, with NaN, ±∞ and large logits; a bad class named',
    (name) => {
      k.setBackend(name);
      try {
        const g = new Rng(21);
        const base = k.mul(k.randn([48, 10], { generator: g }), 6).readSync() as Float32Array;
        base[3 * 10 + 2] = Number.NaN;
        base[7 * 10 + 5] = Number.POSITIVE_INFINITY;
        base[9 * 10 + 1] = Number.NEGATIVE_INFINITY;
        base[11 * 10 + 0] = 3e38;
        for (let j = 0; j < 10; j++) base[13 * 10 + j] = -1e30; // every logit tiny: the shift
        const t = k.randint(0, 10, [48], { generator: g });
        const w = k.tensor(base).reshape([48, 10]).requiresGrad_();
        const lossAndGrad = (ts: Tensor) => {
          w.grad = null as Tensor | null;
          const l = nn.F.crossEntropy(k.mul(w, 1), ts);
          l.backward();
          return [l, w.grad as Tensor];
        };
        const eager = lossAndGrad(t).map((v) => Array.from(v.readSync()));
        const profile = profilePlans(true);
        const step = compile(lossAndGrad);
        // The first call traces (eager kernels); the two after it replay the plan.
        for (let i = 0; i < 3; i++) {
          const got = step(t).map((v) => Array.from(v.readSync()));
          expect(got).toEqual(eager);
        }
        profilePlans(false);
        if (name === 'wasm' || name === 'native') expect(profile?.get('crossEntropyStep')?.calls).toBe(2);
        const bad = k.tensor(
          [...t.readSync()].map((v, i) => (i === 5 ? 10 : v)),
          { dtype: 'int32' },
        );
        expect(() => lossAndGrad(bad)).toThrow(
          'crossEntropy: target 10 of sample 5 is out of range for 10 classes (allowed 0..9)',
        );
        expect(() => step(bad)).toThrow(
          'crossEntropy: target 10 of sample 5 is out of range for 10 classes (allowed 0..9)',
        );
      } finally {
        k.setBackend('wasm');
      }
    },
  );
});
