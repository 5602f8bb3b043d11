/**
 * Training checkpoints in process: a run resumed from any of its checkpoints — inside an epoch or at
 * an epoch boundary — ends bit-identical to the run that was never interrupted (weights, history,
 * and the final checkpoint's bytes), with dropout, shuffling and input noise from the global and from
 * an own generator, Adam, a scheduler and early stopping with restored best weights in play. And the ways a
 * checkpoint can be refused: not one, malformed, or not fitting the run.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { data, nn, optim, Rng, train } from '../src/index.js';

const EPOCHS = 4;

/** The same run, built from seeds; `scramble` disturbs the global generator first (a new process). */
function build(scramble = false) {
  k.manualSeed(scramble ? 999 : 5);
  const g = new Rng(11);
  const tr = data.moons(200, 0.2, 3);
  const va = data.moons(64, 0.2, 4);
  const model = new nn.Sequential(
    new nn.Linear(2, 16, { generator: g }),
    new nn.ReLU(),
    new nn.Dropout(0.3), // draws from the global generator
    new nn.Linear(16, 16, { generator: g }),
    new nn.ReLU(),
    new nn.Dropout(0.2, new Rng(12)), // its own
    new nn.Linear(16, 2, { generator: g }),
  );
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.02, weightDecay: 1e-3 });
  // Shuffling and input noise (drawn inside the compiled step) from the global generator.
  const loader = new data.DataLoader(new data.TensorDataset(tr.X, tr.y), {
    batchSize: 32,
    shuffle: true,
    transform: data.transforms.gaussianNoise(0.05),
  });
  const validation = new data.DataLoader(new data.TensorDataset(va.X, va.y), {
    batchSize: 16,
    shuffle: true,
    generator: new Rng(13),
  });
  const callbacks = [
    train.schedulerStep(new optim.StepLR(optimizer, 2, 0.5)),
    train.earlyStopping({ patience: 10, restoreBest: true }),
  ];
  return { model, optimizer, train: loader, validation, callbacks, epochs: EPOCHS };
}

async function run(resume?: train.TrainingCheckpoint) {
  const saved: Uint8Array[] = [];
  const r = build(resume !== undefined);
  const history = await train.fit({
    ...r,
    resume,
    // A tiny interval: a checkpoint after every step inside an epoch, and at every epoch's end.
    checkpoint: { save: (c) => void saved.push(train.serializeCheckpoint(c)), minutes: 1e-9 },
  });
  return { history, saved, weights: Object.values(r.model.stateDict()).map((t) => [...t.readSync()]) };
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('training checkpoints', () => {
  it('resuming from any checkpoint ends bit-identical to the uninterrupted run', async () => {
    const full = await run();
    const final = full.saved.at(-1) as Uint8Array;
    // 7 batches per epoch: 6 inside each epoch, one at each of the first 3 epochs' ends, the final one.
    expect(full.saved.length).toBe(EPOCHS * 6 + (EPOCHS - 1) + 1);
    const positions = full.saved.map((b) => train.parseCheckpoint(b).state.position);
    expect(positions.slice(0, 7)).toEqual(
      [1, 2, 3, 4, 5, 6]
        .map((batch, i) => ({ epoch: 1, batch, step: i + 1 }))
        .concat([{ epoch: 2, batch: 0, step: 7 }]),
    );
    // Every fourth checkpoint (inside epochs and at their ends), and the last.
    const picks = full.saved.map((_, i) => i).filter((i) => i % 4 === 1 || i === full.saved.length - 1);
    for (const i of picks) {
      const resumed = await run(train.parseCheckpoint(full.saved[i], `checkpoint ${i}`));
      expect(
        same(resumed.saved.at(-1) as Uint8Array, final),
        `final checkpoint after resuming from #${i}`,
      ).toBe(true);
      expect(resumed.weights).toEqual(full.weights);
      const strip = (h: train.History) => h.epochs.map(({ seconds: _s, samplesPerSecond: _r, ...e }) => e);
      expect(strip(resumed.history)).toEqual(strip(full.history));
      // Epochs before the resume carry no wall-clock facts; the ones it ran do.
      const at = train.parseCheckpoint(full.saved[i]).state.position;
      for (const e of resumed.history.epochs) expect(Number.isNaN(e.seconds)).toBe(e.epoch < at.epoch);
    }
  });

  it('a checkpoint is a safetensors file whose model entries load into PyTorch-named state dicts', async () => {
    const { saved } = await run();
    const content = k.parseSafetensors(saved.at(-1) as Uint8Array);
    expect(content.metadata.format).toBe('keel-checkpoint');
    expect(Object.keys(content.tensors).filter((n) => n.startsWith('model.'))).toEqual(
      expect.arrayContaining(['model.0.weight', 'model.0.bias', 'model.6.weight']),
    );
    expect(Object.keys(content.tensors).some((n) => n.startsWith('optimizer.0.'))).toBe(true);
    expect(Object.keys(content.tensors).some((n) => n.startsWith('callbacks.1.'))).toBe(true); // best weights
  });

  it('refuses what is not a checkpoint, what is malformed, and what does not fit the run', async () => {
    const { saved } = await run();
    const plain = k.serializeSafetensors({ w: k.ones([2]) });
    expect(() => train.parseCheckpoint(plain, 'w.safetensors')).toThrow(
      /^w\.safetensors: not a keel checkpoint \(a safetensors file without the 'keel\.checkpoint' metadata/,
    );
    expect(() => train.parseCheckpoint(new Uint8Array(3), 'x.ckpt')).toThrow(/^x\.ckpt: the file is 3 bytes/);
    const ck = train.parseCheckpoint(saved[3]);
    const bad = train.serializeCheckpoint({
      ...ck,
      state: { ...ck.state, position: { epoch: 1, batch: -1, step: 0 } },
    });
    expect(() => train.parseCheckpoint(bad, 'b.ckpt')).toThrow(
      /^b\.ckpt: the checkpoint state is malformed at state\.position\.batch/,
    );
    const r = build(true);
    await expect(train.fit({ ...r, epochs: 9, resume: ck })).rejects.toThrow(
      /the checkpoint is of a 4-epoch run, this one has 9 epochs/,
    );
    const r2 = build(true);
    await expect(train.fit({ ...r2, callbacks: r2.callbacks.slice(0, 1), resume: ck })).rejects.toThrow(
      /it holds the state of 2 callbacks, this run has 1/,
    );
    const r3 = build(true);
    const other = new nn.Sequential(new nn.Linear(2, 3));
    await expect(
      train.fit({ ...r3, model: other, optimizer: new optim.Adam(other.parameters()), resume: ck }),
    ).rejects.toThrow(/checkpoint: the model does not fit it \(loadStateDict\(Sequential\)/);
  });
});
