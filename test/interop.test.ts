/**
 * keel ⇄ PyTorch through safetensors state dicts, with committed files and no Python at test time:
 * - keel writes `golden/keel-model.safetensors` byte for byte (a seeded model of every layer type
 *   with a state), which test/golden/safetensors_interop.py loads into the same PyTorch
 *   `nn.Sequential` with `load_state_dict(strict=True)`; keel's outputs must equal PyTorch's on it;
 * - PyTorch's file (`golden/torch-model.safetensors`, its own keys, int64 `num_batches_tracked`)
 *   loads into keel strictly and gives PyTorch's outputs.
 * - a keel training checkpoint's `model.*` entries load into PyTorch too (golden/keel-checkpoint.safetensors).
 * `KEEL_WRITE_GOLDEN=1` rewrites keel's files instead of comparing (then run the Python script:
 * `npm run golden` does both).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, serializeSafetensors } from '../src/format/safetensors.js';
import * as k from '../src/index.js';
import { nn, Rng } from '../src/index.js';
import { decode, type Encoded, expectClose } from './helpers.js';

const golden = (name: string) => new URL(`./golden/${name}`, import.meta.url);

/** The architecture both sides build (PyTorch: the same indices and layer types). */
function net(): nn.Sequential {
  return new nn.Sequential(
    new nn.Flatten(),
    new nn.Linear(6, 8),
    new nn.ReLU(),
    new nn.LayerNorm(8),
    new nn.Linear(8, 8),
    new nn.BatchNorm1d(8),
    new nn.Tanh(),
    new nn.Dropout(0.3),
    new nn.Linear(8, 3),
  );
}

/** keel's seeded model: every state entry drawn from one generator in key order. */
function keelModel(): nn.Sequential {
  const m = net();
  const g = new Rng(20261202);
  const state: Record<string, k.Tensor> = {};
  for (const [name, t] of Object.entries(m.stateDict()).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (name.endsWith('num_batches_tracked')) state[name] = k.tensor(7, { dtype: 'int32' });
    else if (name.endsWith('running_var'))
      state[name] = k.add(k.abs(k.randn(t.shape, { generator: g })), 0.5);
    else state[name] = k.randn(t.shape, { generator: g });
  }
  m.loadStateDict(state);
  return m.eval();
}

interface Golden {
  input: Encoded;
  keelModelOutput: Encoded;
  keelCheckpointOutput: Encoded;
  torchModelOutput: Encoded;
  torchNumBatchesTracked: number;
}

describe('safetensors interchange with PyTorch', () => {
  it('writes the committed keel file byte for byte, which PyTorch loads strictly and agrees with', () => {
    const bytes = serializeSafetensors(keelModel().stateDict(), { format: 'pt' });
    // Writing mode: the files change, and the Python script records PyTorch's side afterwards.
    if (process.env.KEEL_WRITE_GOLDEN) return void writeFileSync(golden('keel-model.safetensors'), bytes);
    expect(Buffer.from(bytes).equals(readFileSync(golden('keel-model.safetensors')))).toBe(true);
    const g = JSON.parse(readFileSync(golden('safetensors.json'), 'utf8')) as Golden;
    const x = decode(g.input, 'float32');
    expectClose(keelModel().forward(x), decode(g.keelModelOutput, 'float32'), 1e-5, 1e-5);
  });

  it("loads PyTorch's file strictly (its keys, int64 num_batches_tracked) and gives PyTorch's outputs", () => {
    const { tensors, metadata } = parseSafetensors(
      readFileSync(golden('torch-model.safetensors')),
      'torch-model.safetensors',
    );
    expect(metadata).toEqual({ format: 'pt' });
    const m = net();
    m.loadStateDict(tensors);
    m.eval();
    const g = JSON.parse(readFileSync(golden('safetensors.json'), 'utf8')) as Golden;
    expect(m.stateDict()['5.num_batches_tracked'].item()).toBe(g.torchNumBatchesTracked);
    expectClose(m.forward(decode(g.input, 'float32')), decode(g.torchModelOutput, 'float32'), 1e-5, 1e-5);
  });

  it("a keel training checkpoint's model entries load into PyTorch (prefix 'model.' stripped) and agree", async () => {
    // The committed checkpoint is a fixed file (written once by a short seeded fit), so this holds
    // on every backend; PyTorch's outputs on it were recorded by safetensors_interop.py.
    const path = golden('keel-checkpoint.safetensors');
    if (process.env.KEEL_WRITE_GOLDEN) {
      k.manualSeed(11); // the global generator draws the initial weights and the dropout masks
      const m = net();
      const g = new Rng(3);
      const x = k.randn([64, 2, 3], { generator: g });
      const y = k.randint(0, 3, [64], { generator: g });
      let bytes: Uint8Array = new Uint8Array();
      await k.train.fit({
        model: m,
        optimizer: new k.optim.AdamW(m.parameters(), { lr: 0.01 }),
        train: new k.data.DataLoader(new k.data.TensorDataset(x, y), {
          batchSize: 16,
          shuffle: true,
          generator: g,
        }),
        epochs: 2,
        checkpoint: { save: (c) => void (bytes = k.train.serializeCheckpoint(c)) },
      });
      return void writeFileSync(path, bytes);
    }
    const ck = k.train.parseCheckpoint(readFileSync(path), 'keel-checkpoint.safetensors');
    const m = net();
    m.loadStateDict(
      Object.fromEntries(
        Object.entries(ck.tensors)
          .filter(([n]) => n.startsWith('model.'))
          .map(([n, t]) => [n.slice(6), t]),
      ),
    );
    m.eval();
    const g = JSON.parse(readFileSync(golden('safetensors.json'), 'utf8')) as Golden;
    expectClose(m.forward(decode(g.input, 'float32')), decode(g.keelCheckpointOutput, 'float32'), 1e-5, 1e-5);
  });
});
