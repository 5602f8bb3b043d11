/**
 * Backend conformance: every kernel of every available backend against the js reference, on
 * contiguous, transposed, sliced and broadcast views. Tolerances: element-wise, reductions, index
 * kernels and the fused softmax cross-entropy must match exactly (they fall back to or reimplement
 * js); float32 matmul within 1e-5·Σₚ|aᵢₚ·bₚⱼ| per element (different summation order and FMA).
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { hostArray } from '../src/backend/host.js';
import { BINARY_OPS, UNARY_OPS } from '../src/backend/js/elementwise.js';
import { DecayMode, H, H_LENGTH, stateNames } from '../src/backend/optimizer.js';
import type { Backend, BinaryOp, Storage, TypedArray, UnaryOp, View } from '../src/backend/types.js';
import * as k from '../src/index.js';
import { availableBackends, backendByName, Rng, type Tensor, tensor } from '../src/index.js';
import { bcast, binaryLayouts, OPTIMIZER_CASES } from './conformanceCases.js';
import { needs } from './requires.js';

// The native backend is checked where the system BLAS loads (and must load in CI).
needs('OpenBLAS', 'conformance.test');

/** A backend whose kernels return their results as host arrays (to compare them element by element). */
type Hosted<R> = R extends Storage ? TypedArray : R extends [Storage, Storage] ? [TypedArray, TypedArray] : R;
type HostBackend = {
  [K in keyof Backend]: Backend[K] extends (...a: infer A) => infer R ? (...a: A) => Hosted<R> : Backend[K];
};
const toHost = (r: unknown): unknown =>
  Array.isArray(r)
    ? r.map(toHost)
    : r && typeof r === 'object' && 'readSync' in r
      ? hostArray(r as Storage)
      : r;
function hosted(b: Backend): HostBackend {
  return new Proxy(b, {
    get(target, key) {
      const v = (target as unknown as Record<PropertyKey, unknown>)[key];
      return typeof v === 'function' ? (...a: unknown[]) => toHost(v.apply(target, a)) : v;
    },
  }) as unknown as HostBackend;
}

const js = hosted(backendByName('js') as Backend);
const others = availableBackends().filter((n) => n !== 'js');
const g = new Rng(42);
const rnd = (shape: number[], dtype: 'float32' | 'float64' = 'float32') =>
  k.rand(shape, { generator: g, dtype }).mul(4).sub(2);

// Every op of the js kernel tables: a new kernel op cannot escape the suite.
const unaryOps: UnaryOp[] = UNARY_OPS;
const binaryOps: BinaryOp[] = BINARY_OPS;

function matmulBound(a: Tensor, b: Tensor): Float64Array {
  const p = k.matmul(k.abs(k.cast(a, 'float64')), k.abs(k.cast(b, 'float64')));
  return p.readSync() as Float64Array;
}

describe.each(others)('backend %s conforms to js', (name) => {
  const be = hosted(backendByName(name) as Backend);

  it('has a name and every kernel', () => {
    expect(be.name).toBe(name);
    for (const key of Object.keys(js) as (keyof Backend)[]) expect(typeof be[key]).toBe(typeof js[key]);
  });

  it('unary kernels, float32 and float64, on strided views', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = k.transpose(rnd([5, 7], dtype)).abs();
      for (const op of unaryOps)
        expect(Array.from(be.unary(op, x, dtype)), op).toEqual(Array.from(js.unary(op, x, dtype)));
    }
  });

  it('binary kernels with broadcasting', () => {
    const a = rnd([4, 1, 3]);
    const b = rnd([2, 1]).abs();
    const shape = [4, 2, 3];
    for (const op of binaryOps) {
      const dt = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op) ? 'bool' : 'float32';
      expect(Array.from(be.binary(op, bcast(a, shape), bcast(b, shape), shape, dt)), op).toEqual(
        Array.from(js.binary(op, bcast(a, shape), bcast(b, shape), shape, dt)),
      );
    }
  });

  // Sizes above the wasm kernels' copy threshold, in every layout they plan for (and some they
  // hand back to js): contiguous, transposed, a slice, row/column/scalar broadcast, 3-D broadcast.
  const bigLayouts: [string, () => [View, View, number[]]][] = [
    ...binaryLayouts(rnd),
    ['odd length', () => [rnd([1031]), rnd([1031]), [1031]]],
  ];
  it('float32 element-wise kernels at sizes the wasm kernels take, bit for bit', () => {
    // Special values too: NaN, ±0, ±inf must come out as in js (relu(−0) = +0, max with NaN = NaN).
    const special = k.tensor(
      Array.from({ length: 1200 }, (_, i) => [Number.NaN, -0, 0, Infinity, -Infinity, 1.5, -2.5][i % 7]),
    );
    const shuffled = k.tensor(Array.from({ length: 1200 }, (_, i) => [-1, 0, Number.NaN, 3, -0][i % 5]));
    const layouts: [string, () => [View, View, number[]]][] = [
      ...bigLayouts,
      ['special values', () => [special, shuffled, [1200]]],
    ];
    for (const [label, make] of layouts) {
      const [a, b, shape] = make();
      for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'reluGrad'] as const)
        expect(Array.from(be.binary(op, a, b, shape, 'float32')), `${op} ${label}`).toEqual(
          Array.from(js.binary(op, a, b, shape, 'float32')),
        );
      for (const op of ['copy', 'neg', 'abs', 'sqrt', 'relu'] as const) {
        const x = { ...a, shape, strides: a.strides } as View;
        expect(Array.from(be.unary(op, x, 'float32')), `${op} ${label}`).toEqual(
          Array.from(js.unary(op, x, 'float32')),
        );
      }
    }
  });

  it('dropout draws the same masks from the same stream, small and large, contiguous and strided', () => {
    for (const [x, p] of [
      [rnd([3, 5]), 0.5],
      [rnd([256, 70]), 0.2],
      [k.transpose(rnd([70, 256])), 0.5],
      [rnd([1000], 'float64'), 0.3],
      [rnd([700]), 1],
      [rnd([700]), 0],
    ] as const) {
      const g1 = new Rng(9);
      const g2 = new Rng(9);
      const scale = p === 1 ? 0 : 1 / (1 - p);
      const [o1, m1] = be.dropout(x, p, scale, g1);
      const [o2, m2] = js.dropout(x, p, scale, g2);
      expect(Array.from(o1)).toEqual(Array.from(o2));
      expect(Array.from(m1)).toEqual(Array.from(m2));
      expect(g1.getState()).toEqual(g2.getState());
      // The kept fraction is 1 − p within 4 standard errors (p = 1 keeps none, p = 0 all).
      const kept = Array.from(m1).filter((v) => v !== 0).length / m1.length;
      const se = Math.sqrt((p * (1 - p)) / m1.length);
      expect(Math.abs(kept - (p === 1 ? 0 : 1 - p))).toBeLessThanOrEqual(4 * se + 1e-12);
    }
  });

  it('axpy updates in place with the same bits (float32 large and small, float64, offsets, float64 x)', () => {
    for (const [n, off, dtype, xdt] of [
      [5000, 0, 'float32', 'float32'],
      [5003, 7, 'float32', 'float32'],
      [100, 3, 'float32', 'float32'],
      [5000, 2, 'float64', 'float64'],
      [4100, 0, 'float32', 'float64'],
    ] as const) {
      const w0 = rnd([n + off + 4], dtype);
      const x = rnd([n], xdt);
      const y1 = k.tensor(w0);
      const y2 = k.tensor(w0);
      be.axpy(k.narrow(y1, 0, off, n), -0.37, x);
      js.axpy(k.narrow(y2, 0, off, n), -0.37, x);
      const [w, w1, xs] = [w0.readSync(), y1.readSync(), x.readSync()];
      expect(Array.from(w1)).toEqual(Array.from(y2.readSync()));
      if (off > 0) expect(w1[off - 1]).toBe(w[off - 1]);
      expect(w1[off]).toBe(dtype === 'float32' ? Math.fround(w[off] - 0.37 * xs[0]) : w[off] - 0.37 * xs[0]);
      expect(w1[off + n]).toBe(w[off + n]);
    }
  });

  it('the fused optimizer step: every family, flag and decay mode, with the same bits (tails, offsets)', () => {
    const cases = OPTIMIZER_CASES;
    for (const [family, slots] of cases) {
      for (const mode of Object.values(DecayMode)) {
        for (const [n, off] of [
          [5003, 0],
          [4099, 5],
          [37, 1],
        ]) {
          const h = new Float64Array(H_LENGTH);
          h[H.lr] = 0.03;
          h[H.decay] = 0.2;
          h[H.decayMode] = mode;
          for (const [slot, v] of Object.entries(slots)) h[Number(slot)] = v;
          const names = stateNames(family, h);
          const w0 = rnd([n + off + 3]);
          const g0 = rnd([n]);
          // State buffers hold non-negative values where a square root reads them.
          const s0 = names.map(() => rnd([n]).abs());
          const run = (b: typeof js) => {
            const w = k.tensor(w0);
            const st = s0.map((s) => k.tensor(s));
            b.optimizerStep(family, k.narrow(w, 0, off, n), g0, st, h);
            return [w.readSync(), ...st.map((s) => s.readSync())].map((a) => Array.from(a));
          };
          const label = `${family} ${JSON.stringify(slots)} mode ${mode} n ${n}`;
          const [got, want] = [run(be), run(js)];
          expect(got, label).toEqual(want);
          // Elements outside the parameter's window are untouched.
          if (off > 0) expect(got[0][off - 1], label).toBe(w0.readSync()[off - 1]);
          expect(got[0][off + n], label).toBe(w0.readSync()[off + n]);
        }
      }
    }
  });

  it('the optimizer step flushes float32 state below 2⁻¹²⁶ to 0 and keeps NaN, as js does', () => {
    const h = new Float64Array(H_LENGTH);
    h[H.lr] = 0.01;
    h[H.beta1] = 0.9;
    h[H.beta2] = 0.999;
    h[H.eps] = 1e-8;
    h[H.bc1] = 1;
    h[H.sqrtBc2] = 1;
    // First moments whose gradient is 0 decay by β1: 0.9·1.2e-38 and 0.9·5e-39 fall below 2⁻¹²⁶.
    const m0 = [1.2e-38, 1.3e-38, 2e-38, 1e-30, Number.NaN, -1.2e-38, 0, 5e-39, 1e-3];
    const v0 = [1.1e-38, 1, 1, 1, 1, 1, 0, 1, 1];
    const run = (b: typeof js) => {
      const st = [k.tensor(new Float32Array(m0)), k.tensor(new Float32Array(v0))];
      b.optimizerStep('adam', k.zeros([m0.length]), k.zeros([m0.length]), st, h);
      return st.map((s) => Array.from(s.readSync()));
    };
    const [m, v] = run(be);
    expect([m, v]).toEqual(run(js));
    expect([m[0], m[1], m[5], m[7], v[0]]).toEqual([0, 0, 0, 0, 0]);
    expect(m[2]).toBe(Math.fround(Math.fround(0.9) * Math.fround(2e-38)));
    expect(m[3]).toBe(Math.fround(Math.fround(0.9) * Math.fround(1e-30)));
    expect(m[4]).toBeNaN();
    for (const x of [...m, ...v]) expect(x === 0 || Number.isNaN(x) || Math.abs(x) >= 2 ** -126).toBe(true);
  });

  it('softmax cross-entropy and its gradient (contiguous and transposed logits), exactly', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const xc = rnd([6, 9], dtype);
      const t = tensor([0, 8, 3, 3, 5, 1], { dtype: 'int32' });
      for (const x of [xc, k.transpose(rnd([9, 6], dtype))]) {
        const [l1, p1] = be.softmaxCrossEntropy(x, t, dtype);
        const [l2, p2] = js.softmaxCrossEntropy(x, t, dtype);
        expect(Array.from(l1)).toEqual(Array.from(l2));
        expect(Array.from(p1)).toEqual(Array.from(p2));
        // The gradient kernel takes the saved softmax as a view, as the op hands it over.
        const probs = (p: TypedArray): View => ({
          storage: k.tensor(p).storage,
          shape: [6, 9],
          strides: [9, 1],
          offset: 0,
        });
        for (const g of [rnd([6], dtype), bcast(rnd([1], dtype), [6])]) {
          const d1 = be.softmaxCrossEntropyGrad(probs(p1), t, g, 0.25, dtype);
          expect(Array.from(d1)).toEqual(
            Array.from(js.softmaxCrossEntropyGrad(probs(p2), t, g, 0.25, dtype)),
          );
        }
      }
    }
  });

  it('where, reductions, argmax/argmin, index kernels, copyInto', () => {
    const x = rnd([3, 4, 5]);
    const c = k.gt(rnd([4, 5]), 0);
    const shape = [3, 4, 5];
    expect(Array.from(be.where(bcast(c, shape), x, bcast(k.zeros([1]), shape), shape, 'float32'))).toEqual(
      Array.from(js.where(bcast(c, shape), x, bcast(k.zeros([1]), shape), shape, 'float32')),
    );
    for (const op of ['sum', 'max', 'min'] as const) {
      for (const axes of [[0], [1, 2], [0, 1, 2]])
        expect(Array.from(be.reduce(op, k.permute(x, [2, 0, 1]), axes, 'float32'))).toEqual(
          Array.from(js.reduce(op, k.permute(x, [2, 0, 1]), axes, 'float32')),
        );
    }
    // Bias-gradient sums (leading axes of a contiguous float32, the wasm column sums), at an offset too.
    const big = rnd([2, 64, 37]);
    for (const [v, axes] of [
      [big, [0, 1]],
      [big.reshape([128, 37]), [0]],
      [k.select(big, 0, 1), [0]],
    ] as const)
      expect(Array.from(be.reduce('sum', v, axes, 'float32'))).toEqual(
        Array.from(js.reduce('sum', v, axes, 'float32')),
      );
    for (const op of ['argmax', 'argmin'] as const)
      expect(Array.from(be.argReduce(op, x, 1))).toEqual(Array.from(js.argReduce(op, x, 1)));
    const idx = tensor([0, 2, 1, 1, 0, 2], { dtype: 'int32' }).reshape([2, 3]);
    const src = rnd([2, 3]);
    const base = rnd([2, 3]);
    expect(Array.from(be.gather(base, 1, idx, 'float32'))).toEqual(
      Array.from(js.gather(base, 1, idx, 'float32')),
    );
    expect(Array.from(be.scatterAdd([2, 3], 1, idx, src, 'float32'))).toEqual(
      Array.from(js.scatterAdd([2, 3], 1, idx, src, 'float32')),
    );
    const sel = tensor([2, 0, 2], { dtype: 'int32' });
    expect(Array.from(be.indexSelect(x, 1, sel, 'float32'))).toEqual(
      Array.from(js.indexSelect(x, 1, sel, 'float32')),
    );
    const added = rnd([3, 3, 5]);
    expect(Array.from(be.indexAdd([3, 4, 5], 1, sel, added, 'float32'))).toEqual(
      Array.from(js.indexAdd([3, 4, 5], 1, sel, added, 'float32')),
    );
    const d1 = k.zeros([4, 5]);
    const d2 = k.zeros([4, 5]);
    be.copyInto(d1, k.transpose(rnd([5, 4])));
    js.copyInto(d2, k.transpose(k.tensor(d1)));
    expect(d1.shape).toEqual(d2.shape);
  });

  const layouts: [string, (t: Tensor) => Tensor, (t: Tensor) => Tensor, boolean, boolean][] = [
    ['A·B', (t) => t, (t) => t, false, false],
    ['A·Bᵀ', (t) => t, k.transpose, false, true],
    ['Aᵀ·B', k.transpose, (t) => t, true, false],
    ['Aᵀ·Bᵀ', k.transpose, k.transpose, true, true],
  ];
  const sizes = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 8, 8],
    [9, 17, 13],
    [64, 300, 70],
    [256, 784, 256],
    [5, 0, 3],
    // Matrix-vector and tiny products (the unpacked kernel): n = 1 or 2, contiguous or transposed.
    [200, 5, 1],
    [5, 200, 1],
    [37, 64, 2],
    [16, 16, 16],
    [7, 3, 1],
  ];
  for (const [label, fa, fb, ta, tb] of layouts) {
    it(`float32 matmul ${label} at several sizes (edges, k = 0)`, () => {
      for (const [m, kk, n] of sizes) {
        const a = fa(rnd(ta ? [kk, m] : [m, kk]));
        const b = fb(rnd(tb ? [n, kk] : [kk, n]));
        const got = be.matmul(a, b, [m, n], 'float32');
        const want = js.matmul(a, b, [m, n], 'float32');
        const bound = matmulBound(a, b);
        for (let i = 0; i < want.length; i++) {
          expect(
            Math.abs(got[i] - want[i]) <= 1e-5 * bound[i] + 1e-30,
            `${label} ${m}×${kk}×${n} element ${i}: ${got[i]} vs ${want[i]}`,
          ).toBe(true);
        }
      }
    });
  }

  it('matmul with a bias epilogue (contiguous and strided bias, threaded sizes, batched) matches js', () => {
    for (const [m, kk, n] of [
      [3, 5, 7],
      [64, 300, 70],
      [256, 784, 256],
    ]) {
      const a = rnd([m, kk]);
      const b = k.transpose(rnd([n, kk]));
      for (const bias of [rnd([n]), k.narrow(k.transpose(rnd([n, 3])), 0, 1, 1).reshape([n])]) {
        const got = be.matmul(a, b, [m, n], 'float32', bias);
        const want = js.matmul(a, b, [m, n], 'float32', bias);
        const bound = matmulBound(a, b);
        for (let i = 0; i < want.length; i++)
          expect(Math.abs(got[i] - want[i]) <= 1e-5 * (bound[i] + 4), `${m}×${kk}×${n} element ${i}`).toBe(
            true,
          );
      }
    }
    const a = rnd([2, 6, 5]);
    const b = rnd([2, 5, 4]);
    const bias = rnd([4]);
    const got = be.matmul(a, b, [2, 6, 4], 'float32', bias);
    const plain = js.matmul(a, b, [2, 6, 4], 'float32');
    for (let i = 0; i < got.length; i++)
      expect(Math.abs(got[i] - (plain[i] + bias.readSync()[i % 4]))).toBeLessThan(1e-5);
  });

  it('matmul with an operand broadcast from one element (the gradient of a sum) matches js', () => {
    for (const [m, kk, n] of [
      [32, 32, 32],
      [5, 3, 2],
      [70, 40, 33],
    ]) {
      const one = rnd([1, 1]);
      const a = rnd([m, kk]);
      const b = rnd([kk, n]);
      for (const [x, y] of [
        [bcast(one, [m, kk]), b],
        [a, bcast(one, [kk, n])],
        [k.transpose(rnd([kk, m])), bcast(one, [kk, n])],
      ]) {
        const got = be.matmul(x, y, [m, n], 'float32');
        const want = js.matmul(x, y, [m, n], 'float32');
        for (let i = 0; i < want.length; i++)
          expect(Math.abs(got[i] - want[i]) <= 1e-5 * (Math.abs(want[i]) + kk * 4)).toBe(true);
      }
    }
  });

  it('batched matmul with broadcast batch axes, and float64 (js exactly; dgemm within 1e-13·Σ|aᵢₚ·bₚⱼ|)', () => {
    const a = rnd([2, 1, 6, 5]);
    const b = rnd([3, 5, 4]);
    const shape = [2, 3, 6, 4];
    const av = {
      storage: a.storage,
      shape: [2, 3, 6, 5],
      strides: [a.strides[0], 0, a.strides[2], a.strides[3]],
      offset: 0,
    };
    const bv = { storage: b.storage, shape: [2, 3, 5, 4], strides: [0, ...b.strides], offset: 0 };
    const got = be.matmul(av, bv, shape, 'float32');
    const want = js.matmul(av, bv, shape, 'float32');
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
    for (const [m, kk, n] of [
      [7, 9, 3],
      [64, 300, 70],
    ]) {
      const a64 = rnd([m, kk], 'float64');
      const b64 = k.transpose(rnd([n, kk], 'float64'));
      const got64 = be.matmul(a64, b64, [m, n], 'float64');
      const want64 = js.matmul(a64, b64, [m, n], 'float64');
      if (name !== 'native') expect(Array.from(got64)).toEqual(Array.from(want64));
      else {
        const bound = matmulBound(a64, b64);
        for (let i = 0; i < want64.length; i++)
          expect(Math.abs(got64[i] - want64[i]) <= 1e-13 * bound[i], `float64 ${m}×${kk}×${n} ${i}`).toBe(
            true,
          );
      }
    }
  });
});

it('the default is native where the system BLAS loads, else wasm where WebAssembly SIMD runs', () => {
  expect(availableBackends()).toContain('wasm');
  expect(k.getBackend()).toBe(availableBackends().includes('native') ? 'native' : 'wasm');
});

it('large float32 products are split across worker threads (keel/node installs them) and still match js', async () => {
  const wasm = backendByName('wasm') as Backend & {
    gemm: { threads: number; readyHelpers: number; helperBlocks: number };
  };
  const threaded = availableParallelism() > 1 && !process.env.KEEL_THREADS;
  if (threaded) expect(wasm.gemm.threads).toBeGreaterThan(1);
  const a = rnd([301, 517]);
  const b = k.transpose(rnd([263, 517]));
  // Helpers join products once their worker runs (a worker still starting is left out).
  for (let i = 0; i < 400 && wasm.gemm.readyHelpers < wasm.gemm.threads - 1; i++)
    await new Promise((r) => setTimeout(r, 25));
  expect(wasm.gemm.readyHelpers).toBe(wasm.gemm.threads - 1);
  const before = wasm.gemm.helperBlocks;
  const got = wasm.matmul(a, b, [301, 263], 'float32');
  // On a loaded machine a helper may wake too late for one product: a few more give it the chance.
  for (let i = 0; i < 20 && wasm.gemm.helperBlocks === before; i++) wasm.matmul(a, b, [301, 263], 'float32');
  if (threaded) expect(wasm.gemm.helperBlocks).toBeGreaterThan(before);
  const want = js.matmul(a, b, [301, 263], 'float32');
  const bound = matmulBound(a, b);
  const g = hostArray(got);
  for (let i = 0; i < want.length; i++) expect(Math.abs(g[i] - want[i]) <= 1e-5 * bound[i]).toBe(true);
});
