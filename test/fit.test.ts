/**
 * The training loop end to end, seeded and short: a small MLP learns the moons; histories carry
 * losses and accuracies; callbacks stop early and restore the best weights, step schedulers and
 * receive checkpoints; the same seed gives bit-identical losses.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { data, nn, optim, Rng, train } from '../src/index.js';

async function moonsRun(seed: number, epochs = 30) {
  const g = new Rng(seed);
  const tr = data.moons(400, 0.1, seed);
  const te = data.moons(200, 0.1, seed + 100);
  const model = new nn.Sequential(
    new nn.Linear(2, 32, { generator: g }),
    new nn.ReLU(),
    new nn.Linear(32, 2, { generator: g }),
  );
  const opt = new optim.SGD(model.parameters(), { lr: 0.2, momentum: 0.9 });
  const history = await train.fit({
    model,
    optimizer: opt,
    train: new data.DataLoader(new data.TensorDataset(tr.X, tr.y), {
      batchSize: 32,
      shuffle: true,
      generator: g,
    }),
    test: new data.DataLoader(new data.TensorDataset(te.X, te.y), { batchSize: 100 }),
    epochs,
  });
  return { model, history };
}

describe('fit', () => {
  it('a small MLP learns the moons', async () => {
    const { history } = await moonsRun(1);
    const last = history.epochs.at(-1) as train.EpochRecord;
    expect(history.epochs.length).toBe(30);
    expect(last.testAccuracy).toBeGreaterThan(0.95);
    expect(last.trainLoss).toBeLessThan(history.epochs[0].trainLoss / 3);
    expect(last.samplesPerSecond).toBeGreaterThan(0);
  });

  it('same seed, bit-identical losses', async () => {
    const a = (await moonsRun(7, 3)).history.epochs.map((e) => e.trainLoss);
    const b = (await moonsRun(7, 3)).history.epochs.map((e) => e.trainLoss);
    expect(a).toEqual(b);
  });

  it('regression targets: losses without accuracy', async () => {
    const d = data.weightDecayData({ d: 5, nTrain: 50, nTest: 20 });
    const model = new nn.Linear(5, 1);
    const h = await train.fit({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.05 }),
      train: new data.DataLoader(d.train, { batchSize: 10 }),
      validation: new data.DataLoader(d.test, { batchSize: 20 }),
      loss: nn.F.mseLoss,
      epochs: 20,
    });
    expect(h.epochs[0].trainAccuracy).toBeUndefined();
    expect(h.epochs.at(-1)?.valLoss).toBeLessThan(h.epochs[0].valLoss as number);
  });

  it('early stopping stops and restores the best weights', async () => {
    // Memorize 8 noisy points with a big model so validation loss rises.
    const g = new Rng(3);
    const X = k.randn([8, 20], { generator: g });
    const y = k.randint(0, 2, [8], { generator: g });
    const Xv = k.randn([64, 20], { generator: g });
    const yv = k.randint(0, 2, [64], { generator: g });
    const model = new nn.Sequential(
      new nn.Linear(20, 128, { generator: g }),
      new nn.ReLU(),
      new nn.Linear(128, 2, { generator: g }),
    );
    const stopper = train.earlyStopping({ patience: 3 });
    const h = await train.fit({
      model,
      optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }),
      train: new data.DataLoader(new data.TensorDataset(X, y), { batchSize: 8 }),
      validation: new data.DataLoader(new data.TensorDataset(Xv, yv), { batchSize: 64 }),
      epochs: 200,
      callbacks: [stopper],
    });
    expect(h.stoppedEarly).toBe(true);
    expect(h.stopReason).toBe('callback');
    expect(h.epochs.length).toBe(stopper.bestEpoch() + 3);
    const best = h.epochs[stopper.bestEpoch() - 1].valLoss as number;
    const now = train.evaluate(
      model,
      new data.DataLoader(new data.TensorDataset(Xv, yv), { batchSize: 64 }),
    ).loss;
    expect(now).toBeCloseTo(best, 5);
  });

  it('scheduler and checkpoint callbacks', async () => {
    const d = data.moons(64);
    const model = new nn.Linear(2, 2);
    const opt = new optim.SGD(model.parameters(), { lr: 1 });
    const saved: number[] = [];
    const h = await train.fit({
      model,
      optimizer: opt,
      train: new data.DataLoader(new data.TensorDataset(d.X, d.y), { batchSize: 16 }),
      epochs: 4,
      callbacks: [
        train.schedulerStep(new optim.StepLR(opt, 1, 0.5)),
        train.checkpoint((c) => saved.push(c.epoch), 2),
      ],
    });
    expect(h.epochs.map((e) => e.lr)).toEqual([1, 0.5, 0.25, 0.125]);
    expect(saved).toEqual([2, 4]);
  });

  it('names a missing monitored value', async () => {
    const d = data.moons(16);
    const model = new nn.Linear(2, 2);
    await expect(
      train.fit({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
        train: new data.DataLoader(new data.TensorDataset(d.X, d.y), { batchSize: 16 }),
        epochs: 1,
        callbacks: [train.earlyStopping()],
      }),
    ).rejects.toThrow(/no 'valLoss' \(is a validation loader given\?\)/);
  });

  describe('readEvery: the loss and accuracy stay on the backend between reads', () => {
    async function run(readEvery: number | undefined, poisonAt?: number) {
      const g = new Rng(3);
      const d = data.moons(300, 0.1, 3); // 10 batches of 32 (the last of 12)
      const model = new nn.Sequential(
        new nn.Linear(2, 16, { generator: g }),
        new nn.ReLU(),
        new nn.Linear(16, 2, { generator: g }),
      );
      const batches: train.BatchInfo[] = [];
      let reads = 0;
      const proto = train.TrainStep.prototype;
      const original = proto.readSums;
      proto.readSums = function (this: train.TrainStep) {
        reads++;
        return original.call(this);
      } as typeof original;
      let step = 0;
      try {
        const h = await train.fit({
          model,
          optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
          train: new data.DataLoader(new data.TensorDataset(d.X, d.y), {
            batchSize: 32,
            shuffle: true,
            generator: g,
          }),
          epochs: 2,
          readEvery,
          // A NaN input at step `poisonAt` makes that loss NaN.
          loss: (o, t) =>
            ++step === poisonAt ? k.mul(nn.F.crossEntropy(o, t), Number.NaN) : nn.F.crossEntropy(o, t),
          callbacks: [{ onBatchEnd: (b) => void batches.push({ ...b }) }],
          // The loss reads a JS counter: eager steps (a compiled plan fixes such values at its trace).
          compile: poisonAt === undefined,
        });
        return { h, batches, reads };
      } finally {
        proto.readSums = original;
      }
    }

    it('reads every readEvery steps and at the end of each epoch, with the same epoch totals', async () => {
      const one = await run(undefined);
      const four = await run(4);
      expect(one.batches.every((b) => b.read)).toBe(true);
      expect(four.batches.filter((b) => b.epoch === 1).map((b) => b.read)).toEqual([
        false,
        false,
        false,
        true,
        false,
        false,
        false,
        true,
        false,
        true,
      ]);
      // The same trajectory: each read reports the mean loss of its interval.
      const l1 = one.batches.map((b) => b.loss);
      const mean = (from: number, to: number) => {
        let s = 0;
        let n = 0;
        for (let i = from; i < to; i++) {
          const size = i % 10 === 9 ? 12 : 32;
          s += l1[i] * size;
          n += size;
        }
        return s / n;
      };
      expect(four.batches[3].loss).toBeCloseTo(mean(0, 4), 12);
      expect(four.batches[7].loss).toBeCloseTo(mean(4, 8), 12);
      expect(four.batches[9].loss).toBeCloseTo(mean(8, 10), 12);
      expect(four.batches[5].loss).toBe(four.batches[3].loss); // between reads: the latest value read
      for (let e = 0; e < 2; e++) {
        expect(four.h.epochs[e].trainLoss).toBeCloseTo(one.h.epochs[e].trainLoss, 12);
        expect(four.h.epochs[e].trainAccuracy).toBe(one.h.epochs[e].trainAccuracy);
      }
      // 20 steps: 20 reads of the step's sums at readEvery 1, 6 at readEvery 4.
      expect([one.reads, four.reads]).toEqual([20, 6]);
    });

    it('catches a divergence at the next read', async () => {
      const { h } = await run(4, 2);
      expect(h.stopReason).toBe('diverged');
      expect(h.divergence?.step).toBe(4);
      expect(h.divergence?.reason).toBe('non-finite');
      expect(h.epochs.length).toBe(0);
    });

    it('names a bad readEvery', async () => {
      await expect(run(0)).rejects.toThrow(
        /fit: readEvery must be a positive integer \(steps between loss reads\), got 0/,
      );
    });
  });
});
