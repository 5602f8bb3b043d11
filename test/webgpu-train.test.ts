/**
 * Compiled training steps on the webgpu backend (SwiftShader without a GPU): the plan runner takes
 * the step — fused kernels, one compute pass and one command buffer per step, nothing read back
 * unless asked — and seeded training gives the CPU backend's losses within 1e-4 relative (float32
 * GPU arithmetic vs the CPU's float64 sums). Sizes are small: SwiftShader computes about 0.2
 * GFLOP/s and pays ~2.4 ms per wait.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/backend/webgpu/index.js';
import { planStats } from '../src/backend/webgpu/planRunner.js';
import * as k from '../src/index.js';
import { backendByName, compile, data, nn, optim, Rng, type Tensor, train } from '../src/index.js';
import { KEEL, keel } from './keel-process.js';
import { needsWebGpu } from './requires.js';

const ok = await needsWebGpu('webgpu-train.test');

/** A dropout MLP like the bench's, smaller. */
function mlp(): nn.Sequential {
  const g = new Rng(0);
  return new nn.Sequential(
    new nn.Linear(32, 64, { generator: g }),
    new nn.ReLU(),
    new nn.Dropout(0.2, new Rng(1)),
    new nn.Linear(64, 48, { generator: g }),
    new nn.ReLU(),
    new nn.Dropout(0.5, new Rng(2)),
    new nn.Linear(48, 5, { generator: g }),
  );
}

const relClose = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(Math.abs(b), 1e-12);

/** Runs `fn` with `name` as the active backend. */
async function on<T>(name: string, fn: () => Promise<T>): Promise<T> {
  k.setBackend(name);
  try {
    return await fn();
  } finally {
    k.setBackend('wasm');
  }
}

describe.runIf(ok)('compiled steps on webgpu', () => {
  const gpu = backendByName('webgpu') as WebGpuBackend;

  it('a compiled step is recorded by the plan runner: fused kernels, one pass and one command buffer per step, and the CPU losses', async () => {
    const run = (name: string, compiled: boolean) =>
      on(name, async () => {
        const model = mlp();
        const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
        const g = new Rng(7);
        const x = k.rand([64, 32], { generator: g });
        const y = k.randint(0, 5, [64], { generator: g });
        const body = (xb: Tensor, yb: Tensor) => {
          opt.zeroGrad();
          const l = nn.F.crossEntropy(model.forward(xb), yb);
          l.backward();
          opt.step();
          return l;
        };
        const step = compiled ? compile(body) : body;
        const losses: number[] = [];
        const stats = { submits: 0, passes: 0, dispatches: 0, runs: 0 };
        for (let i = 0; i < 6; i++) {
          const s0 = { ...gpu.ctx.stats };
          const r0 = planStats.runs;
          const l = step(x, y);
          // The end of the task submits what the step recorded.
          await Promise.resolve();
          if (i >= 2) {
            stats.submits += gpu.ctx.stats.submits - s0.submits;
            stats.passes += gpu.ctx.stats.passes - s0.passes;
            stats.dispatches += gpu.ctx.stats.dispatches - s0.dispatches;
            stats.runs += planStats.runs - r0;
          }
          losses.push((await l.read())[0]);
        }
        const weights = await Promise.all(model.parameters().map((p) => p.read()));
        return {
          losses,
          weights,
          stats,
          ops: compiled ? (step as ReturnType<typeof compile>).lastPlanOps : [],
        };
      });
    const cpu = await run('wasm', true);
    const plan = await run('webgpu', true);
    const eager = await run('webgpu', false);
    expect(gpu.lastRefusal).toBeNull();
    expect(plan.ops.filter((o) => o === 'linearAct').length).toBe(2);
    expect(plan.ops.filter((o) => o === 'reluBackward').length).toBe(2);
    expect(plan.ops).toContain('crossEntropyStep');
    // Steps 3–6 of the plan: one run, one compute pass, one command buffer each (the loss read
    // between steps submits only its own copy).
    expect(plan.stats.runs).toBe(4);
    expect(plan.stats.submits).toBe(4);
    expect(plan.stats.passes).toBe(4);
    console.log(
      `webgpu compiled step: ${plan.stats.dispatches / 4} dispatches, ${plan.stats.passes / 4} pass, ${plan.stats.submits / 4} submit per step (eager: ${eager.stats.dispatches / 4} dispatches, ${eager.stats.submits / 4} submits)`,
    );
    for (let i = 0; i < 6; i++) {
      expect(
        relClose(plan.losses[i], cpu.losses[i], 1e-4),
        `step ${i}: ${plan.losses[i]} vs CPU ${cpu.losses[i]}`,
      ).toBe(true);
      expect(
        relClose(eager.losses[i], plan.losses[i], 1e-5),
        `step ${i}: eager ${eager.losses[i]} vs plan ${plan.losses[i]}`,
      ).toBe(true);
    }
    plan.weights.forEach((w, i) => {
      const c = cpu.weights[i];
      for (let j = 0; j < w.length; j++)
        expect(Math.abs(w[j] - c[j]), `parameter ${i} element ${j}`).toBeLessThanOrEqual(
          1e-4 * (Math.abs(c[j]) + 1e-2),
        );
    });
  });

  it('fit: 20 seeded steps (Adam, weight decay, dropout, clipping, validation) give the CPU losses within 1e-4 relative', async () => {
    const run = (name: string, readEvery: number) =>
      on(name, async () => {
        const g = new Rng(3);
        const X = k.randn([320, 32], { generator: g });
        const Y = k.randint(0, 5, [320], { generator: g });
        const model = mlp();
        const losses: number[] = [];
        const s0 = name === 'webgpu' ? gpu.ctx.stats.submits : 0;
        const history = await train.fit({
          model,
          optimizer: new optim.AdamW(model.parameters(), { lr: 0.01, weightDecay: 0.05 }),
          train: new data.DataLoader(new data.TensorDataset(X, Y), {
            batchSize: 32,
            shuffle: true,
            generator: new Rng(9),
          }),
          validation: new data.DataLoader(new data.TensorDataset(X, Y), { batchSize: 100 }),
          epochs: 2,
          clipGradNorm: 5,
          readEvery,
          callbacks: [{ onBatchEnd: (info) => void (info.read && losses.push(info.loss)) }],
        });
        const submits = name === 'webgpu' ? gpu.ctx.stats.submits - s0 : 0;
        return { losses, history, submits };
      });
    const cpu = await run('wasm', 1);
    const gpuRun = await run('webgpu', 1);
    expect(gpuRun.history.eagerReasons).toBeUndefined();
    expect(gpuRun.losses.length).toBe(20);
    for (let i = 0; i < 20; i++)
      expect(
        relClose(gpuRun.losses[i], cpu.losses[i], 1e-4),
        `step ${i + 1}: ${gpuRun.losses[i]} vs CPU ${cpu.losses[i]}`,
      ).toBe(true);
    for (const [e, r] of gpuRun.history.epochs.entries()) {
      const c = cpu.history.epochs[e];
      expect(relClose(r.trainLoss, c.trainLoss, 1e-4)).toBe(true);
      expect(relClose(r.valLoss as number, c.valLoss as number, 1e-4)).toBe(true);
      expect(r.valAccuracy).toBe(c.valAccuracy);
    }
    // Reading the loss every 10 steps: about one command buffer per step.
    const sparse = await run('webgpu', 10);
    console.log(
      `webgpu fit: ${gpuRun.submits / 20} submits per step reading every step, ${sparse.submits / 20} reading every 10`,
    );
    expect(sparse.submits).toBeLessThanOrEqual(gpuRun.submits);
  });

  it('eager ops work for a REPL session; synchronous reads say to await read()', async () => {
    await on('webgpu', async () => {
      const a = k.tensor([
        [1, 2],
        [3, 4],
      ]);
      const b = k.softmax(k.matmul(a, k.transpose(a)), 1);
      const got = await b.read();
      const want = [
        1 / (1 + Math.exp(6)),
        1 / (1 + Math.exp(-6)),
        1 / (1 + Math.exp(14)),
        1 / (1 + Math.exp(-14)),
      ];
      for (let i = 0; i < 4; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-6);
      expect(() => k.sum(b).item()).toThrow(/await tensor\.read\(\)/);
      const x = k.tensor([0.5, -1], { requiresGrad: true });
      k.sum(k.mul(x, x)).backward();
      expect(Array.from(await (x.grad as Tensor).read())).toEqual([1, -2]);
    });
  });
});

describe.runIf(ok && existsSync(KEEL))('keel --backend webgpu (the built command)', () => {
  it('keel info shows the adapter; keel --backend webgpu train runs, reads, checkpoints and reports', async () => {
    const info = await keel(['info', '--json']);
    expect(info.code).toBe(0);
    const facts = JSON.parse(info.stdout) as {
      backends: { name: string; loaded: boolean }[];
      webgpu?: { vendor: string };
    };
    expect(facts.backends.find((b) => b.name === 'webgpu')?.loaded).toBe(true);
    expect(facts.webgpu?.vendor).toBeTruthy();
    const out = mkdtempSync(join(tmpdir(), 'keel-webgpu-'));
    const cfg = join(out, 'run.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        name: 'g',
        // 210 samples of batch 50: a smaller last batch, whose plan's gradients the epoch's
        // gradient norms are read from (asynchronously: a synchronous read failed the run here).
        data: { dataset: 'moons', samples: 210, batchSize: 50 },
        model: { hidden: [16] },
      }),
    );
    const r = await keel(['--out', out, '--backend', 'webgpu', 'train', '-c', cfg, '--epochs', '2'], {
      timeout: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/diagnostics: off on the webgpu backend/);
    expect(r.stdout).toMatch(/^epoch 2 /m);
    for (const f of ['model.safetensors', 'checkpoint.safetensors', 'report.html'])
      expect(existsSync(join(out, 'g', f))).toBe(true);
    const epochs = readFileSync(join(out, 'g', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; gradNorms?: { name: string; norm: number }[] })
      .filter((r) => r.type === 'epoch');
    expect(epochs.length).toBe(2);
    for (const e of epochs) {
      expect(e.gradNorms?.map((g) => g.name)).toEqual(['1.weight', '1.bias', '3.weight', '3.bias']);
      for (const g of e.gradNorms ?? []) expect(g.norm).toBeGreaterThan(0);
    }
  });

  it('keel --backend webgpu sweep: the worker processes start the GPU backend and give the wasm results', async () => {
    const out = mkdtempSync(join(tmpdir(), 'keel-webgpu-sweep-'));
    const spec = join(out, 'sweep.json');
    writeFileSync(
      spec,
      JSON.stringify({
        name: 's',
        base: { epochs: 1, data: { dataset: 'moons', samples: 200, batchSize: 50 }, model: { hidden: [8] } },
        axes: { seed: [0, 1] },
      }),
    );
    const accuracies = async (backend: string) => {
      const r = await keel(
        ['--out', join(out, backend), '--backend', backend, 'sweep', '-c', spec, '--workers', '1'],
        {
          timeout: 120_000,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      return ['t000', 't001'].map(
        (t) =>
          (
            JSON.parse(readFileSync(join(out, backend, 's', t, 'result.json'), 'utf8')) as {
              status: string;
              metrics: { testAccuracy: number };
            }
          ).metrics.testAccuracy,
      );
    };
    // Before, each worker died at start-up: setBackend('webgpu') without enableWebGpu().
    const onGpu = await accuracies('webgpu');
    const onCpu = await accuracies('wasm');
    // float32 GPU sums against the CPU's: a test point at the boundary may flip, no more.
    for (const [i, a] of onGpu.entries()) expect(Math.abs(a - onCpu[i])).toBeLessThanOrEqual(0.02);
  });

  it('keel --backend webgpu experiment refuses in one line before reading any data (experiments read synchronously)', async () => {
    const r = await keel(
      [
        '--out',
        mkdtempSync(join(tmpdir(), 'keel-webgpu-exp-')),
        '--backend',
        'webgpu',
        'experiment',
        'weight-decay',
        '--quick',
      ],
      {
        timeout: 60_000,
      },
    );
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('keel:'));
    expect(lines).toEqual([
      expect.stringMatching(
        /^keel: experiment weight-decay: the experiments read values synchronously .* run them on a CPU backend/,
      ),
    ]);
  });

  it('keel predict and export on webgpu give the CPU results; keel diagnose refuses in one line', async () => {
    const out = mkdtempSync(join(tmpdir(), 'keel-webgpu-run-'));
    const cfg = join(out, 'run.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        name: 'p',
        epochs: 1,
        data: { dataset: 'moons', samples: 200, batchSize: 50 },
        model: { hidden: [8] },
      }),
    );
    expect((await keel(['--out', out, '--backend', 'wasm', 'train', '-c', cfg])).code).toBe(0);
    const run = join(out, 'p');
    const input = join(out, 'x.json');
    writeFileSync(
      input,
      JSON.stringify([
        [0.5, -0.2],
        [-1, 0.8],
        [1.5, 0.1],
      ]),
    );
    const predict = async (backend: string) => {
      const r = await keel(
        ['--backend', backend, 'predict', '--checkpoint', run, '--input', input, '--json'],
        {
          timeout: 60_000,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { predictions: { top: { probability: number }[] }[] };
    };
    // Loading the checkpoint's weights into the GPU model read them synchronously ("its weights do
    // not fit the model"), and the probabilities were read with readSync.
    const gpuP = (await predict('webgpu')).predictions.flatMap((x) => x.top.map((t) => t.probability));
    const cpuP = (await predict('wasm')).predictions.flatMap((x) => x.top.map((t) => t.probability));
    expect(gpuP.length).toBe(6);
    expect(cpuP.length).toBe(6);
    for (const [i, p] of gpuP.entries()) expect(Math.abs(p - cpuP[i])).toBeLessThan(1e-5);
    const exported = async (backend: string) => {
      const file = join(out, `${backend}.onnx`);
      const r = await keel(['--backend', backend, 'export', '--checkpoint', run, '--onnx', file], {
        timeout: 60_000,
      });
      expect(r.code, r.stderr).toBe(0);
      return readFileSync(file);
    };
    expect((await exported('webgpu')).equals(await exported('wasm'))).toBe(true);
    const d = await keel(['--out', out, '--backend', 'webgpu', 'diagnose', '-c', cfg], { timeout: 60_000 });
    expect(d.code).toBe(1);
    expect(d.stderr.split('\n').filter((l) => l.startsWith('keel:'))).toEqual([
      expect.stringMatching(
        /^keel: diagnose: diagnostics read gradients and activations synchronously .* CPU backend/,
      ),
    ]);
  });

  it('without an adapter, --backend webgpu says why in one line and exits 1', async () => {
    const r = await keel(['--backend', 'webgpu', 'info'], {
      env: { VK_ICD_FILENAMES: '/nonexistent.json', KEEL_DAWN: 'backend=vulkan' },
    });
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('keel:'));
    expect(lines).toEqual([expect.stringMatching(/^keel: webgpu: no WebGPU adapter here/)]);
  });
});

describe.runIf(ok)("the lab's session on webgpu", () => {
  it('steps and draws asynchronously: the same losses as on wasm within 1e-4, diagnostics off', async () => {
    const { Session } = await import('../lab/src/session.js');
    const { DEFAULTS } = await import('../lab/src/state.js');
    const cpu = new Session(DEFAULTS);
    for (let i = 0; i < 40; i++) cpu.stepOnce();
    const s = await on('webgpu', async () => {
      const g = new Session(DEFAULTS);
      expect(g.asyncMemory).toBe(true);
      expect(g.info.backend).toMatch(/^WebGPU on /);
      for (let i = 0; i < 40; i++) await g.stepOnceAsync();
      const snap = await g.snapshotAsync(8);
      return { g, snap };
    });
    expect(cpu.info.backend).toMatch(/on the CPU(, [2-9] threads)?$/);
    expect(relClose(s.g.lastLoss, cpu.lastLoss, 1e-4), `${s.g.lastLoss} vs ${cpu.lastLoss}`).toBe(true);
    expect(s.g.history.length).toBe(cpu.history.length);
    for (const [i, p] of s.g.history.entries())
      expect(relClose(p.testLoss, cpu.history[i].testLoss, 1e-4), `epoch ${p.epoch}`).toBe(true);
    expect(s.snap.surface?.probs.length).toBe(8 * 8 * 2);
    expect(relClose(s.snap.weights.norm, cpu.snapshot(8).weights.norm, 1e-4)).toBe(true);
    expect(s.snap.gradNorms).toEqual([]);
  });
});
