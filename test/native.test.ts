/**
 * The native backend: how it hands products to BLAS (layouts read in place, broadcast operands
 * copied, the bias as beta = 1, threads by size, tiny products left to the base backend) checked
 * with a recording BLAS that computes in plain JS; training on every backend that loads here; and
 * `keel info` saying what loaded, what did not and how to fix it. The conformance suite checks its
 * kernels against js with the real library (.ci/run installs Debian's libopenblas0-pthread).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostArray } from '../src/backend/host.js';
import { jsBackend } from '../src/backend/js/index.js';
import { type Blas, createNativeBackend } from '../src/backend/native/index.js';
import type { TypedArray } from '../src/backend/types.js';
import * as k from '../src/index.js';
import { data, nn, optim, Rng, train } from '../src/index.js';
import { environmentInfo } from '../src/io/node/info.js';
import { needs } from './requires.js';

// Training on the real library runs where it loads (and must load in CI).
needs('OpenBLAS', 'native.test');

interface Call {
  ta: boolean;
  tb: boolean;
  m: number;
  n: number;
  k: number;
  lda: number;
  ldb: number;
  beta: number;
}

/** A BLAS that records its calls and computes them in plain JS (row-major, as cblas). */
function recordingBlas(maxThreads = 2): Blas & { calls: Call[]; threadsSet: number[] } {
  const calls: Call[] = [];
  const threadsSet: number[] = [];
  return {
    name: 'recording',
    calls,
    threadsSet,
    threads: () => maxThreads,
    setThreads: (t) => void threadsSet.push(t),
    gemm(_dt, ta, tb, m, n, kk, alpha, a: TypedArray, lda, b: TypedArray, ldb, beta, c: TypedArray, ldc) {
      calls.push({ ta, tb, m, n, k: kk, lda, ldb, beta });
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < kk; p++)
            s += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
          // As cblas: with beta = 0, C is written, never read.
          c[i * ldc + j] = beta === 0 ? alpha * s : alpha * s + beta * c[i * ldc + j];
        }
    },
  };
}

const g = new Rng(3);
const rnd = (shape: number[]) => k.randn(shape, { generator: g });

describe('native backend (with a recording BLAS)', () => {
  it('reads every layout in place, transposing where columns are contiguous, and matches js', () => {
    const blas = recordingBlas();
    const be = createNativeBackend(blas, jsBackend);
    const [m, kk, n] = [40, 50, 30];
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ]) {
      const a = ta ? k.transpose(rnd([kk, m])) : rnd([m, kk]);
      const b = tb ? k.transpose(rnd([n, kk])) : rnd([kk, n]);
      const got = hostArray(be.matmul(a, b, [m, n], 'float32'));
      const want = hostArray(jsBackend.matmul(a, b, [m, n], 'float32'));
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
      const call = blas.calls.at(-1) as Call;
      expect(call).toMatchObject({ ta, tb, m, n, k: kk, lda: ta ? m : kk, ldb: tb ? kk : n, beta: 0 });
    }
  });

  it('copies an operand BLAS cannot read (a broadcast), adds the bias as beta = 1, batches by matrix', () => {
    const blas = recordingBlas();
    const be = createNativeBackend(blas, jsBackend);
    const one = k.expand(rnd([1, 1]), [40, 50]);
    const b = rnd([50, 30]);
    const bias = rnd([30]);
    const got = hostArray(be.matmul(one, b, [40, 30], 'float32', bias));
    const want = hostArray(jsBackend.matmul(one, b, [40, 30], 'float32', bias));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
    expect(blas.calls.at(-1)).toMatchObject({ ta: false, lda: 50, beta: 1 });
    blas.calls.length = 0;
    be.matmul(rnd([3, 40, 50]), rnd([3, 50, 30]), [3, 40, 30], 'float32');
    expect(blas.calls.length).toBe(3);
  });

  it('one thread for small products, all for large ones; tiny products stay in the base backend', () => {
    const blas = recordingBlas(2);
    const be = createNativeBackend(blas, jsBackend);
    be.matmul(rnd([16, 16]), rnd([16, 16]), [16, 16], 'float32'); // 4096 multiply-adds
    expect(blas.calls.length).toBe(0);
    be.matmul(rnd([64, 64]), rnd([64, 64]), [64, 64], 'float32');
    be.matmul(rnd([256, 256]), rnd([256, 256]), [256, 256], 'float32');
    be.matmul(rnd([256, 256]), rnd([256, 256]), [256, 256], 'float32');
    expect(blas.calls.length).toBe(3);
    expect(blas.threadsSet).toEqual([1, 2]); // set only when it changes
    // float64 goes to BLAS too (dgemm); int32 to the base backend.
    be.matmul(
      k.randn([64, 64], { dtype: 'float64' }),
      k.randn([64, 64], { dtype: 'float64' }),
      [64, 64],
      'float64',
    );
    expect(blas.calls.length).toBe(4);
    be.matmul(k.ones([64, 64], { dtype: 'int32' }), k.ones([64, 64], { dtype: 'int32' }), [64, 64], 'int32');
    expect(blas.calls.length).toBe(4);
  });
});

describe('training on every backend that loads here', () => {
  it('a small MLP learns the moons alike on js, wasm and native', async () => {
    const names = k.availableBackends();
    const results: Record<string, { loss: number; acc: number }> = {};
    const before = k.getBackend();
    try {
      for (const name of names) {
        k.setBackend(name);
        const gen = new Rng(11);
        const d = data.moons(512, 0.1, 4);
        const model = new nn.Sequential(
          new nn.Linear(2, 64, { generator: gen }),
          new nn.ReLU(),
          new nn.Linear(64, 64, { generator: gen }),
          new nn.ReLU(),
          new nn.Linear(64, 2, { generator: gen }),
        );
        const h = await train.fit({
          model,
          optimizer: new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }),
          train: new data.DataLoader(new data.TensorDataset(d.X, d.y), {
            batchSize: 64,
            shuffle: true,
            generator: gen,
          }),
          epochs: 12,
        });
        const last = h.epochs.at(-1) as train.EpochRecord;
        results[name] = { loss: last.trainLoss, acc: last.trainAccuracy as number };
      }
    } finally {
      k.setBackend(before);
    }
    for (const name of names) expect(results[name].acc, name).toBeGreaterThan(0.95);
    // Same seed, same model: the backends differ only in rounding, so the losses agree closely.
    for (const name of names) expect(Math.abs(results[name].loss - results.js.loss), name).toBeLessThan(0.02);
  }, 60_000);
});

describe('keel info', () => {
  const KEEL = join(new URL('..', import.meta.url).pathname, 'dist/cli/keel.js');
  it('lists what loaded; a BLAS that does not load is named with its fix and wasm takes over', () => {
    const info = environmentInfo();
    expect(info.backends.map((b) => b.name)).toEqual(['native', 'wasm', 'js', 'webgpu']);
    // The GPU is started only by keel info (or --backend webgpu, enableWebGpu): here it was not.
    expect(info.backends.find((b) => b.name === 'webgpu')?.detail).toMatch(/^not enabled/);
    expect(info.backends.find((b) => b.name === 'js')?.loaded).toBe(true);
    const native = info.backends.find((b) => b.name === 'native');
    if (native?.loaded) expect(native.detail).toMatch(/threads on large products/);
    if (!existsSync(KEEL)) return;
    const env: NodeJS.ProcessEnv = { ...process.env, KEEL_BLAS: '/nonexistent/libblas.so' };
    delete env.KEEL_BACKEND;
    const r = spawnSync(process.execPath, [KEEL, 'info', '--json'], { encoding: 'utf8', env });
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.active).toBe('wasm');
    const n = j.backends.find((b: { name: string }) => b.name === 'native');
    expect(n.loaded).toBe(false);
    expect(n.detail).toContain('/nonexistent/libblas.so');
    expect(n.detail).toContain('fix: KEEL_BLAS=/nonexistent/libblas.so did not load');
  });
});
