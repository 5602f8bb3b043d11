/**
 * The fused linear primitive against the composite it replaces (transpose, matmul, broadcast add):
 * same values and gradients in float32 and float64, on 2-D and batched inputs; dW arrives
 * contiguous; second derivatives flow.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { Rng, type Tensor } from '../src/index.js';
import { expectClose } from './helpers.js';

const g = new Rng(11);
const composite = (x: Tensor, w: Tensor, b?: Tensor) => {
  const y = k.matmul(x, k.transpose(w));
  return b ? k.add(y, b) : y;
};

describe('linear (fused) = composite', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const xs of [
      [6, 5],
      [2, 3, 5],
    ]) {
      it(`${dtype}, input [${xs}]`, () => {
        const x0 = k.randn(xs, { generator: g, dtype });
        const w0 = k.randn([4, 5], { generator: g, dtype });
        const b0 = k.randn([4], { generator: g, dtype });
        const v = k.randn([...xs.slice(0, -1), 4], { generator: g, dtype });
        const run = (f: typeof composite) => {
          const [x, w, b] = [x0, w0, b0].map((t) => k.tensor(t, { requiresGrad: true }));
          const y = f(x, w, b);
          k.sum(k.mul(y, v)).backward();
          return { y, x, w, b };
        };
        const fused = run(k.linear);
        const ref = run(composite);
        const tol = dtype === 'float32' ? 1e-5 : 1e-12;
        expectClose(fused.y, ref.y.detach(), tol, tol);
        for (const key of ['x', 'w', 'b'] as const)
          expectClose(fused[key].grad as Tensor, ref[key].grad as Tensor, tol, tol);
        expect((fused.w.grad as Tensor).isContiguous()).toBe(true);
        expect(fused.y.gradFn?.op).toBe('linear');
      });
    }
  }

  it('second derivatives flow through the backward', () => {
    const w = k.randn([3, 2], { generator: g, dtype: 'float64' });
    const res = k.gradcheck(
      (x) => {
        const [gx] = k.grad(k.sum(k.square(k.linear(x, w))), x, { createGraph: true });
        return gx as Tensor;
      },
      [k.randn([4, 2], { generator: g, dtype: 'float64' }).requiresGrad_()],
    );
    expect(res.passed, JSON.stringify(res.worst)).toBe(true);
  });

  it('names bad shapes', () => {
    expect(() => k.linear(k.zeros([2, 3]), k.zeros([4, 5]))).toThrow(
      /linear: input \[2,3\] does not end with inFeatures=5/,
    );
    expect(() => k.linear(k.zeros([2, 5]), k.zeros([4, 5]), k.zeros([3]))).toThrow(
      'linear: bias must have shape [4], got [3]',
    );
  });
});
