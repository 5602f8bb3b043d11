/**
 * Small cases computed by hand, the derivation beside each, and numerical stability at |x| = 1000.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/index.js';
import * as k from '../src/index.js';
import { expectClose } from './helpers.js';

const f64 = { dtype: 'float64' as const, requiresGrad: true };

describe('hand-computed gradients', () => {
  it('y = w·x + b, L = (y − t)²', () => {
    const w = k.tensor(3, f64);
    const b = k.tensor(1, f64);
    const x = 2;
    const t = 5;
    const y = k.add(k.mul(w, x), b); // y = 7
    const L = k.square(k.sub(y, t)); // L = (7 − 5)² = 4
    L.backward();
    expectClose(L, 4);
    // dL/dy = 2(y − t) = 4; dL/dw = 4·x = 8; dL/db = 4
    expectClose(w.grad as Tensor, 8);
    expectClose(b.grad as Tensor, 4);
  });

  it('sigmoid at 0', () => {
    const x = k.tensor([0], f64);
    k.sum(k.sigmoid(x)).backward();
    // σ(0) = ½, σ'(0) = ½·(1 − ½) = ¼
    expectClose(x.grad as Tensor, [0.25]);
  });

  it('softmax cross-entropy gradient is p − onehot', () => {
    const z = k.tensor([[1, 2, 3]], f64);
    const loss = k.neg(k.sum(k.mul(k.logSoftmax(z), k.tensor([[0, 0, 1]], { dtype: 'float64' }))));
    loss.backward();
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0] + e[1] + e[2];
    // ∂/∂z (−log softmax(z)₃) = softmax(z) − e₃
    expectClose(z.grad as Tensor, [[e[0] / s, e[1] / s, e[2] / s - 1]]);
  });

  it('matmul: dL/dA = G·Bᵀ, dL/dB = Aᵀ·G', () => {
    const A = k.tensor([[1, 2]], f64); // 1×2
    const B = k.tensor([[3], [4]], f64); // 2×1
    k.matmul(A, B).backward(k.tensor([[1]], { dtype: 'float64' })); // A·B = 11
    expectClose(A.grad as Tensor, [[3, 4]]);
    expectClose(B.grad as Tensor, [[1], [2]]);
  });

  it('mean and variance', () => {
    const x = k.tensor([1, 2, 3, 4], f64);
    // mean 2.5; unbiased var = (2.25+0.25+0.25+2.25)/3 = 5/3
    expectClose(k.variance(x), 5 / 3);
    k.variance(x).backward();
    // d var/dxᵢ = 2(xᵢ − x̄)/(n − 1)
    expectClose(x.grad as Tensor, [-1, -1 / 3, 1 / 3, 1]);
  });
});

describe('numerical stability at |x| = 1000', () => {
  const big = k.tensor([[1000, 0, -1000]]);
  it('softmax and logSoftmax stay finite', () => {
    expectClose(k.softmax(big), [[1, 0, 0]], 0, 1e-30);
    expectClose(k.logSoftmax(big), [[0, -1000, -2000]], 1e-6);
    expectClose(k.logsumexp(k.tensor([1000, 1000])), 1000 + Math.log(2), 1e-6);
  });
  it('sigmoid and tanh saturate without NaN, with finite gradients', () => {
    const x = k.tensor([-1000, 1000], { requiresGrad: true });
    const y = k.add(k.sigmoid(x), k.tanh(x));
    expectClose(y, [-1, 2]);
    k.sum(y).backward();
    expectClose(x.grad as Tensor, [0, 0]);
  });
  it('logsumexp of all −inf is −inf, not NaN', () => {
    const y = k.logsumexp(k.tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]));
    expect(y.item()).toBe(Number.NEGATIVE_INFINITY);
  });
  it('max propagates NaN as PyTorch does', () => {
    expect(Number.isNaN(k.amax(k.tensor([1, Number.NaN, 3])).item())).toBe(true);
    expect(k.argmax(k.tensor([1, Number.NaN, 3])).item()).toBe(1);
  });
});
