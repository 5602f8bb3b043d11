/**
 * Constructed failures trigger exactly the expected alarm and name the right layer: vanishing
 * gradients in a deep sigmoid net with N(0,1) init, exploding gradients under a huge learning rate,
 * NaN from log of a negative input (anomaly mode names 'log'), a frozen branch (no gradient), dead
 * ReLUs, saturated sigmoids, overfitting on few samples — and a healthy network raises nothing.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { data, diagnostics, nn, optim, Rng, type Tensor, train } from '../src/index.js';

const moons = data.moons(256, 0.1, 1);
const loader = (g: Rng, bs = 32) =>
  new data.DataLoader(new data.TensorDataset(moons.X, moons.y), {
    batchSize: bs,
    shuffle: true,
    generator: g,
  });

function deep(
  act: () => nn.Module,
  init: (w: Tensor, g: Rng) => void,
  depth = 8,
  width = 32,
  seed = 0,
): nn.Sequential {
  const g = new Rng(seed);
  const layers: nn.Module[] = [];
  for (let i = 0; i < depth; i++) {
    const l = new nn.Linear(i === 0 ? 2 : width, i === depth - 1 ? 2 : width, { generator: g });
    init(l.weight, g);
    nn.init.zeros_(l.bias as Tensor);
    layers.push(l);
    if (i < depth - 1) layers.push(act());
  }
  return new nn.Sequential(...layers);
}

function trainWith(
  model: nn.Module,
  opt: optim.Optimizer<optim.BaseOptions>,
  epochs: number,
  d: diagnostics.Diagnostics,
  validation?: data.DataLoader,
  trainLoader = loader(new Rng(0)),
) {
  return train.fit({
    model,
    optimizer: opt,
    train: trainLoader,
    validation,
    epochs,
    callbacks: [d.callback()],
  });
}

const kinds = (d: diagnostics.Diagnostics) => [...new Set(d.alarms.map((a) => a.kind))].sort();

describe('diagnostics', () => {
  it('a healthy network trains with no alarm', async () => {
    const g = new Rng(2);
    const model = new nn.Sequential(
      new nn.Linear(2, 32, { generator: g }),
      new nn.ReLU(),
      new nn.Linear(32, 2, { generator: g }),
    );
    const d = new diagnostics.Diagnostics(model, { every: 5 });
    const val = new data.DataLoader(
      new data.TensorDataset(data.moons(128, 0.1, 9).X, data.moons(128, 0.1, 9).y),
      { batchSize: 128 },
    );
    const h = await trainWith(
      model,
      new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }),
      10,
      d,
      val,
    );
    expect(d.alarms).toEqual([]);
    expect(h.epochs.at(-1)?.valAccuracy).toBeGreaterThan(0.85);
    expect(d.samples.length).toBeGreaterThan(5);
    const s = d.samples[0];
    expect(Object.keys(s.params)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(s.layers['1 (ReLU)'].dead).toBeLessThan(0.5);
    expect(d.samples[1].params['0.weight'].updateRatio).toBeGreaterThan(0);
  });

  it('samples hold the exact norms and update ratios of each step (host copies reused between samples)', () => {
    const g = new Rng(4);
    const model = new nn.Sequential(
      new nn.Linear(2, 8, { generator: g }),
      new nn.Tanh(),
      new nn.Linear(8, 2, { generator: g }),
    );
    const opt = new optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
    const d = new diagnostics.Diagnostics(model, { every: 1 });
    const sq = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v * v, 0);
    const norm = (a: ArrayLike<number>) => Math.sqrt(sq(a));
    for (let step = 0; step < 4; step++) {
      d.beginStep(1);
      opt.zeroGrad();
      const x = moons.X.narrow(0, 32 * step, 32);
      const loss = nn.F.crossEntropy(model.forward(x), moons.y.narrow(0, 32 * step, 32));
      loss.backward();
      const before = model
        .namedParameters()
        .map(([n, p]) => [n, p.readSync(), (p.grad as Tensor).readSync()] as const);
      d.afterBackward(loss.item());
      opt.step();
      d.afterStep();
      const s = d.samples[step];
      for (const [name, w0, g0] of before) {
        const w1 = new Map(model.namedParameters()).get(name)?.readSync() ?? [];
        expect(s.params[name].gradNorm).toBe(norm(g0));
        expect(s.params[name].weightNorm).toBe(norm(w0));
        expect(s.params[name].updateRatio).toBe(Math.sqrt(sq(Array.from(w1, (v, i) => v - w0[i])) / sq(w0)));
      }
      expect(s.layers['1 (Tanh)'].std).toBeGreaterThan(0);
    }
    expect(new Set(d.samples.map((s) => s.params['0.weight'].updateRatio)).size).toBe(4);
  });

  it('vanishing: deep sigmoid net with N(0,1) init names the earliest layers', async () => {
    const model = deep(
      () => new nn.Sigmoid(),
      (w, g) => nn.init.normal_(w, 0, 1, { generator: g }),
      10,
    );
    const d = new diagnostics.Diagnostics(model);
    await trainWith(model, new optim.SGD(model.parameters(), { lr: 0.01 }), 1, d);
    const v = d.alarms.filter((a) => a.kind === 'vanishing');
    expect(v.length).toBe(1);
    expect(v[0].where[0]).toBe('0.weight');
    expect(v[0].suggestion).toMatch(/Kaiming/);
    expect(kinds(d)).not.toContain('exploding');
  });

  it('exploding: a huge learning rate', async () => {
    const g = new Rng(4);
    const model = new nn.Sequential(
      new nn.Linear(2, 64, { generator: g }),
      new nn.ReLU(),
      new nn.Linear(64, 64, { generator: g }),
      new nn.ReLU(),
      new nn.Linear(64, 2, { generator: g }),
    );
    const d = new diagnostics.Diagnostics(model, { every: 1 });
    await trainWith(model, new optim.SGD(model.parameters(), { lr: 50 }), 2, d);
    expect(kinds(d)).toContain('exploding');
    expect(d.alarms.find((a) => a.kind === 'exploding')?.suggestion).toMatch(/learning rate/);
  });

  it('non-finite: anomaly mode names the log op and its input shape', async () => {
    const x = k.tensor([[1, -2, 3]], { requiresGrad: true });
    expect(() => diagnostics.detectAnomaly(() => k.sum(k.log(k.mul(x, 2))))).toThrow(
      diagnostics.AnomalyError,
    );
    try {
      diagnostics.detectAnomaly(() => k.sum(k.log(k.mul(x, 2))));
    } catch (e) {
      const a = e as diagnostics.AnomalyError;
      expect(a.phase).toBe('forward');
      expect(a.op).toBe('log');
      expect(a.inputShapes).toEqual([[1, 3]]);
      expect(a.message).toBe(
        "anomaly: forward of 'log' produced 1 NaN of 3 values from finite inputs of shapes [1,3]",
      );
    }
    // Outside anomaly mode the NaN flows on silently.
    expect(Number.isNaN(k.sum(k.log(x)).item())).toBe(true);
  });

  it('non-finite in backward: sqrt at 0 has an infinite derivative', async () => {
    const x = k.tensor([0, 4], { requiresGrad: true });
    expect(() => diagnostics.detectAnomaly(() => k.sum(k.sqrt(x)).backward())).toThrow(
      /backward of 'sqrt' produced a gradient with 1 Inf of 2 values/,
    );
  });

  it('non-finite loss during training raises a non-finite alarm', async () => {
    const g = new Rng(1);
    const model = new nn.Sequential(new nn.Linear(2, 2, { generator: g }));
    const d = new diagnostics.Diagnostics(model);
    await train.fit({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
      train: loader(g),
      epochs: 1,
      loss: (o, y) => k.add(nn.F.crossEntropy(o, y), k.log(k.tensor(-1))),
      callbacks: [d.callback()],
    });
    expect(kinds(d)).toContain('non-finite');
    expect(d.alarms.find((a) => a.kind === 'non-finite')?.where).toContain('loss');
  });

  it('no gradient: a frozen branch is named', async () => {
    class TwoBranch extends nn.Module {
      used = new nn.Linear(2, 2);
      unused = new nn.Linear(2, 2);
      forward(x: Tensor): Tensor {
        this.unused.forward(x).detach();
        return this.used.forward(x);
      }
    }
    const model = new TwoBranch();
    const d = new diagnostics.Diagnostics(model);
    await trainWith(model, new optim.SGD(model.parameters(), { lr: 0.1 }), 1, d);
    expect(d.alarms.map((a) => [a.kind, a.where])).toEqual([
      ['no-gradient', ['unused.weight', 'unused.bias']],
    ]);
  });

  it('dead units: ReLU after a large negative bias', async () => {
    const g = new Rng(5);
    const l = new nn.Linear(2, 16, { generator: g });
    nn.init.constant_(l.bias as Tensor, -10);
    const model = new nn.Sequential(l, new nn.ReLU(), new nn.Linear(16, 2, { generator: g }));
    const d = new diagnostics.Diagnostics(model);
    await trainWith(model, new optim.SGD(model.parameters(), { lr: 0.01 }), 1, d);
    const dead = d.alarms.find((a) => a.kind === 'dead-units');
    expect(dead?.where).toEqual(['1 (ReLU)']);
  });

  it('saturation: sigmoid after huge weights', async () => {
    const g = new Rng(6);
    const l = new nn.Linear(2, 16, { generator: g });
    nn.init.normal_(l.weight, 0, 50, { generator: g });
    const model = new nn.Sequential(l, new nn.Sigmoid(), new nn.Linear(16, 2, { generator: g }));
    const d = new diagnostics.Diagnostics(model);
    await trainWith(model, new optim.SGD(model.parameters(), { lr: 0.01 }), 1, d);
    expect(d.alarms.find((a) => a.kind === 'saturated')?.where).toEqual(['1 (Sigmoid)']);
  });

  it('overfitting: validation loss rising while training loss falls', async () => {
    const g = new Rng(3);
    const X = k.randn([16, 20], { generator: g });
    const y = k.randint(0, 2, [16], { generator: g });
    const Xv = k.randn([128, 20], { generator: g });
    const yv = k.randint(0, 2, [128], { generator: g });
    const model = new nn.Sequential(
      new nn.Linear(20, 256, { generator: g }),
      new nn.ReLU(),
      new nn.Linear(256, 2, { generator: g }),
    );
    const d = new diagnostics.Diagnostics(model, { overfitEpochs: 3 });
    await trainWith(
      model,
      new optim.Adam(model.parameters(), { lr: 0.01 }),
      40,
      d,
      new data.DataLoader(new data.TensorDataset(Xv, yv), { batchSize: 128 }),
      new data.DataLoader(new data.TensorDataset(X, y), { batchSize: 16 }),
    );
    const o = d.alarms.filter((a) => a.kind === 'overfitting');
    expect(o.length).toBe(1);
    expect(o[0].message).toMatch(/validation loss rose for 3 epochs/);
    expect(o[0].suggestion).toMatch(/weight decay or dropout/);
  });

  it('taps are on for sampled steps only, and detach restores the modules', async () => {
    const m = new nn.Sequential(new nn.Linear(2, 2));
    const d = new diagnostics.Diagnostics(m, { every: 3 });
    expect(Object.hasOwn(m.at(0), 'forward')).toBe(false);
    const seen: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      d.beginStep(1);
      seen.push(d.sampling && Object.hasOwn(m.at(0), 'forward'));
      m.forward(k.ones([1, 2]))
        .sum()
        .backward();
      d.afterBackward(1);
    }
    // Steps 1 and 3 are sampled; the hooks come off after each sample.
    expect(seen).toEqual([true, false, true, false]);
    expect(Object.hasOwn(m.at(0), 'forward')).toBe(false);
    d.beginStep(1);
    d.detach();
    expect(Object.hasOwn(m.at(0), 'forward')).toBe(false);
    expect(() => new diagnostics.Diagnostics(m, { every: 0 })).toThrow(
      'Diagnostics: every must be a positive integer, got 0',
    );
  });

  it('sampled steps run compiled plans traced with the taps: the same samples as eager steps, nothing eager', async () => {
    let forwards = 0;
    class Counted extends nn.Linear {
      override forward(x: Tensor): Tensor {
        forwards++;
        return super.forward(x);
      }
    }
    const run = async (compile: boolean) => {
      forwards = 0;
      const g = new Rng(4);
      const model = new nn.Sequential(
        new Counted(2, 16, { generator: g }),
        new nn.ReLU(),
        new nn.Dropout(0.2, g),
        new nn.Linear(16, 2, { generator: g }),
      );
      const d = new diagnostics.Diagnostics(model, { every: 3 });
      const h = await train.fit({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
        train: loader(g),
        epochs: 2,
        compile,
        callbacks: [d.callback()],
      });
      return { h, d };
    };
    const eager = await run(false);
    expect(forwards).toBe(16);
    const compiled = await run(true);
    // Forward ran only to trace the two plans (sampled and not): the sampled steps replayed theirs.
    expect(forwards).toBe(2);
    expect(compiled.h.eagerReasons ?? []).toEqual([]);
    // 16 steps: step 1 and every third.
    expect(compiled.d.samples.map((x) => x.step)).toEqual([1, 3, 6, 9, 12, 15]);
    expect(compiled.d.samples).toEqual(eager.d.samples);
    expect(Object.keys(compiled.d.samples[2].layers)).toEqual([
      '0 (Counted)',
      '1 (ReLU)',
      '2 (Dropout)',
      '3 (Linear)',
    ]);
    expect(compiled.h.epochs.map((e) => e.trainLoss)).toEqual(eager.h.epochs.map((e) => e.trainLoss));
  });
});
