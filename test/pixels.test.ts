/**
 * Images stored as bytes (uint8) and made floats as they are gathered: `unitPixels` gives for every
 * byte the bits of dividing in float64 and rounding once (how Fashion-MNIST's float images were
 * made); an `ImageDataset` yields the float images a TensorDataset over converted images yields; a
 * compiled gather is one fused `gatherPixels` kernel with the eager composite's bits on the CPU
 * backends (and within one float32 rounding on webgpu), out-of-range rows refused as indexSelect
 * refuses them; training on pixels gives the same weights as training on float images.
 */
import { describe, expect, it } from 'vitest';
import { profilePlans } from '../src/backend/wasm/planRunner.js';
import { ImageDataset, rowsOf, TensorDataset, tensorRows, unitPixels } from '../src/data/dataset.js';
import { pixelImageSet } from '../src/data/fashionMnist.js';
import { parseSafetensors, serializeSafetensors } from '../src/format/safetensors.js';
import * as k from '../src/index.js';
import { availableBackends, compile, nn, optim, Rng, type Tensor, train } from '../src/index.js';
import { promote } from '../src/tensor/dtype.js';
import { needsWebGpu } from './requires.js';

const webgpu = await needsWebGpu('pixels.test');
/** The backends whose memory reads synchronously (webgpu has its own test below). */
const cpu = availableBackends().filter((b) => b !== 'webgpu');

/** Runs `fn` with `name` as the active backend. */
function on<T>(name: string, fn: () => T): T {
  k.setBackend(name);
  try {
    return fn();
  } finally {
    k.setBackend('wasm');
  }
}

/** `n` images of `p` pixels, every byte value among them, and their labels. */
function pixelsOf(n: number, p: number, seed: number): { bytes: Uint8Array; labels: Int32Array } {
  const g = new Rng(seed);
  const bytes = new Uint8Array(n * p);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i < 256 ? i : g.integer(0, 256);
  return { bytes, labels: Int32Array.from({ length: n }, () => g.integer(0, 10)) };
}

describe('uint8 tensors', () => {
  it('hold bytes: made from a Uint8Array, read back, promoted below int32, saved and read as U8', () => {
    const t = k.tensor(Uint8Array.of(0, 7, 255), { dtype: 'uint8' });
    expect(t.dtype).toBe('uint8');
    expect([...t.readSync()]).toEqual([0, 7, 255]);
    expect(promote('uint8', 'bool')).toBe('uint8');
    expect(promote('uint8', 'int32')).toBe('int32');
    expect(promote('uint8', 'float32')).toBe('float32');
    expect([...k.cast(t, 'float32').readSync()]).toEqual([0, 7, 255]);
    const back = parseSafetensors(serializeSafetensors({ t, f: k.tensor([1.5]) })).tensors.t;
    expect(back.dtype).toBe('uint8');
    expect([...back.readSync()]).toEqual([0, 7, 255]);
  });
});

describe('unitPixels', () => {
  it.each(cpu)('on %s: every byte v becomes fround(v / 255), the bits of the float images', (name) => {
    on(name, () => {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const got = unitPixels(k.tensor(all, { dtype: 'uint8' })).readSync() as Float32Array;
      const want = Float32Array.from(all, (v) => v / 255);
      expect(got).toEqual(want);
    });
  });
});

describe('ImageDataset', () => {
  const n = 40;
  const p = 49;
  const { bytes, labels } = pixelsOf(n, p, 3);
  const floats = Float32Array.from(bytes, (v) => v / 255);

  it('gives the float images a TensorDataset over converted images gives, by sample, batch and loader', () => {
    const px = k.tensor(bytes, { dtype: 'uint8' }).reshape([n, p]);
    const y = k.tensor(labels, { dtype: 'int32' });
    const images = new ImageDataset(px, y);
    const plain = new TensorDataset(k.tensor(floats).reshape([n, p]), y);
    expect(images.get(5)[0].readSync()).toEqual(plain.get(5)[0].readSync());
    const idx = Int32Array.of(3, 39, 0, 17);
    expect(images.batch(idx)[0].readSync()).toEqual(plain.batch(idx)[0].readSync());
    expect(images.batch(idx)[1].readSync()).toEqual(plain.batch(idx)[1].readSync());
    // Through a split (a Subset chain) and a loader that recycles its batches.
    const [sub] = k.data.randomSplit(images, [30, 10], new Rng(1));
    const [subPlain] = k.data.randomSplit(plain, [30, 10], new Rng(1));
    const a = [...new k.data.DataLoader(sub, { batchSize: 8, reuseBatches: true })].length;
    expect(a).toBe(4);
    const viaLoader: number[] = [];
    for (const [x] of new k.data.DataLoader(sub, { batchSize: 8, reuseBatches: true }))
      viaLoader.push(...(x.readSync() as Float32Array));
    const want: number[] = [];
    for (const [x] of new k.data.DataLoader(subPlain, { batchSize: 8 }))
      want.push(...(x.readSync() as Float32Array));
    expect(viaLoader).toEqual(want);
  });

  it('refuses images that are not bytes, naming the dtype and what to use', () => {
    expect(() => new ImageDataset(k.zeros([2, 3]), k.zeros([2], { dtype: 'int32' }))).toThrow(
      'ImageDataset: the images must be uint8 pixels (0…255), got float32; float images go in a TensorDataset',
    );
  });

  it('pixelImageSet makes its float images from the pixels when first asked, once', () => {
    const set = pixelImageSet(
      k.tensor(bytes, { dtype: 'uint8' }).reshape([n, p]),
      k.tensor(labels, { dtype: 'int32' }),
    );
    expect(Object.getOwnPropertyDescriptor(set, 'images')?.get).toBeTypeOf('function');
    const first = set.images;
    expect(first.shape).toEqual([n, p]);
    expect(first.dtype).toBe('float32');
    expect(first.readSync()).toEqual(floats);
    expect(set.images).toBe(first);
  });
});

describe('a compiled gather of pixels (the fused gatherPixels kernel)', () => {
  const n = 300;
  const p = 784;
  const { bytes, labels } = pixelsOf(n, p, 5);
  const rows = Int32Array.from({ length: 64 }, (_, i) => (i * 97 + 11) % n);

  it.each(cpu)('on %s: one kernel, the eager bits, a bad row named', (name) => {
    on(name, () => {
      const src = tensorRows(
        new ImageDataset(
          k.tensor(bytes, { dtype: 'uint8' }).reshape([n, p]),
          k.tensor(labels, { dtype: 'int32' }),
        ),
      );
      if (!src) throw new Error('an ImageDataset is rows of tensors');
      const idx = k.tensor(rows, { dtype: 'int32' });
      const eager = rowsOf(src, idx).map((t) => t.readSync());
      const profile = profilePlans(true);
      const gather = compile((i: Tensor) => rowsOf(src, i));
      for (let r = 0; r < 3; r++) expect(gather(idx).map((t) => t.readSync())).toEqual(eager);
      profilePlans(false);
      expect(gather.lastPlanOps).toContain('gatherPixels');
      expect(gather.lastPlanOps).not.toContain('binary');
      if (name === 'wasm' || name === 'native') expect(profile?.get('gatherPixels')?.calls).toBe(2);
      const bad = k.tensor(
        rows.map((v, i) => (i === 9 ? n : v)),
        { dtype: 'int32' },
      );
      const message = `indexSelect: index ${n} is out of range for axis 0 of size ${n} (allowed 0..${n - 1})`;
      expect(() => rowsOf(src, bad)).toThrow(message);
      expect(() => gather(bad)).toThrow(message);
    });
  });

  it.runIf(webgpu)('on webgpu: within one float32 rounding of the CPU bits', async () => {
    k.setBackend('webgpu');
    try {
      const src = tensorRows(
        new ImageDataset(
          k.tensor(bytes, { dtype: 'uint8' }).reshape([n, p]),
          k.tensor(labels, { dtype: 'int32' }),
        ),
      );
      if (!src) throw new Error('an ImageDataset is rows of tensors');
      const gather = compile((i: Tensor) => rowsOf(src, i)[0]);
      const idx = k.tensor(rows, { dtype: 'int32' });
      gather(idx);
      const got = (await gather(idx).read()) as Float32Array;
      expect(gather.lastPlanOps).toContain('gatherPixels');
      let worst = 0;
      for (let j = 0; j < rows.length; j++)
        for (let c = 0; c < p; c++) {
          const want = Math.fround(bytes[rows[j] * p + c] / 255);
          worst = Math.max(worst, Math.abs(got[j * p + c] - want) / Math.max(want, 2 ** -24));
        }
      expect(worst).toBeLessThanOrEqual(2 ** -23);
    } finally {
      k.setBackend('wasm');
    }
  });
});

describe('training on pixels', () => {
  it.each(cpu)('on %s: fit on an ImageDataset gives the weights of fit on the float images', async (name) => {
    k.setBackend(name);
    try {
      const n = 96;
      const p = 36;
      const { bytes, labels } = pixelsOf(n, p, 9);
      const y = k.tensor(labels, { dtype: 'int32' });
      const run = async (ds: k.data.Dataset) => {
        const g = new Rng(4);
        const model = new nn.Sequential(
          new nn.Linear(p, 16, { generator: g }),
          new nn.ReLU(),
          new nn.Linear(16, 10, { generator: g }),
        );
        const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
        await train.fit({
          model,
          optimizer,
          train: new k.data.DataLoader(ds, { batchSize: 32, shuffle: true, generator: new Rng(2) }),
          epochs: 2,
        });
        return model.parameters().map((w) => [...w.readSync()]);
      };
      const fromPixels = await run(new ImageDataset(k.tensor(bytes, { dtype: 'uint8' }).reshape([n, p]), y));
      const fromFloats = await run(
        new TensorDataset(k.tensor(Float32Array.from(bytes, (v) => v / 255)).reshape([n, p]), y),
      );
      expect(fromPixels).toEqual(fromFloats);
    } finally {
      k.setBackend('wasm');
    }
  });
});
