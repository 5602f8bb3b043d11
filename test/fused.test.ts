/**
 * Fused primitives against the composites they replace — a fused kernel ships with its backward,
 * tested against the composite (DESIGN.md §2): the same values and the same gradients, on every
 * backend, at sizes that take the wasm kernels and sizes that do not.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { availableBackends, nn, Rng } from '../src/index.js';

const sizes: number[][] = [[3, 5], [256, 70], [1031]];

describe.each(availableBackends())('fused ops on %s', (name) => {
  it('dropout equals x · mask with the mask drawn from the same generator, forward and backward', () => {
    k.setBackend(name);
    try {
      for (const shape of sizes) {
        for (const p of [0.2, 0.5, 1]) {
          const x = k.randn(shape, { generator: new Rng(1) }).requiresGrad_();
          const w = k.randn(shape, { generator: new Rng(2) });
          const y = nn.F.dropout(x, p, true, new Rng(7));
          // The composite: draw the mask with fillMask from an identically seeded generator.
          const scale = p === 1 ? 0 : 1 / (1 - p);
          const maskData = new Float32Array(x.size);
          new Rng(7).fillMask(maskData, p, scale, 0);
          const x2 = x.detach().requiresGrad_();
          const y2 = k.mul(x2, k.tensor(maskData).reshape(shape));
          expect(Array.from(y.readSync())).toEqual(Array.from(y2.readSync()));
          k.sum(k.mul(y, w)).backward();
          k.sum(k.mul(y2, w)).backward();
          expect(Array.from(x.grad?.readSync() ?? [])).toEqual(Array.from(x2.grad?.readSync() ?? []));
        }
      }
    } finally {
      k.setBackend('wasm');
    }
  });

  it('reluGrad equals where(y > 0, g, 0), including NaN, ±0 and ±inf, and relu backward uses it', () => {
    k.setBackend(name);
    try {
      const specials = [Number.NaN, -0, 0, Infinity, -Infinity, 2, -3];
      for (const shape of sizes) {
        const n = shape.reduce((a, b) => a * b, 1);
        const g = k.tensor(Array.from({ length: n }, (_, i) => (i % 11 === 0 ? specials[i % 7] : i - n / 2)));
        const y = k.tensor(Array.from({ length: n }, (_, i) => specials[(i * 3) % 7]));
        const fused = k.reluGrad(g.reshape(shape), y.reshape(shape));
        const composite = k.where(k.gt(y.reshape(shape), 0), g.reshape(shape), 0);
        expect(Array.from(fused.readSync())).toEqual(Array.from(composite.readSync()));
        const x = k.randn(shape, { generator: new Rng(3) }).requiresGrad_();
        k.sum(k.mul(k.relu(x), g.reshape(shape))).backward();
        const want = k.where(k.gt(x.detach(), 0), g.reshape(shape), 0);
        expect(Array.from(x.grad?.readSync() ?? [])).toEqual(Array.from(want.readSync()));
      }
    } finally {
      k.setBackend('wasm');
    }
  });
});

describe.each(availableBackends())('softmax cross-entropy on %s', (name) => {
  // The composite it replaces: −log softmax(x)[t] through logSoftmax, gather and the reduction.
  const composite = (x: k.Tensor, t: k.Tensor, reduction: 'mean' | 'sum' | 'none') => {
    const l = k.neg(k.reshape(k.gather(k.logSoftmax(x, 1), 1, k.unsqueeze(t, 1)), [-1]));
    return reduction === 'none' ? l : reduction === 'sum' ? k.sum(l) : k.div(k.sum(l), x.shape[0]);
  };
  // float32: the fused op rounds once from float64, the composite after every kernel.
  const tol = { float32: 2e-6, float64: 1e-13 };
  const close = (a: ArrayLike<number>, b: ArrayLike<number>, rel: number) => {
    expect(a.length).toBe(b.length);
    const scale = Math.max(1, ...Array.from(b, Math.abs).filter(Number.isFinite));
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(b[i])) expect(a[i]).toBe(b[i]);
      else expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(rel * scale);
    }
  };

  it.each([
    [3, 5],
    [256, 10],
    [64, 70],
  ])('equals the composite forward and backward at [%i, %i] in float32 and float64', (n, c) => {
    k.setBackend(name);
    try {
      for (const dtype of ['float32', 'float64'] as const) {
        const t = k.tensor(
          Array.from({ length: n }, (_, i) => (i * 7) % c),
          { dtype: 'int32' },
        );
        for (const reduction of ['mean', 'sum', 'none'] as const) {
          const x = k.mul(k.randn([n, c], { generator: new Rng(n + c), dtype }), 4).requiresGrad_();
          const x2 = x.detach().requiresGrad_();
          const y = nn.F.crossEntropy(x, t, { reduction });
          const y2 = composite(x2, t, reduction);
          expect(y.gradFn?.op).toBe('crossEntropy');
          close(y.readSync(), y2.readSync(), tol[dtype]);
          const w = k.randn(y.shape, { generator: new Rng(5), dtype });
          k.sum(k.mul(y, w)).backward();
          k.sum(k.mul(y2, w)).backward();
          close(x.grad?.readSync() ?? [], x2.grad?.readSync() ?? [], tol[dtype]);
        }
      }
    } finally {
      k.setBackend('wasm');
    }
  });

  it('matches the composite at ±inf, NaN and huge logits', () => {
    k.setBackend(name);
    try {
      const rows = [
        [1000, -1000, 0],
        [Infinity, 1, 2],
        [-Infinity, 1, 2],
        [Number.NaN, 1, 2],
        [1, 2, 3],
      ];
      const x = k.tensor(rows);
      for (const target of [
        [0, 0, 0, 0, 2],
        [1, 1, 1, 1, 1],
      ]) {
        const t = k.tensor(target, { dtype: 'int32' });
        close(
          nn.F.crossEntropy(x, t, { reduction: 'none' }).readSync(),
          composite(x, t, 'none').readSync(),
          tol.float32,
        );
      }
    } finally {
      k.setBackend('wasm');
    }
  });

  it('names a target outside 0..C−1', () => {
    k.setBackend(name);
    try {
      const x = k.zeros([2, 3]);
      expect(() => nn.F.crossEntropy(x, k.tensor([0, 3], { dtype: 'int32' }))).toThrow(
        'crossEntropy: target 3 of sample 1 is out of range for 3 classes (allowed 0..2)',
      );
      expect(() => nn.F.crossEntropy(x, k.tensor([-1, 0], { dtype: 'int32' }))).toThrow(
        /target -1 of sample 0/,
      );
    } finally {
      k.setBackend('wasm');
    }
  });
});

it('dropout draws the same masks on every backend from the same seed', () => {
  const outs = availableBackends().map((name) => {
    k.setBackend(name);
    const y = nn.F.dropout(k.ones([300, 7]), 0.5, true, new Rng(11));
    k.setBackend('wasm');
    return Array.from(y.readSync());
  });
  for (const o of outs) expect(o).toEqual(outs[0]);
});
