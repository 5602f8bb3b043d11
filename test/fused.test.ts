/**
 * Fused primitives against the composites they replace (issue 4): the same values and the same
 * gradients, on every backend, at sizes that take the wasm kernels and sizes that do not.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { availableBackends, Generator, nn } from '../src/index.js';

const sizes: number[][] = [[3, 5], [256, 70], [1031]];

describe.each(availableBackends())('fused ops on %s', (name) => {
  it('dropout equals x · mask with the mask drawn from the same generator, forward and backward', () => {
    k.setBackend(name);
    try {
      for (const shape of sizes) {
        for (const p of [0.2, 0.5, 1]) {
          const x = k.randn(shape, { generator: new Generator(1) }).requiresGrad_();
          const w = k.randn(shape, { generator: new Generator(2) });
          const y = nn.F.dropout(x, p, true, new Generator(7));
          // The composite: draw the mask with fillMask from an identically seeded generator.
          const scale = p === 1 ? 0 : 1 / (1 - p);
          const maskData = new Float32Array(x.size);
          new Generator(7).fillMask(maskData, p, scale, 0);
          const x2 = x.detach().requiresGrad_();
          const y2 = k.mul(x2, k.tensor(maskData).reshape(shape));
          expect(Array.from(y.toTypedArray())).toEqual(Array.from(y2.toTypedArray()));
          k.sum(k.mul(y, w)).backward();
          k.sum(k.mul(y2, w)).backward();
          expect(Array.from(x.grad?.toTypedArray() ?? [])).toEqual(Array.from(x2.grad?.toTypedArray() ?? []));
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
        expect(Array.from(fused.toTypedArray())).toEqual(Array.from(composite.toTypedArray()));
        const x = k.randn(shape, { generator: new Generator(3) }).requiresGrad_();
        k.sum(k.mul(k.relu(x), g.reshape(shape))).backward();
        const want = k.where(k.gt(x.detach(), 0), g.reshape(shape), 0);
        expect(Array.from(x.grad?.toTypedArray() ?? [])).toEqual(Array.from(want.toTypedArray()));
      }
    } finally {
      k.setBackend('wasm');
    }
  });
});

it('dropout draws the same masks on every backend from the same seed', () => {
  const outs = availableBackends().map((name) => {
    k.setBackend(name);
    const y = nn.F.dropout(k.ones([300, 7]), 0.5, true, new Generator(11));
    k.setBackend('wasm');
    return Array.from(y.toTypedArray());
  });
  for (const o of outs) expect(o).toEqual(outs[0]);
});
