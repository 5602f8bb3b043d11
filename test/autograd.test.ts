/**
 * Autograd semantics: accumulation, retainGraph and the freed-graph error, createGraph, the
 * functional grad, noGrad/detach/requiresGrad rules, retainGrad, non-scalar outputs, and gradcheck
 * itself (it must catch a wrong rule and name the element).
 */
import { describe, expect, it } from 'vitest';
import { record } from '../src/autograd/node.js';
import * as k from '../src/index.js';
import { AutogradError, ShapeError, type Tensor } from '../src/index.js';
import { expectClose } from './helpers.js';

const f64 = { dtype: 'float64' as const };

describe('backward', () => {
  it('accumulates into .grad across calls', () => {
    const x = k.tensor([1, 2, 3], { ...f64, requiresGrad: true });
    k.sum(k.mul(x, x)).backward();
    k.sum(k.mul(x, x)).backward();
    // d/dx Σx² = 2x, twice → 4x
    expectClose(x.grad as Tensor, [4, 8, 12]);
  });

  it('sums the gradient of a tensor used twice (diamond graph)', () => {
    const x = k.tensor(3, { ...f64, requiresGrad: true });
    const y = k.mul(x, 2);
    const z = k.add(k.mul(y, y), y); // z = 4x² + 2x → dz/dx = 8x + 2 = 26
    z.backward();
    expectClose(x.grad as Tensor, 26);
  });

  it('throws a clear error when run twice through a freed graph', () => {
    const x = k.tensor([1, 2], { requiresGrad: true });
    const y = k.sum(k.exp(x));
    y.backward();
    expect(() => y.backward()).toThrow(AutogradError);
    expect(() => y.backward()).toThrow(/second time at 'exp'.*retainGraph/);
  });

  it('runs twice with retainGraph', () => {
    const x = k.tensor([1, 2], { ...f64, requiresGrad: true });
    const y = k.sum(k.exp(x));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expectClose(x.grad as Tensor, [2 * Math.exp(1), 2 * Math.exp(2)], 1e-12);
  });

  it('needs a gradient for non-scalar outputs, of the output shape', () => {
    const x = k.tensor([1, 2, 3], { requiresGrad: true });
    const y = k.mul(x, 2);
    expect(() => y.backward()).toThrow(/implied only for one-element outputs, got shape \[3\]/);
    expect(() => y.backward(k.ones([2]))).toThrow(ShapeError);
    y.backward(k.tensor([1, 0.5, -1]));
    expectClose(x.grad as Tensor, [2, 1, -2]);
  });

  it('refuses tensors that do not require grad', () => {
    expect(() => k.sum(k.ones([2])).backward()).toThrow(/does not require grad/);
  });

  it('createGraph gives higher-order derivatives: d²/dx² x³ = 6x', () => {
    const x = k.tensor(2, { ...f64, requiresGrad: true });
    const y = k.pow(x, 3);
    const [dy] = k.grad(y, x, { createGraph: true });
    expectClose(dy as Tensor, 12); // 3x² = 12
    const [d2y] = k.grad(dy as Tensor, x);
    expectClose(d2y as Tensor, 12); // 6x = 12
  });

  it('keeps .grad of non-leaves only with retainGrad', () => {
    const x = k.tensor([1, 2], { ...f64, requiresGrad: true });
    const h = k.mul(x, 3).retainGrad();
    const other = k.mul(x, 5);
    k.sum(k.add(k.mul(h, h), other)).backward();
    expectClose(h.grad as Tensor, [6, 12]); // d(h²)/dh = 2h
    expect(other.grad).toBeNull();
  });
});

describe('grad (functional)', () => {
  it('returns gradients without touching .grad', () => {
    const a = k.tensor([1, 2], { ...f64, requiresGrad: true });
    const b = k.tensor([3, 4], { ...f64, requiresGrad: true });
    const [ga, gb] = k.grad(k.sum(k.mul(a, b)), [a, b]);
    expectClose(ga as Tensor, [3, 4]);
    expectClose(gb as Tensor, [1, 2]);
    expect(a.grad).toBeNull();
  });

  it('differentiates with respect to an intermediate tensor', () => {
    const x = k.tensor([1, 2], { ...f64, requiresGrad: true });
    const h = k.mul(x, x);
    const [gh] = k.grad(k.sum(k.mul(h, 3)), h);
    expectClose(gh as Tensor, [3, 3]);
  });

  it('reports unused inputs unless allowUnused', () => {
    const x = k.tensor([1], { requiresGrad: true });
    const u = k.tensor([1], { requiresGrad: true });
    expect(() => k.grad(k.sum(x), [x, u])).toThrow(/input 1 was not used/);
    expect(k.grad(k.sum(x), [x, u], { allowUnused: true })[1]).toBeNull();
  });
});

describe('recording rules', () => {
  it('noGrad records nothing and keeps no memory', () => {
    const w = k.randn([4, 3], { requiresGrad: true });
    const y = k.noGrad(() => k.relu(k.matmul(k.ones([2, 4]), w)));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(k.savedBytes(y)).toBe(0);
    expect(k.isGradEnabled()).toBe(true);
  });

  it('enableGrad re-enables recording inside noGrad', () => {
    const w = k.ones([2], { requiresGrad: true });
    const y = k.noGrad(() => k.enableGrad(() => k.mul(w, 2)));
    expect(y.requiresGrad).toBe(true);
  });

  it('detach cuts the graph and shares the data', () => {
    const x = k.tensor([1, 2], { requiresGrad: true });
    const d = k.mul(x, 2).detach();
    expect(d.requiresGrad).toBe(false);
    const y = k.add(k.mul(d, x), 0);
    k.sum(y).backward();
    expectClose(x.grad as Tensor, [2, 4], 1e-6);
  });

  it('requiresGrad is only for float leaves', () => {
    expect(() => {
      k.arange(3).requiresGrad = true;
    }).toThrow(/only float32\/float64 tensors/);
    const y = k.mul(k.ones([1], { requiresGrad: true }), 2);
    expect(() => {
      y.requiresGrad = false;
    }).toThrow(/leaf tensors.*mul/);
  });

  it('integer and bool results carry no graph', () => {
    const x = k.tensor([1.5, -2], { requiresGrad: true });
    expect(k.gt(x, 0).requiresGrad).toBe(false);
    expect(k.argmax(x).requiresGrad).toBe(false);
  });

  it('un-broadcasts gradients to each input shape', () => {
    const a = k.ones([3, 1], { ...f64, requiresGrad: true });
    const b = k.ones([4], { ...f64, requiresGrad: true });
    k.sum(k.mul(a, b)).backward();
    expectClose(a.grad as Tensor, k.full([3, 1], 4, f64));
    expectClose(b.grad as Tensor, k.full([4], 3, f64));
  });

  it('a float32 input used with float64 gets a float32 gradient', () => {
    const a = k.ones([2], { requiresGrad: true });
    k.sum(k.mul(a, k.tensor([1, 2], f64))).backward();
    expect((a.grad as Tensor).dtype).toBe('float32');
  });
});

describe('gradcheck', () => {
  it('catches a wrong backward rule and names the worst element', () => {
    // A deliberately wrong square: forward x², backward claims 3x (should be 2x).
    const badSquare = (x: Tensor) => {
      const y = k.mul(x.detach(), x.detach());
      return record('custom:badSquare', y, [x], [x], null, (g, [x]) => [k.mul(g, k.mul(x, 3))]);
    };
    const x = k.tensor([0.5, -1, 2], { ...f64, requiresGrad: true });
    const res = k.gradcheck(badSquare, [x]);
    expect(res.passed).toBe(false);
    expect(res.worst?.input).toBe(0);
    expect(res.worst?.index).toEqual([2]); // largest |x| → largest error
    expect(() => k.gradcheck(badSquare, [x], { raise: true })).toThrow(/index \[2\]/);
  });

  it('insists on float64', () => {
    expect(() => k.gradcheck(k.exp, [k.ones([2], { requiresGrad: true })])).toThrow(/need float64/);
  });
});
