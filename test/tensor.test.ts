/**
 * Tensors: creation, dtypes and promotion, views sharing memory, contiguous copies, strides,
 * broadcasting, seeded randomness, toArray/item/toString.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { Rng } from '../src/index.js';
import { copy_ } from '../src/ops/inplace.js';
import { HostCopies } from '../src/tensor/hostCopies.js';

describe('creation', () => {
  it('from nested arrays, with inferred shape and dtype', () => {
    const t = k.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.strides).toEqual([3, 1]);
    expect(k.tensor([true, false]).dtype).toBe('bool');
    expect(k.tensor(5).shape).toEqual([]);
    expect(k.tensor([[1, 2]], { dtype: 'int32' }).dtype).toBe('int32');
  });

  it('from typed arrays keeps their dtype and copies the data', () => {
    const src = new Float64Array([1, 2, 3, 4]);
    const t = k.tensor(src, { shape: [2, 2] });
    expect(t.dtype).toBe('float64');
    src[0] = 99;
    expect(t.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(k.tensor(new Int32Array([1, 2])).dtype).toBe('int32');
  });

  it('constant fills, ranges and identity', () => {
    expect(k.zeros([2, 2]).toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(k.ones([3], { dtype: 'int32' }).toArray()).toEqual([1, 1, 1]);
    expect(k.full([2], 7).toArray()).toEqual([7, 7]);
    expect(k.arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(k.arange(5).dtype).toBe('int32');
    expect(k.arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(k.linspace(0, 1, 5, { dtype: 'float64' }).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(k.eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });

  it('rejects ragged arrays and bad shapes with the position', () => {
    expect(() => k.tensor([[1, 2], [3]])).toThrow(/expected length 2 at depth 1, got length 1/);
    expect(() => k.zeros([2, -1])).toThrow(/non-negative integers, got \[2,-1\]/);
    expect(() => k.tensor([1, 2], { dtype: 'float16' as never })).toThrow(/unknown dtype 'float16'/);
  });
});

describe('randomness', () => {
  it('same seed, same draws; different seeds differ', () => {
    const a = k.randn([100], { generator: new Rng(1) }).toArray();
    const b = k.randn([100], { generator: new Rng(1) }).toArray();
    const c = k.randn([100], { generator: new Rng(2) }).toArray();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    k.manualSeed(3);
    const d = k.rand([5]).toArray();
    k.manualSeed(3);
    expect(k.rand([5]).toArray()).toEqual(d);
  });

  it('distributions have the right moments', () => {
    const g = new Rng(11);
    const u = k.rand([100000], { generator: g, dtype: 'float64' });
    const n = k.randn([100000], { generator: g, dtype: 'float64' });
    expect(k.mean(u).item()).toBeCloseTo(0.5, 2);
    expect(k.variance(u).item()).toBeCloseTo(1 / 12, 3);
    expect(k.mean(n).item()).toBeCloseTo(0, 1);
    expect(k.std(n).item()).toBeCloseTo(1, 1);
    const ints = k.randint(0, 3, [30000], { generator: g });
    const counts = [0, 1, 2].map((v) => k.sum(k.eq(ints, v)).item() / 30000);
    for (const c of counts) expect(c).toBeCloseTo(1 / 3, 1);
    const b = k.bernoulli(0.2, [50000], { generator: g });
    expect(k.mean(b).item()).toBeCloseTo(0.2, 2);
  });

  it('generator state can be saved and restored', () => {
    const g = new Rng(5);
    g.normal();
    const state = g.getState();
    const x = [g.normal(), g.random(), g.nextUint32()];
    g.setState(state);
    expect([g.normal(), g.random(), g.nextUint32()]).toEqual(x);
  });

  it('the package exports the generator as Rng only (the old name Generator is gone)', () => {
    expect(k.Rng).toBe(Rng);
    expect(Object.keys(k)).not.toContain('Generator');
  });

  it('bernoulli validates probabilities', () => {
    expect(() => k.bernoulli(1.5, [2])).toThrow(/probability must be in \[0, 1\], got 1.5/);
  });
});

describe('views share memory; contiguous copies do not', () => {
  it('reshape / transpose / slice / expand / squeeze are views', () => {
    const x = k.arange(12, undefined, 1, { dtype: 'float32' }).reshape([3, 4]);
    const t = x.transpose();
    expect(t.storage).toBe(x.storage);
    expect(t.strides).toEqual([1, 4]);
    expect(t.isContiguous()).toBe(false);
    expect(t.toArray()).toEqual([
      [0, 4, 8],
      [1, 5, 9],
      [2, 6, 10],
      [3, 7, 11],
    ]);
    const s = x.slice(1, 1, 4, 2);
    expect(s.storage).toBe(x.storage);
    expect(s.toArray()).toEqual([
      [1, 3],
      [5, 7],
      [9, 11],
    ]);
    const e = k.tensor([[1], [2]]).expand([2, 3]);
    expect(e.strides).toEqual([1, 0]);
    expect(e.toArray()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(k.zeros([1, 3, 1]).squeeze().shape).toEqual([3]);
    expect(k.zeros([3]).unsqueeze(0).shape).toEqual([1, 3]);
    expect(k.zeros([2, 3, 4]).permute([2, 0, 1]).shape).toEqual([4, 2, 3]);
    expect(x.narrow(0, 1, 2).toArray()).toEqual([
      [4, 5, 6, 7],
      [8, 9, 10, 11],
    ]);
    expect(x.select(1, -1).toArray()).toEqual([3, 7, 11]);
  });

  it('contiguous() copies a strided view into row-major order', () => {
    const x = k.arange(6, undefined, 1, { dtype: 'float64' }).reshape([2, 3]);
    const c = x.transpose().contiguous();
    expect(c.storage).not.toBe(x.storage);
    expect(c.isContiguous()).toBe(true);
    expect(Array.from(c.readSync())).toEqual([0, 3, 1, 4, 2, 5]);
    // reshape of a non-contiguous tensor copies
    expect(x.transpose().reshape([6]).toArray()).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it("readInto copies into the caller's array (strided views too) and refuses a wrong one, naming it", () => {
    const x = k.arange(6, undefined, 1, { dtype: 'float64' }).reshape([2, 3]);
    const out = new Float64Array(8).fill(-1);
    expect(x.transpose().readInto(out)).toBe(out);
    expect(Array.from(out)).toEqual([0, 3, 1, 4, 2, 5, -1, -1]);
    expect(Array.from(x.narrow(1, 1, 2).readInto(new Float64Array(4)))).toEqual([1, 2, 4, 5]);
    const i = k.tensor([7, 8], { dtype: 'int32' });
    expect(Array.from(i.readInto(new Int32Array(2)))).toEqual([7, 8]);
    expect(() => x.readInto(new Float32Array(6))).toThrow(
      'readInto: out must be a Float64Array of at least 6 elements (a float64 tensor of shape [2,3]); got a Float32Array of 6',
    );
    expect(() => x.readInto(new Float64Array(5))).toThrow(/got a Float64Array of 5/);
  });

  it('HostCopies reads each key into one array, remade only when the size or dtype changes', () => {
    const copies = new HostCopies();
    const a = copies.read('w', k.tensor([1, 2, 3]));
    expect(Array.from(a)).toEqual([1, 2, 3]);
    const b = copies.read('w', k.tensor([4, 5, 6]));
    expect(b).toBe(a);
    expect(Array.from(a)).toEqual([4, 5, 6]);
    expect(copies.read('v', k.tensor([1, 2, 3]))).not.toBe(a);
    const c = copies.read('w', k.tensor([1, 2]));
    expect(c).not.toBe(a);
    expect(copies.read('w', k.tensor([1, 2], { dtype: 'float64' }))).toBeInstanceOf(Float64Array);
  });

  it('clone() copies even a contiguous tensor into memory of its own, and passes gradients', () => {
    const x = k.tensor([1, 2, 3], { requiresGrad: true });
    const c = x.clone();
    expect(c.storage).not.toBe(x.storage);
    expect(c.toArray()).toEqual([1, 2, 3]);
    k.sum(k.mul(c, k.tensor([4, 5, 6]))).backward();
    expect(x.grad?.toArray()).toEqual([4, 5, 6]);
    expect(x.transpose().clone().isContiguous()).toBe(true);
  });

  it('ops read strided and broadcast inputs correctly', () => {
    const x = k.arange(6, undefined, 1, { dtype: 'float64' }).reshape([2, 3]);
    expect(k.add(x.transpose(), k.tensor([10, 20], { dtype: 'float64' })).toArray()).toEqual([
      [10, 23],
      [11, 24],
      [12, 25],
    ]);
    expect(k.sum(x.transpose(), 0).toArray()).toEqual([3, 12]);
    expect(k.matmul(x.transpose(), x).toArray()).toEqual([
      [9, 12, 15],
      [12, 17, 22],
      [15, 22, 29],
    ]);
  });
});

describe('dtypes', () => {
  it('promotion follows bool < int32 < float32 < float64', () => {
    const i = k.tensor([1, 2], { dtype: 'int32' });
    const f = k.tensor([1, 2]);
    const d = k.tensor([1, 2], { dtype: 'float64' });
    expect(k.add(i, i).dtype).toBe('int32');
    expect(k.add(i, f).dtype).toBe('float32');
    expect(k.add(f, d).dtype).toBe('float64');
    expect(k.div(i, i).dtype).toBe('float32');
    expect(k.add(k.tensor([true]), k.tensor([true])).dtype).toBe('int32');
  });

  it('a JS number does not widen a tensor', () => {
    expect(k.mul(k.tensor([1, 2]), 0.5).dtype).toBe('float32');
    expect(k.mul(k.tensor([1, 2], { dtype: 'int32' }), 2).dtype).toBe('int32');
    expect(k.mul(k.tensor([1, 2], { dtype: 'int32' }), 0.5).dtype).toBe('float32');
  });

  it('cast converts values (float → int truncates, nonzero → true)', () => {
    expect(k.tensor([1.7, -1.7, 0]).cast('int32').toArray()).toEqual([1, -1, 0]);
    expect(k.tensor([2, 0, -0.5]).cast('bool').toArray()).toEqual([true, false, true]);
  });

  it('setDefaultDType switches the float default', () => {
    k.setDefaultDType('float64');
    try {
      expect(k.tensor([1.5]).dtype).toBe('float64');
      expect(k.randn([2]).dtype).toBe('float64');
    } finally {
      k.setDefaultDType('float32');
    }
  });
});

describe('reading values', () => {
  it('toArray, item and toString', () => {
    const t = k.tensor([
      [1, 2.5],
      [-3, 4],
    ]);
    expect(t.toArray()).toEqual([
      [1, 2.5],
      [-3, 4],
    ]);
    expect(k.sum(t).item()).toBe(4.5);
    expect(() => t.item()).toThrow(/one-element tensors.*\[2,2\]/);
    expect(t.toString()).toBe('tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]])');
    expect(k.tensor([1, 2], { dtype: 'int32' }).toString()).toBe('tensor([1, 2], dtype=int32)');
    expect(k.tensor([true, false]).toString()).toBe('tensor([ true, false], dtype=bool)');
    expect(k.tensor(3).toString()).toBe('tensor(3.)');
    const x = k.ones([2], { requiresGrad: true });
    expect(x.toString()).toBe('tensor([1., 1.], requiresGrad=true)');
    expect(k.mul(x, 2).toString()).toBe('tensor([2., 2.], gradFn=<mul>)');
    // A range too wide for fixed notation switches the whole tensor to exponents.
    expect(k.tensor([1e-6, 1]).toString()).toBe('tensor([1.0000e-6, 1.0000e+0])');
    expect(k.tensor([Number.NaN, Number.POSITIVE_INFINITY, 1]).toString()).toBe('tensor([nan, inf,  1.])');
    expect(k.zeros([1001]).toString()).toContain('...');
  });
});

describe('copy_ on the js kernels (dense runs are one memmove, the rest element by element)', () => {
  it('dense, into a column slice, from a broadcast row and across dtypes: the same elements', () => {
    k.setBackend('js');
    try {
      const src = k.arange(0, 600).reshape([20, 30]);
      const dense = copy_(k.zeros([20, 30]), src);
      expect(Array.from(dense.readSync())).toEqual(Array.from(src.readSync()));
      // Column slices: rows of 20 (memmoves) and of 4 (element by element) 30 apart.
      for (const width of [20, 4]) {
        const wide = k.zeros([20, 30]);
        copy_(k.narrow(wide, 1, 5, width), k.narrow(src, 1, 0, width));
        const w = wide.readSync();
        for (let r = 0; r < 20; r++)
          for (let c = 0; c < 30; c++)
            expect(w[r * 30 + c]).toBe(c >= 5 && c < 5 + width ? r * 30 + c - 5 : 0);
      }
      // A broadcast row (source stride 0) and a float32 → float64 copy.
      const rows = copy_(k.zeros([4, 30], { dtype: 'float64' }), k.narrow(src, 0, 1, 1));
      expect(Array.from(rows.readSync())).toEqual(Array.from({ length: 120 }, (_, i) => 30 + (i % 30)));
    } finally {
      k.setBackend('wasm');
    }
  });
});
