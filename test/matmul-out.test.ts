// k.matmul's `out` (PyTorch's out=): the product written into a tensor the caller reuses. The same
// bits as the product without it on every backend, for matrices, batches, 1-D operands, an `out`
// at an offset and inside a compiled step; on native BLAS writes into `out` directly (no fresh
// memory per call), on webgpu the product is copied in; what it cannot do is refused with a
// message naming the value.
import { describe, expect, it } from 'vitest';
import { hostArray, stats as hostStats } from '../src/backend/host.js';
import { jsBackend } from '../src/backend/js/index.js';
import { createNativeBackend } from '../src/backend/native/index.js';
import * as k from '../src/index.js';
import {
  AutogradError,
  availableBackends,
  compile,
  Rng,
  ShapeError,
  type Tensor,
  ValueError,
} from '../src/index.js';
import { needsWebGpu } from './requires.js';

const gpu = await needsWebGpu('matmul-out.test');
const g = new Rng(21);
const rnd = (shape: number[]) => k.randn(shape, { generator: g });
const bits = (t: Tensor) => Array.from(t.readSync());

describe.each(availableBackends().filter((b) => b !== 'webgpu'))('matmul with out on %s', (name) => {
  const on = <T>(f: () => T): T => {
    k.setBackend(name);
    try {
      return f();
    } finally {
      k.setBackend('wasm');
    }
  };

  it('writes the product into out, bit for bit as without it, and returns out', () =>
    on(() => {
      for (const [as, bs] of [
        [
          [64, 96],
          [96, 48],
        ], // BLAS-sized on native
        [
          [5, 7],
          [7, 3],
        ], // tiny: the base backend's kernel, copied
        [
          [3, 20, 30],
          [30, 10],
        ], // batched, b broadcast
        [[30], [30, 40]], // 1-D operands promoted and squeezed back
        [[40, 30], [30]],
      ]) {
        const a = rnd(as);
        const b = rnd(bs);
        const want = k.matmul(a, b);
        const out = k.zeros(want.shape);
        expect(k.matmul(a, b, { out })).toBe(out);
        expect(bits(out)).toEqual(bits(want));
        // Reused: the second product overwrites the first.
        const a2 = rnd(as);
        k.matmul(a2, b, { out });
        expect(bits(out)).toEqual(bits(k.matmul(a2, b)));
      }
      // Transposed operands are read in place, as without out.
      const at = k.transpose(rnd([50, 40]));
      const bt = k.transpose(rnd([60, 50]));
      const out = k.zeros([40, 60]);
      k.matmul(at, bt, { out });
      expect(bits(out)).toEqual(bits(k.matmul(at, bt)));
    }));

  it('writes into a contiguous view at an offset and leaves the rest alone', () =>
    on(() => {
      const big = rnd([3, 32, 24]);
      const before = bits(big);
      const a = rnd([32, 40]);
      const b = rnd([40, 24]);
      const out = k.select(big, 0, 1);
      k.matmul(a, b, { out });
      const after = bits(big);
      expect(after.slice(32 * 24, 2 * 32 * 24)).toEqual(bits(k.matmul(a, b)));
      expect(after.slice(0, 32 * 24)).toEqual(before.slice(0, 32 * 24));
      expect(after.slice(2 * 32 * 24)).toEqual(before.slice(2 * 32 * 24));
    }));

  it('in a compiled step: the plan multiplies into out on every call', () =>
    on(() => {
      const a = rnd([48, 64]);
      const b = rnd([64, 32]);
      const out = k.zeros([48, 32]);
      const step = compile((x: Tensor) => k.matmul(x, b, { out }));
      step(a);
      expect(bits(out)).toEqual(bits(k.matmul(a, b)));
      const a2 = rnd([48, 64]);
      step(a2);
      expect(bits(out)).toEqual(bits(k.matmul(a2, b)));
    }));

  it('refuses what it cannot do, naming the value', () =>
    on(() => {
      const a = rnd([4, 5]);
      const b = rnd([5, 6]);
      expect(() => k.matmul(a, b, { out: k.zeros([4, 7]) })).toThrow(ShapeError);
      expect(() => k.matmul(a, b, { out: k.zeros([4, 7]) })).toThrow(
        'matmul: out is [4,7] float32, the product of [4,5] and [5,6] is [4,6] float32',
      );
      expect(() => k.matmul(a, b, { out: k.zeros([4, 6], { dtype: 'float64' }) })).toThrow(
        /out is \[4,6\] float64/,
      );
      expect(() => k.matmul(a, b, { out: k.transpose(k.zeros([6, 4])) })).toThrow(ValueError);
      expect(() => k.matmul(a, b, { out: k.transpose(k.zeros([6, 4])) })).toThrow(/out must be contiguous/);
      const sq = rnd([6, 6]);
      expect(() => k.matmul(sq, k.transpose(sq), { out: sq })).toThrow(/shares memory with an operand/);
      const w = k.randn([5, 6], { requiresGrad: true, generator: g });
      expect(() => k.matmul(a, w, { out: k.zeros([4, 6]) })).toThrow(AutogradError);
      expect(() => k.matmul(a, w, { out: k.zeros([4, 6]) })).toThrow(/call it under noGrad\(\)/);
      // Under noGrad it is allowed: nothing is recorded.
      const out = k.zeros([4, 6]);
      k.noGrad(() => k.matmul(a, w, { out }));
      expect(bits(out)).toEqual(bits(k.noGrad(() => k.matmul(a, w))));
      expect(() => k.matmul(a, b, { out: [1, 2] as unknown as Tensor })).toThrow(/out must be a Tensor/);
    }));
});

describe('matmul with out on the native backend', () => {
  it('hands BLAS the caller’s memory: no fresh pooled memory per product once out exists', () => {
    // A BLAS computing in plain JS stands in for the library: the path, not the speed, is tested.
    const calls: number[] = [];
    const be = createNativeBackend(
      {
        name: 'recording',
        threads: () => 1,
        setThreads: () => {},
        gemm(_dt, _ta, _tb, m, n, kk, _alpha, a, lda, b, ldb, beta, c, ldc) {
          calls.push(c.byteOffset);
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let s = 0;
              for (let p = 0; p < kk; p++) s += a[i * lda + p] * b[p * ldb + j];
              c[i * ldc + j] = beta === 0 ? s : s + beta * c[i * ldc + j];
            }
        },
      },
      jsBackend,
    );
    const a = rnd([128, 64]);
    const b = rnd([64, 128]);
    const out = k.zeros([2, 128, 128]);
    const dst = k.select(out, 0, 1);
    expect(be.matmulInto?.(dst, a, b)).toBe(true);
    const fresh = hostStats.freshBytes;
    for (let i = 0; i < 5; i++) be.matmulInto?.(dst, a, b);
    expect(hostStats.freshBytes).toBe(fresh);
    // BLAS wrote at the view's offset in out's own memory.
    expect(new Set(calls)).toEqual(new Set([hostArray(out.storage).byteOffset + 128 * 128 * 4]));
    const want = bits(k.matmul(a, b));
    const got = bits(dst);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
    expect(bits(k.select(out, 0, 0)).every((v) => v === 0)).toBe(true);
    // What BLAS does not take (tiny, int32, a strided out) is left to the caller.
    expect(be.matmulInto?.(k.zeros([4, 4]), rnd([4, 4]), rnd([4, 4]))).toBe(false);
    expect(be.matmulInto?.(k.transpose(k.zeros([128, 128])), a, b)).toBe(false);
  });
});

describe.runIf(gpu)('matmul with out on webgpu', () => {
  it('the product copied into out on the GPU (the backend has no matmulInto), as without it', async () => {
    k.setBackend('webgpu');
    try {
      const a = k.randn([64, 96], { generator: new Rng(4) });
      const b = k.randn([96, 48], { generator: new Rng(5) });
      const want = await k.matmul(a, b).read();
      const out = k.zeros([64, 48]);
      expect(k.matmul(a, b, { out })).toBe(out);
      expect(Array.from(await out.read())).toEqual(Array.from(want));
    } finally {
      k.setBackend('wasm');
    }
  });
});
