/**
 * The webgpu backend's kernels against the js reference (the conformance suite's cases, read back
 * asynchronously, many kernels per submit — SwiftShader pays ~2.4 ms per wait). Inputs are made on
 * the CPU and uploaded; results are compared element by element. Tolerances, per kernel:
 * - exact (same bits, NaN as NaN, ±0 kept): copy/casts, neg, abs, sign, relu, add, sub, mul,
 *   maximum, minimum, comparisons, reluGrad, where, max/min reductions, argmax/argmin, gather,
 *   scatterAdd, indexSelect, indexAdd (same float32 additions in the same order), copyInto,
 *   dropout (masks and outputs), integer kernels;
 * - ≤ 1 ulp: div, sqrt, axpy (α·x and the sum rounded separately), the optimizer update (per
 *   element, every family and decay mode; bit-exact where the GPU rounds ÷ and √ correctly);
 * - ≤ 8 ulp or 1e-7 absolute: exp, log, sigmoid, tanh, pow; erf within 1e-6 absolute;
 * - sums: |Δ| ≤ 1e-6·Σ|x| (float32 with compensation vs float64);
 * - matmul: |Δ| ≤ 1e-5·Σₚ|aᵢₚ·bₚⱼ| (as the CPU backends), + bias;
 * - uniform draws within 4 ulp of max(|a|, |b|); normal draws within 2e-5·(|a| + |b|·(1 + |z|));
 * - softmax cross-entropy: losses within 1e-6·(1 + |loss|), softmax and gradient within 1e-6
 *   absolute (float32 vs the reference's float64).
 */
import { describe, expect, it } from 'vitest';
import { hostArray } from '../src/backend/host.js';
import { BINARY_OPS, UNARY_OPS } from '../src/backend/js/elementwise.js';
import { DecayMode, H, H_LENGTH, stateNames } from '../src/backend/optimizer.js';
import type { Backend, Storage, View } from '../src/backend/types.js';
import type { WebGpuBackend } from '../src/backend/webgpu/index.js';
import { forceTile, TILE_COUNT } from '../src/backend/webgpu/matmul.js';
import * as k from '../src/index.js';
import { backendByName, Rng, tensor } from '../src/index.js';
import { bcast, binaryLayouts, OPTIMIZER_CASES } from './conformanceCases.js';
import { needsWebGpu } from './requires.js';

const ok = await needsWebGpu('webgpu-conformance.test');

/** A comparison of one element: true when `got` is close enough to `want`. */
type Tol = (got: number, want: number, i: number) => boolean;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** The float32 ulp at |x|. */
function ulp(x: number): number {
  f32[0] = Math.abs(x);
  if (!Number.isFinite(f32[0])) return Number.POSITIVE_INFINITY;
  const b = u32[0];
  u32[0] = b + 1;
  return f32[0] - Math.fround(Math.abs(x));
}
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const exact: Tol = (g, w) => same(g, w);
const ulps =
  (n: number, abs = 0): Tol =>
  (g, w) =>
    same(g, w) || Math.abs(g - w) <= n * ulp(w) + abs;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++)
    if (!tol(got[i], want[i], i)) expect.fail(`${label}: element ${i} is ${got[i]}, want ${want[i]}`);
}

describe.runIf(ok)('the webgpu backend conforms to js', () => {
  const gpu = backendByName('webgpu') as WebGpuBackend;
  const js = backendByName('js') as Backend;
  const g = new Rng(42);
  const rnd = (shape: number[], dtype: 'float32' | 'float64' = 'float32') =>
    k.rand(shape, { generator: g, dtype }).mul(4).sub(2);
  /** The same view over a GPU copy of its (host) storage. */
  const up = (v: View): View => ({
    storage: gpu.fromHost(hostArray(v.storage).slice()),
    shape: v.shape,
    strides: v.strides,
    offset: v.offset,
  });
  const read = (s: Storage) => s.read({ shape: [s.length], strides: [1], offset: 0 });
  const hv = (s: Storage) => hostArray(s);
  /** Runs the checks after reading every GPU result at once. */
  async function check(pairs: [Storage, ArrayLike<number>, Tol, string][]): Promise<void> {
    const got = await Promise.all(pairs.map(([s]) => read(s)));
    pairs.forEach(([, want, tol, label], i) => {
      expectClose(got[i], want, tol, label);
    });
  }

  it('unary kernels, float32 and float64 (held as float32), on strided views, within their tolerances', async () => {
    const tol: Record<string, Tol> = {
      copy: exact,
      neg: exact,
      abs: exact,
      sign: exact,
      relu: exact,
      sqrt: ulps(1),
      exp: ulps(8, 1e-30),
      log: ulps(8, 1e-7),
      sigmoid: ulps(8, 1e-7),
      tanh: ulps(8, 1e-7),
      erf: ulps(0, 1e-6),
    };
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    for (const dtype of ['float32', 'float64'] as const) {
      const x = k.transpose(rnd([5, 7], dtype)).abs();
      const gx = up(x);
      for (const op of UNARY_OPS) {
        // float64 on the GPU is the float32 result of the float64 inputs rounded to float32.
        const want = Float64Array.from(hv(js.unary(op, up32(x), 'float32')));
        pairs.push([gpu.unary(op, gx, dtype), want, tol[op], `${op} ${dtype}`]);
      }
    }
    const special = k.tensor([
      Number.NaN,
      -0,
      0,
      Infinity,
      -Infinity,
      1.5,
      -2.5,
      1e-30,
      -1e-3,
      20,
      -20,
      100,
      -100,
    ]);
    for (const op of UNARY_OPS)
      pairs.push([
        gpu.unary(op, up(special), 'float32'),
        hv(js.unary(op, special, 'float32')),
        tol[op],
        `${op} special`,
      ]);
    await check(pairs);
  });

  /** A float32 copy of a float64 view (the values the GPU holds). */
  function up32(v: View): View {
    return { ...v, storage: js.fromHost(Float32Array.from(hv(v.storage))) };
  }

  it('binary kernels with broadcasting, special values and every layout', async () => {
    const tol = (op: string): Tol =>
      op === 'div'
        ? ulps(1)
        : op === 'pow'
          ? (gv, w) => same(gv, w) || Math.abs(gv - w) <= 4e-6 * Math.abs(w)
          : exact;
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    const a = rnd([4, 1, 3]);
    const b = rnd([2, 1]).abs();
    const shape = [4, 2, 3];
    for (const op of BINARY_OPS) {
      const dt = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op) ? 'bool' : 'float32';
      const [ga, gb] = [up(bcast(a, shape)), up(bcast(b, shape))];
      pairs.push([
        gpu.binary(op, ga, gb, shape, dt),
        hv(js.binary(op, bcast(a, shape), bcast(b, shape), shape, dt)),
        tol(op),
        op,
      ]);
    }
    const layouts: [string, () => [View, View, number[]]][] = [
      ...binaryLayouts(rnd),
      [
        'special values',
        () => [
          k.tensor(
            Array.from(
              { length: 1200 },
              (_, i) => [Number.NaN, -0, 0, Infinity, -Infinity, 1.5, -2.5][i % 7],
            ),
          ),
          k.tensor(Array.from({ length: 1200 }, (_, i) => [-1, 0, Number.NaN, 3, -0][i % 5])),
          [1200],
        ],
      ],
    ];
    for (const [label, make] of layouts) {
      const [x, y, sh] = make();
      const [gx, gy] = [up(x), up(y)];
      for (const op of BINARY_OPS) {
        const dt = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op) ? 'bool' : 'float32';
        pairs.push([
          gpu.binary(op, gx, gy, sh, dt),
          hv(js.binary(op, x, y, sh, dt)),
          tol(op),
          `${op} ${label}`,
        ]);
      }
      for (const op of ['copy', 'neg', 'abs', 'sqrt', 'relu'] as const)
        pairs.push([
          gpu.unary(op, gx, 'float32'),
          hv(js.unary(op, x, 'float32')),
          op === 'sqrt' ? ulps(1) : exact,
          `${op} ${label}`,
        ]);
    }
    await check(pairs);
  });

  it('integer and bool kernels, casts between every dtype, where', async () => {
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    const i1 = tensor(
      [
        [-7, 3, 0],
        [12, -1, 2147483647],
      ],
      { dtype: 'int32' },
    );
    const i2 = tensor([2, -3, 0], { dtype: 'int32' });
    const shape = [2, 3];
    for (const op of BINARY_OPS) {
      if (op === 'pow') continue;
      const dt = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op) ? 'bool' : 'int32';
      pairs.push([
        gpu.binary(op, up(i1), up(bcast(i2, shape)), shape, dt),
        hv(js.binary(op, i1, bcast(i2, shape), shape, dt)),
        exact,
        `int32 ${op}`,
      ]);
    }
    const f = k.tensor([-2.7, -0.5, -0, 0, 0.5, 2.7, 3e9, -3e9, Number.NaN, Infinity, 1e20, 7]);
    const b = tensor([true, false, true, true, false, false, true, false, true, false, true, true]);
    for (const [label, x] of [
      ['float32', f],
      ['int32', tensor([-3, 0, 5, 7, -2147483648, 9, 1, 2, 3, 4, 5, 6], { dtype: 'int32' })],
      ['bool', b],
    ] as const)
      for (const to of ['float32', 'int32', 'bool', 'float64'] as const)
        pairs.push([
          gpu.unary('copy', up(x), to),
          hv(js.unary('copy', x, to)),
          exact,
          `copy ${label} → ${to}`,
        ]);
    for (const op of ['neg', 'abs', 'sign', 'relu'] as const)
      pairs.push([gpu.unary(op, up(i1), 'int32'), hv(js.unary(op, i1, 'int32')), exact, `int32 ${op}`]);
    const x = rnd([3, 4, 5]);
    const c = k.gt(rnd([4, 5]), 0);
    const s3 = [3, 4, 5];
    const zero = bcast(k.zeros([1]), s3);
    pairs.push([
      gpu.where(up(bcast(c, s3)), up(x), up(zero), s3, 'float32'),
      hv(js.where(bcast(c, s3), x, zero, s3, 'float32')),
      exact,
      'where',
    ]);
    await check(pairs);
  });

  it('reductions (compensated float32 sums), argmax/argmin, index kernels, copyInto', async () => {
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    const x = rnd([3, 4, 5]);
    const perm = k.permute(x, [2, 0, 1]);
    const absSum = (axes: number[]) => hv(js.reduce('sum', k.abs(perm), axes, 'float64'));
    for (const op of ['sum', 'max', 'min'] as const)
      for (const axes of [[0], [1, 2], [0, 1, 2]]) {
        const bound = absSum(axes);
        const tol: Tol = op === 'sum' ? (gv, w, i) => Math.abs(gv - w) <= 1e-6 * bound[i] : exact;
        pairs.push([
          gpu.reduce(op, up(perm), axes, 'float32'),
          hv(js.reduce(op, perm, axes, 'float32')),
          tol,
          `${op} ${axes}`,
        ]);
      }
    // A long sum: 300,000 elements into one output, and column sums of a batch (bias gradients).
    for (const [shape, axes] of [
      [[300000], [0]],
      [[128, 1024], [0]],
      [[1000, 10], [1]],
    ] as [number[], number[]][]) {
      const t = rnd(shape);
      const bound = hv(js.reduce('sum', k.abs(t), axes, 'float64'));
      pairs.push([
        gpu.reduce('sum', up(t), axes, 'float64'),
        hv(js.reduce('sum', t, axes, 'float64')),
        (gv, w, i) => Math.abs(gv - w) <= 1e-6 * bound[i],
        `sum [${shape}] over ${axes}`,
      ]);
    }
    const bools = k.gt(rnd([50, 7]), 0);
    pairs.push([
      gpu.reduce('sum', up(bools), [0], 'int32'),
      hv(js.reduce('sum', bools, [0], 'int32')),
      exact,
      'bool count',
    ]);
    const nan = k.tensor([
      [1, Number.NaN, 3],
      [4, 5, 6],
    ]);
    for (const op of ['argmax', 'argmin'] as const) {
      pairs.push([gpu.argReduce(op, up(x), 1), hv(js.argReduce(op, x, 1)), exact, op]);
      pairs.push([gpu.argReduce(op, up(nan), 1), hv(js.argReduce(op, nan, 1)), exact, `${op} NaN`]);
    }
    const idx = tensor([0, 2, 1, 1, 0, 2], { dtype: 'int32' }).reshape([2, 3]);
    const src = rnd([2, 3]);
    const base = rnd([2, 3]);
    pairs.push([
      gpu.gather(up(base), 1, up(idx), 'float32'),
      hv(js.gather(base, 1, idx, 'float32')),
      exact,
      'gather',
    ]);
    pairs.push([
      gpu.scatterAdd([2, 3], 1, up(idx), up(src), 'float32'),
      hv(js.scatterAdd([2, 3], 1, idx, src, 'float32')),
      exact,
      'scatterAdd',
    ]);
    const sel = tensor([2, 0, 2], { dtype: 'int32' });
    pairs.push([
      gpu.indexSelect(up(x), 1, up(sel), 'float32'),
      hv(js.indexSelect(x, 1, sel, 'float32')),
      exact,
      'indexSelect',
    ]);
    const added = rnd([3, 3, 5]);
    pairs.push([
      gpu.indexAdd([3, 4, 5], 1, up(sel), up(added), 'float32'),
      hv(js.indexAdd([3, 4, 5], 1, sel, added, 'float32')),
      exact,
      'indexAdd',
    ]);
    // Many adds onto few rows (the sums' order matters for the bits).
    const many = tensor(
      Array.from({ length: 300 }, (_, i) => (i * 7) % 5),
      { dtype: 'int32' },
    );
    const rows = rnd([300, 6]);
    pairs.push([
      gpu.indexAdd([5, 6], 0, up(many), up(rows), 'float32'),
      hv(js.indexAdd([5, 6], 0, many, rows, 'float32')),
      exact,
      'indexAdd 300 → 5',
    ]);
    // A batch of rows of a data set (the training step's gather).
    const data = rnd([1000, 12]);
    const batch = tensor(
      Array.from({ length: 64 }, (_, i) => (i * 389) % 1000),
      { dtype: 'int32' },
    );
    pairs.push([
      gpu.indexSelect(up(data), 0, up(batch), 'float32'),
      hv(js.indexSelect(data, 0, batch, 'float32')),
      exact,
      'batch rows',
    ]);
    const d = gpu.fromHost(new Float32Array(20));
    const srcT = k.transpose(rnd([5, 4]));
    gpu.copyInto({ storage: d, shape: [4, 5], strides: [5, 1], offset: 0 }, up(srcT));
    pairs.push([d, k.contiguous(srcT).readSync(), exact, 'copyInto transposed']);
    const d2 = gpu.fromHost(new Float32Array(20).fill(9));
    gpu.copyInto(
      { storage: d2, shape: [4, 2], strides: [5, 2], offset: 1 },
      up(bcast(k.tensor([7]), [4, 2])),
    );
    const want2 = new Float32Array(20).fill(9);
    for (let r = 0; r < 4; r++) for (let c2 = 0; c2 < 2; c2++) want2[1 + 5 * r + 2 * c2] = 7;
    pairs.push([d2, want2, exact, 'copyInto strided destination']);
    await check(pairs);
  });

  it('reports an index out of range at the next read, worded as the js kernel', async () => {
    const x = up(rnd([5, 3]));
    const bad = up(tensor([1, 7], { dtype: 'int32' }));
    const out = gpu.indexSelect(x, 0, bad, 'float32');
    await expect(read(out)).rejects.toThrow(
      /indexSelect: index 7 is out of range for axis 0 of size 5 \(allowed 0\.\.4\)/,
    );
    // The error is reported once: the next read is clean.
    const fine = gpu.unary('neg', x, 'float32');
    expect((await read(fine)).length).toBe(15);
    const t = up(tensor([0, 12], { dtype: 'int32' }));
    gpu.softmaxCrossEntropy(up(rnd([2, 10])), t, 'float32');
    await expect(read(fine)).rejects.toThrow(/crossEntropy: target 12 is out of range for 10 classes/);
  });

  for (const [label, ta, tb] of [
    ['A·B', false, false],
    ['A·Bᵀ', false, true],
    ['Aᵀ·B', true, false],
    ['Aᵀ·Bᵀ', true, true],
  ] as const) {
    it(`float32 matmul ${label} at several sizes (edges, k = 0, tile sizes)`, async () => {
      const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
      for (const [m, kk, n] of [
        [1, 1, 1],
        [3, 5, 7],
        [9, 17, 13],
        [64, 300, 70],
        [256, 784, 256],
        [5, 0, 3],
        [200, 5, 1],
        [37, 64, 2],
        [130, 33, 129],
      ]) {
        const a = ta ? k.transpose(rnd([kk, m])) : rnd([m, kk]);
        const b = tb ? k.transpose(rnd([n, kk])) : rnd([kk, n]);
        const bound = k.matmul(k.abs(k.cast(a, 'float64')), k.abs(k.cast(b, 'float64'))).readSync();
        pairs.push([
          gpu.matmul(up(a), up(b), [m, n], 'float32'),
          hv(js.matmul(a, b, [m, n], 'float32')),
          (gv, w, i) => Math.abs(gv - w) <= 1e-5 * bound[i] + 1e-30,
          `${label} ${m}×${kk}×${n}`,
        ]);
      }
      await check(pairs);
    });
  }

  it('every tile configuration of the GEMM, in every layout, at ragged edges', async () => {
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    try {
      for (let t = 0; t < TILE_COUNT; t++) {
        forceTile(t);
        for (const [m, kk, n] of [
          [130, 20, 129],
          [17, 9, 3],
        ])
          for (const [ta, tb] of [
            [false, false],
            [false, true],
            [true, false],
            [true, true],
          ]) {
            const a = ta ? k.transpose(rnd([kk, m])) : rnd([m, kk]);
            const b = tb ? k.transpose(rnd([n, kk])) : rnd([kk, n]);
            const bias = rnd([n]);
            const bound = k.matmul(k.abs(a), k.abs(b)).readSync();
            pairs.push([
              gpu.matmul(up(a), up(b), [m, n], 'float32', up(bias)),
              hv(js.matmul(a, b, [m, n], 'float32', bias)),
              (gv, w, i) => Math.abs(gv - w) <= 1e-5 * (bound[i] + 4),
              `tile ${t} ${m}×${kk}×${n}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`,
            ]);
          }
      }
    } finally {
      forceTile(null);
    }
    await check(pairs);
  });

  it('matmul with a bias epilogue, broadcast operands and batches; float64 refused', async () => {
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    for (const [m, kk, n] of [
      [3, 5, 7],
      [128, 784, 100],
    ]) {
      const a = rnd([m, kk]);
      const b = k.transpose(rnd([n, kk]));
      const bound = k.matmul(k.abs(a), k.abs(b)).readSync();
      for (const bias of [rnd([n]), k.narrow(k.transpose(rnd([n, 3])), 0, 1, 1).reshape([n])])
        pairs.push([
          gpu.matmul(up(a), up(b), [m, n], 'float32', up(bias)),
          hv(js.matmul(a, b, [m, n], 'float32', bias)),
          (gv, w, i) => Math.abs(gv - w) <= 1e-5 * (bound[i % (m * n)] + 4),
          `bias ${m}×${kk}×${n}`,
        ]);
    }
    const one = rnd([1, 1]);
    const a = rnd([33, 40]);
    pairs.push([
      gpu.matmul(up(a), up(bcast(one, [40, 21])), [33, 21], 'float32'),
      hv(js.matmul(a, bcast(one, [40, 21]), [33, 21], 'float32')),
      (gv, w) => Math.abs(gv - w) <= 1e-5 * (Math.abs(w) + 160),
      'broadcast scalar operand',
    ]);
    const ba = rnd([2, 1, 6, 5]);
    const bb = rnd([3, 5, 4]);
    const av = {
      storage: ba.storage,
      shape: [2, 3, 6, 5],
      strides: [ba.strides[0], 0, ba.strides[2], ba.strides[3]],
      offset: 0,
    };
    const bv = { storage: bb.storage, shape: [2, 3, 5, 4], strides: [0, ...bb.strides], offset: 0 };
    pairs.push([
      gpu.matmul(up(av), up(bv), [2, 3, 6, 4], 'float32'),
      hv(js.matmul(av, bv, [2, 3, 6, 4], 'float32')),
      (gv, w) => Math.abs(gv - w) < 1e-5,
      'batched',
    ]);
    await check(pairs);
    const a64 = rnd([2, 2], 'float64');
    expect(() => gpu.matmul(up(a64), up(a64), [2, 2], 'float64')).toThrow(/float32 only.*float64/);
  });

  it('dropout draws the same masks from the same stream (bit for bit), and random draws follow the spec', async () => {
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    for (const [x, p] of [
      [rnd([3, 5]), 0.5],
      [rnd([256, 70]), 0.2],
      [k.transpose(rnd([70, 256])), 0.5],
      [rnd([700]), 1],
      [rnd([700]), 0],
    ] as const) {
      const [g1, g2] = [new Rng(9), new Rng(9)];
      const scale = p === 1 ? 0 : 1 / (1 - p);
      const [o1, m1] = gpu.dropout(up(x), p, scale, g1);
      const [o2, m2] = js.dropout(x, p, scale, g2);
      pairs.push([o1, hv(o2), exact, `dropout out p=${p}`], [m1, hv(m2), exact, `dropout mask p=${p}`]);
      expect(g1.getState()).toEqual(g2.getState());
    }
    for (const [kind, a, b, n] of [
      ['uniform', 0, 1, 1001],
      ['uniform', -3, 5, 64],
      ['normal', 0, 1, 4097],
      ['normal', 2, 0.5, 33],
    ] as const) {
      const [g1, g2] = [new Rng(5), new Rng(5)];
      const got = gpu.random(kind, [n], 'float32', a, b, g1);
      const want = hv(js.random(kind, [n], 'float32', a, b, g2));
      const tol: Tol =
        kind === 'uniform'
          ? (gv, w) => Math.abs(gv - w) <= 4 * ulp(Math.max(Math.abs(a), Math.abs(b)))
          : (gv, w) => Math.abs(gv - w) <= 2e-5 * (Math.abs(a) + Math.abs(b) * (1 + Math.abs((w - a) / b)));
      pairs.push([got, want, tol, `${kind} ${a} ${b}`]);
      expect(g1.getState()).toEqual(g2.getState());
    }
    await check(pairs);
  });

  it('axpy within an ulp, strided and offset', async () => {
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    for (const [n, off] of [
      [5000, 0],
      [5003, 7],
    ]) {
      const w0 = rnd([n + off + 4]);
      const x = rnd([n]);
      const y1 = up(w0);
      const y2 = k.tensor(w0);
      gpu.axpy({ ...y1, shape: [n], strides: [1], offset: off }, -0.37, up(x));
      js.axpy(k.narrow(y2, 0, off, n), -0.37, x);
      pairs.push([y1.storage, y2.readSync(), ulps(1), `axpy ${n} at ${off}`]);
    }
    await check(pairs);
  });

  it('the fused optimizer step: every family, flag and decay mode, within an ulp of js (tails, offsets)', async () => {
    const cases = OPTIMIZER_CASES;
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    let exactCount = 0;
    let total = 0;
    const counting: Tol = (gv, w) => {
      total++;
      if (same(gv, w)) exactCount++;
      return same(gv, w) || Math.abs(gv - w) <= ulp(w);
    };
    for (const [family, slots] of cases)
      for (const mode of Object.values(DecayMode))
        for (const [n, off] of [
          [4099, 5],
          [37, 0],
        ]) {
          const h = new Float64Array(H_LENGTH);
          h[H.lr] = 0.03;
          h[H.decay] = 0.2;
          h[H.decayMode] = mode;
          for (const [slot, v] of Object.entries(slots)) h[Number(slot)] = v;
          const names = stateNames(family, h);
          const w0 = rnd([n + off + 3]);
          const g0 = k.transpose(rnd([1, n]));
          const s0 = names.map(() => rnd([n]).abs());
          const gw = up(w0);
          const gs = s0.map(up);
          gpu.optimizerStep(
            family,
            { ...gw, shape: [n, 1], strides: [1, 1], offset: off },
            up(g0),
            gs.map((s) => ({ ...s, shape: [n, 1], strides: [1, 1] })),
            h,
          );
          const w = k.tensor(w0);
          const st = s0.map((s) => k.tensor(s));
          js.optimizerStep(
            family,
            k.narrow(w, 0, off, n).reshape([n, 1]),
            g0,
            st.map((s) => s.reshape([n, 1])),
            h,
          );
          const label = `${family} ${JSON.stringify(slots)} mode ${mode} n ${n}`;
          pairs.push([gw.storage, w.readSync(), counting, `${label} w`]);
          gs.forEach((s, i) => {
            pairs.push([s.storage, st[i].readSync(), counting, `${label} ${names[i]}`]);
          });
        }
    await check(pairs);
    console.log(`webgpu optimizer: ${exactCount} of ${total} elements bit-exact with js`);
  });

  it('softmax cross-entropy and its gradient (contiguous and transposed logits)', async () => {
    const pairs: [Storage, ArrayLike<number>, Tol, string][] = [];
    const t = tensor([0, 8, 3, 3, 5, 1], { dtype: 'int32' });
    for (const x of [
      rnd([6, 9]),
      k.transpose(rnd([9, 6])),
      k.tensor(Array.from({ length: 54 }, (_, i) => (i % 9) * 30 - 100)).reshape([6, 9]),
    ]) {
      const [l1, p1] = gpu.softmaxCrossEntropy(up(x), up(t), 'float32');
      const [l2, p2] = js.softmaxCrossEntropy(x, t, 'float32');
      pairs.push([l1, hv(l2), (gv, w) => Math.abs(gv - w) <= 1e-6 * (1 + Math.abs(w)), 'loss']);
      pairs.push([p1, hv(p2), (gv, w) => Math.abs(gv - w) <= 1e-6, 'softmax']);
      const probs = (s: Storage): View => ({ storage: s, shape: [6, 9], strides: [9, 1], offset: 0 });
      for (const gr of [rnd([6]), bcast(rnd([1]), [6])]) {
        const d1 = gpu.softmaxCrossEntropyGrad(probs(p1), up(t), up(gr), 0.25, 'float32');
        const d2 = js.softmaxCrossEntropyGrad(probs(p2), t, gr, 0.25, 'float32');
        pairs.push([d1, hv(d2), (gv, w) => Math.abs(gv - w) <= 1e-6, 'gradient']);
      }
    }
    await check(pairs);
  });

  it('storages: readSync refuses (saying to await read), small host-made tensors answer, strided writes', async () => {
    const s = gpu.unary('neg', up(rnd([4])), 'float32');
    expect(() => s.readSync({ shape: [4], strides: [1], offset: 0 })).toThrow(/await tensor\.read\(\)/);
    expect(s.readSyncRefused).toBe(true);
    const c = gpu.fromHost(Float64Array.of(128));
    expect(c.readElement(0)).toBe(128);
    const w = gpu.fromHost(new Float32Array(12));
    w.write({ shape: [3, 2], strides: [1, 3], offset: 6 }, [1, 2, 3, 4, 5, 6]);
    expect(Array.from(await read(w))).toEqual([0, 0, 0, 0, 0, 0, 1, 3, 5, 2, 4, 6]);
    expect(w.readElement(6)).toBe(1);
    const b = gpu.fromHost(Uint8Array.of(1, 0, 1));
    expect(Array.from(await read(b))).toEqual([1, 0, 1]);
    expect(await read(b)).toBeInstanceOf(Uint8Array);
  });
});
