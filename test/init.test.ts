/**
 * Initializers against their definitions: sample statistics within sampling error on large
 * tensors, PyTorch's gains, Linear's default bounds, orthogonality, truncation.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { nn, Rng } from '../src/index.js';

const { init } = nn;
const g = () => ({ generator: new Rng(123) });
const stats = (t: k.Tensor) => {
  const d = k.cast(t, 'float64');
  return { mean: k.mean(d).item(), var: k.variance(d).item(), min: k.amin(d).item(), max: k.amax(d).item() };
};

describe('init', () => {
  it('calculateGain as PyTorch', () => {
    expect(init.calculateGain('linear')).toBe(1);
    expect(init.calculateGain('sigmoid')).toBe(1);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(init.calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 12);
    expect(init.calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 12);
    expect(init.calculateGain('selu')).toBe(0.75);
    expect(() => init.calculateGain('swish' as never)).toThrow(/unknown nonlinearity 'swish'/);
  });

  it('fans of a weight [out, in, k]', () => {
    expect(init.calculateFans(k.zeros([4, 3, 5]))).toEqual({ fanIn: 15, fanOut: 20 });
    expect(() => init.calculateFans(k.zeros([3]))).toThrow(/rank ≥ 2, got shape \[3\]/);
  });

  // Variance of a sample variance of n normal draws ≈ 2σ⁴/n: 5 standard errors as tolerance.
  const n = 300 * 400;
  const tolVar = (v: number) => 5 * v * Math.sqrt(2 / n);

  it('xavierUniform_: U(−a, a), a = gain·√(6/(fanIn+fanOut))', () => {
    const t = init.xavierUniform_(k.zeros([300, 400]), 2, g());
    const a = 2 * Math.sqrt(6 / 700);
    const s = stats(t);
    expect(s.max).toBeLessThanOrEqual(a);
    expect(s.min).toBeGreaterThanOrEqual(-a);
    expect(Math.abs(s.var - (a * a) / 3)).toBeLessThan(tolVar((a * a) / 3));
  });

  it('xavierNormal_: std = gain·√(2/(fanIn+fanOut))', () => {
    const s = stats(init.xavierNormal_(k.zeros([300, 400]), 1, g()));
    expect(Math.abs(s.var - 2 / 700)).toBeLessThan(tolVar(2 / 700));
    expect(Math.abs(s.mean)).toBeLessThan(5 * Math.sqrt(2 / 700 / n));
  });

  it('kaimingNormal_: std = √2/√fanIn for ReLU, fanOut mode', () => {
    const s1 = stats(init.kaimingNormal_(k.zeros([300, 400]), { nonlinearity: 'relu', ...g() }));
    expect(Math.abs(s1.var - 2 / 400)).toBeLessThan(tolVar(2 / 400));
    const s2 = stats(
      init.kaimingNormal_(k.zeros([300, 400]), { nonlinearity: 'relu', mode: 'fanOut', ...g() }),
    );
    expect(Math.abs(s2.var - 2 / 300)).toBeLessThan(tolVar(2 / 300));
  });

  it('kaimingUniform_: bound = gain·√(3/fanIn)', () => {
    const t = init.kaimingUniform_(k.zeros([300, 400]), { a: 0.1, ...g() });
    const bound = Math.sqrt(2 / 1.01) * Math.sqrt(3 / 400);
    const s = stats(t);
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(Math.abs(s.var - (bound * bound) / 3)).toBeLessThan(tolVar((bound * bound) / 3));
  });

  it("Linear's default init is PyTorch's: weight and bias in U(−1/√in, 1/√in)", () => {
    const l = new nn.Linear(400, 300, g());
    const b = 1 / Math.sqrt(400);
    const sw = stats(l.weight);
    expect(sw.max).toBeLessThanOrEqual(b);
    expect(sw.min).toBeGreaterThanOrEqual(-b);
    expect(sw.max).toBeGreaterThan(0.99 * b);
    expect(Math.abs(sw.var - (b * b) / 3)).toBeLessThan(tolVar((b * b) / 3));
    const sb = stats(l.bias as k.Tensor);
    expect(sb.max).toBeLessThanOrEqual(b);
    expect(sb.min).toBeGreaterThanOrEqual(-b);
  });

  it('normal_, uniform_, constant_, zeros_, ones_, eye_', () => {
    const s = stats(init.normal_(k.zeros([n]), 3, 0.5, g()));
    expect(Math.abs(s.mean - 3)).toBeLessThan(0.01);
    expect(Math.abs(s.var - 0.25)).toBeLessThan(tolVar(0.25));
    const u = stats(init.uniform_(k.zeros([n]), -1, 3, g()));
    expect(u.min).toBeGreaterThanOrEqual(-1);
    expect(Math.abs(u.mean - 1)).toBeLessThan(0.02);
    expect(init.constant_(k.zeros([2]), 7).toArray()).toEqual([7, 7]);
    expect(init.ones_(k.zeros([2])).toArray()).toEqual([1, 1]);
    expect(init.zeros_(k.ones([2])).toArray()).toEqual([0, 0]);
    expect(init.eye_(k.zeros([2, 3])).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });

  it('truncNormal_ stays in [a, b] with the truncated variance', () => {
    const t = init.truncNormal_(k.zeros([n], { dtype: 'float64' }), 0, 1, -1, 1, g());
    const s = stats(t);
    expect(s.min).toBeGreaterThanOrEqual(-1);
    expect(s.max).toBeLessThanOrEqual(1);
    // Variance of N(0,1) truncated to [−1, 1]: 1 − 2φ(1)/(2Φ(1) − 1) ≈ 0.29112
    expect(s.var).toBeCloseTo(0.29112, 2);
  });

  it('orthogonal_ gives orthonormal rows (or columns) times gain', () => {
    const w = init.orthogonal_(k.zeros([4, 6], { dtype: 'float64' }), 2, g());
    const wwT = k.matmul(w, k.transpose(w));
    const expected = k.mul(k.eye(4, 4, { dtype: 'float64' }), 4);
    for (const [a, b] of (wwT.readSync() as Float64Array).entries())
      expect(Math.abs(b - (expected.readSync()[a] as number))).toBeLessThan(1e-10);
    const tall = init.orthogonal_(k.zeros([6, 3], { dtype: 'float64' }), 1, g());
    const tTt = k.matmul(k.transpose(tall), tall);
    expect(k.amax(k.abs(k.sub(tTt, k.eye(3, 3, { dtype: 'float64' })))).item()).toBeLessThan(1e-10);
  });

  it('same generator seed, same weights', () => {
    const a = init.kaimingNormal_(k.zeros([5, 5]), { generator: new Rng(1) }).toArray();
    const b = init.kaimingNormal_(k.zeros([5, 5]), { generator: new Rng(1) }).toArray();
    expect(a).toEqual(b);
  });
});
