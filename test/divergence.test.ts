/**
 * A diverged loss stops `fit` by default, with a diagnosis of its cause: the op found by replaying
 * the step in anomaly mode, parameters already non-finite, or an exploded (finite) loss. 'continue'
 * trains on, and the diagnosis replay leaves no trace on the trajectory (same weights bit for bit as a
 * run that never diverged). An AbortSignal stops `fit` between steps with an InterruptedError carrying
 * the history, and the loop lets timers run while it trains.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { data, nn, optim, Rng, train } from '../src/index.js';
import { formatNumber } from '../src/util/number.js';

const moonsLoader = (g: Rng, n = 256, batchSize = 32) => {
  const d = data.moons(n, 0.1, 5);
  return new data.DataLoader(new data.TensorDataset(d.X, d.y), { batchSize, shuffle: true, generator: g });
};

const mlp = (g: Rng, dropout = 0) =>
  new nn.Sequential(
    new nn.Linear(2, 16, { generator: g }),
    new nn.ReLU(),
    ...(dropout > 0 ? [new nn.Dropout(dropout, g)] : []),
    new nn.Linear(16, 2, { generator: g }),
  );

/** log of a linear map: NaN as soon as one output is negative (it is, at the start). */
class LogHead extends nn.Module {
  lin: nn.Linear;
  constructor(g: Rng) {
    super();
    this.lin = new nn.Linear(2, 2, { generator: g });
  }
  forward(x: k.Tensor): k.Tensor {
    return k.log(this.lin.forward(x));
  }
}

describe('divergence', () => {
  it('stops at the first NaN loss and names the op that produced it', async () => {
    const g = new Rng(1);
    const model = new LogHead(g);
    const h = await train.fit({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
      train: moonsLoader(g),
      epochs: 3,
    });
    expect(h.stoppedEarly).toBe(true);
    expect(h.stopReason).toBe('diverged');
    expect(h.epochs).toEqual([]);
    const d = h.divergence as train.Divergence;
    expect(d).toMatchObject({ epoch: 1, step: 1, batch: 1, reason: 'non-finite', count: 1 });
    expect(Number.isNaN(d.loss)).toBe(true);
    expect(d.anomaly).toMatchObject({ phase: 'forward', op: 'log', inputShapes: [[32, 2]] });
    expect(d.diagnosis).toMatch(
      /^the first op to turn finite values into NaN\/Inf was the forward of 'log': it produced \d+ NaN of 64 values/,
    );
  });

  it('an exploded loss counts as diverged too; parameters already non-finite are named', async () => {
    const g = new Rng(2);
    const model = mlp(g);
    const h = await train.fit({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 1e6 }),
      train: moonsLoader(g),
      epochs: 2,
    });
    const d = h.divergence as train.Divergence;
    expect(d.reason).toBe('exploded');
    expect(d.loss).toBeGreaterThan(1e6 * d.firstLoss);
    expect(d.diagnosis).toContain(
      `the loss grew from ${formatNumber(d.firstLoss, 4, 'significant')} at step 1`,
    );
    expect(d.recentLosses.at(-1)).toEqual({ step: d.step, loss: d.loss });

    const g2 = new Rng(3);
    const broken = mlp(g2);
    const w = (broken.layers[2] as nn.Linear).weight;
    w.storage.write({ shape: [], strides: [], offset: 5 }, [Number.NaN]);
    const h2 = await train.fit({
      model: broken,
      optimizer: new optim.SGD(broken.parameters(), { lr: 0.1 }),
      train: moonsLoader(g2),
      epochs: 1,
    });
    expect(h2.divergence?.nonFiniteParameters).toEqual(['2.weight']);
    expect(h2.divergence?.diagnosis).toMatch(/^parameters 2.weight already held NaN\/Inf before this step/);
  });

  it('patience: stops after the given number of further diverged steps', async () => {
    const g = new Rng(1);
    const model = new LogHead(g);
    const h = await train.fit({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
      train: moonsLoader(g),
      epochs: 3,
      divergence: { patience: 2 },
    });
    expect(h.divergence?.step).toBe(1);
    expect(h.divergence?.count).toBe(3);
    expect(h.stopReason).toBe('diverged');
  });

  it("'continue' trains on, and the diagnosis replay changes nothing (dropout masks, weights)", async () => {
    // The loss reads NaN at step 3 through a constant outside the graph: the gradients stay those of
    // the cross-entropy, so a run that continues must end with the very weights of one that never
    // saw a NaN — unless the replay drew dropout masks or touched gradients.
    const runWith = async (poison: number) => {
      const g = new Rng(9);
      const model = mlp(g, 0.5);
      let step = 0;
      const h = await train.fit({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }),
        train: moonsLoader(g),
        epochs: 2,
        loss: (o, y) => k.add(nn.F.crossEntropy(o, y), step === 3 ? poison : 0),
        callbacks: [{ onBatchBegin: () => void step++ }],
        divergence: { onNonFinite: 'continue' },
        // The loss reads a JS counter: eager steps (a compiled plan fixes such values at its trace).
        compile: false,
      });
      return { h, weights: model.parameters().map((p) => Array.from(p.readSync())) };
    };
    const clean = await runWith(0);
    const poisoned = await runWith(Number.NaN);
    expect(clean.h.divergence).toBeUndefined();
    expect(poisoned.h.divergence).toMatchObject({ step: 3, reason: 'non-finite' });
    expect(poisoned.h.divergence?.diagnosis).toMatch(
      /entered as a constant or a tensor made outside the graph/,
    );
    expect(poisoned.h.epochs.length).toBe(2);
    expect(poisoned.h.stopReason).toBeUndefined();
    expect(poisoned.weights).toEqual(clean.weights);
  });

  it('rejects bad options with the value and what is allowed', async () => {
    const g = new Rng(1);
    const model = mlp(g);
    const opts = {
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
      train: moonsLoader(g),
      epochs: 1,
    };
    await expect(train.fit({ ...opts, divergence: { patience: -1 } })).rejects.toThrow(
      'fit: divergence.patience must be a non-negative integer, got -1',
    );
    await expect(train.fit({ ...opts, divergence: { factor: 0.5 } })).rejects.toThrow(
      /divergence.factor must be > 1/,
    );
    await expect(train.fit({ ...opts, divergence: { onNonFinite: 'ignore' as 'stop' } })).rejects.toThrow(
      "divergence.onNonFinite must be 'stop' or 'continue', got 'ignore'",
    );
  });
});

describe('interrupting fit', () => {
  it('an aborted signal stops between steps with the history so far', async () => {
    const g = new Rng(4);
    const model = mlp(g);
    const ctl = new AbortController();
    const loader = moonsLoader(g); // 8 batches per epoch
    let err: unknown;
    try {
      await train.fit({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
        train: loader,
        epochs: 5,
        signal: ctl.signal,
        callbacks: [{ onBatchEnd: (b) => void (b.epoch === 2 && b.batch === 3 && ctl.abort('SIGINT')) }],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(train.InterruptedError);
    const e = err as train.InterruptedError;
    expect(e.reason).toBe('SIGINT');
    expect(e.at).toEqual({ epoch: 2, step: 11 });
    expect(e.history.epochs.length).toBe(1);
    expect(e.message).toBe('training interrupted at epoch 2, step 11 (SIGINT)');
  });

  it('timers run while fit trains (so signals and messages are handled between steps)', async () => {
    const g = new Rng(5);
    const model = mlp(g);
    const steps: number[] = [];
    let step = 0;
    const timer = setInterval(() => steps.push(step), 5);
    try {
      await train.fit({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
        train: moonsLoader(g, 2048, 8),
        epochs: 3,
        callbacks: [{ onBatchEnd: () => void step++ }],
      });
    } finally {
      clearInterval(timer);
    }
    // The timer fired in the middle of training, not only before or after it.
    expect(steps.some((s) => s > 0 && s < step)).toBe(true);
  });
});
