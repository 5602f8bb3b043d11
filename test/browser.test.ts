/**
 * The same core in a browser: the package entry bundled by Vite, loaded into headless Chromium
 * (Debian's, driven by playwright-core), runs ops, autograd, gradcheck and a short training on the
 * wasm backend, and splits large products across Workers on a cross-origin-isolated page (keel/web).
 * Skipped where /usr/bin/chromium is absent; .ci/run installs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveKeel } from './chromium.js';
import { needs } from './requires.js';

describe.runIf(needs('Chromium', 'browser.test'))('keel in headless Chromium', () => {
  let server: { url: string; close: () => void } | undefined;
  let url = '';
  beforeAll(async () => {
    server = await serveKeel();
    url = server.url;
  }, 120_000);
  afterAll(() => server?.close());

  const launch = launchChromium;

  it('runs ops, autograd, gradcheck and a short training on the wasm backend', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      await page.goto(url);
      // A string, so the test runner's module transform leaves the browser's import() alone.
      const script = `(async () => {
        const k = await import('${url}keel.js');
        const x = k.tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
        k.sum(k.mul(x, x)).backward();
        const check = k.gradcheck((t) => k.sum(k.exp(t)), [k.tensor([0.5, -1], { dtype: 'float64', requiresGrad: true })]);
        const d = k.data.moons(400, 0.1, 1);
        const g = new k.Rng(1);
        const model = new k.nn.Sequential(new k.nn.Linear(2, 32, { generator: g }), new k.nn.ReLU(), new k.nn.Linear(32, 2, { generator: g }));
        const h = await k.train.fit({
          model,
          optimizer: new k.optim.Adam(model.parameters(), { lr: 0.02 }),
          train: new k.data.DataLoader(new k.data.TensorDataset(d.X, d.y), { batchSize: 32, shuffle: true, generator: g }),
          epochs: 15,
        });
        const big = k.matmul(k.randn([64, 96]), k.randn([96, 80]));
        return {
          backend: k.getBackend(),
          grad: x.grad.toArray(),
          gradcheck: check.passed,
          first: h.epochs[0].trainLoss,
          last: h.epochs[h.epochs.length - 1].trainLoss,
          accuracy: h.epochs[h.epochs.length - 1].trainAccuracy,
          bigShape: big.shape,
        };
      })()`;
      const result = (await page.evaluate(script)) as {
        backend: string;
        grad: number[][];
        gradcheck: boolean;
        first: number;
        last: number;
        accuracy: number;
        bigShape: number[];
      };
      expect(result.backend).toBe('wasm');
      expect(result.grad).toEqual([
        [2, 4, 6],
        [8, 10, 12],
      ]);
      expect(result.gradcheck).toBe(true);
      expect(result.last).toBeLessThan(result.first / 3);
      expect(result.accuracy).toBeGreaterThan(0.9);
      expect(result.bigShape).toEqual([64, 80]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('splits large products across Workers on a cross-origin-isolated page (keel/web), same results', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      await page.goto(`${url}isolated/`);
      const script = `(async () => {
        const web = await import('${url}isolated/keel-web.js');
        const k = await import('${url}isolated/keel.js');
        const isolated = self.crossOriginIsolated;
        const threads = web.enableWasmThreads(2);
        const wasm = k.backendByName('wasm');
        // 601×517×263 ≥ 2²⁶ multiply-adds: split even where the 2 threads take every core.
        const a = k.randn([601, 517], { generator: new k.Rng(1) });
        const b = k.transpose(k.randn([263, 517], { generator: new k.Rng(2) }));
        k.matmul(a, b); // starts the helper; products run on one thread until it is up
        for (let i = 0; i < 200 && wasm.gemm.readyHelpers < 1; i++) await new Promise((r) => setTimeout(r, 25));
        const before = wasm.gemm.helperBlocks;
        const got = k.matmul(a, b).readSync();
        for (let i = 0; i < 20 && wasm.gemm.helperBlocks === before; i++) k.matmul(a, b);
        const helperBlocks = wasm.gemm.helperBlocks - before;
        k.setBackend('js');
        const want = k.matmul(a, b).readSync();
        const bound = k.matmul(k.abs(a), k.abs(b)).readSync();
        k.setBackend('wasm');
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1e-5 * bound[i]));
        return { isolated, threads, gemmThreads: wasm.gemm.threads, ready: wasm.gemm.readyHelpers, helperBlocks, worst, unavailable: web.wasmThreadsUnavailable() };
      })()`;
      const r = (await page.evaluate(script)) as {
        isolated: boolean;
        threads: number;
        gemmThreads: number;
        ready: number;
        helperBlocks: number;
        worst: number;
        unavailable: string | null;
      };
      expect(r.isolated).toBe(true);
      expect(r.unavailable).toBeNull();
      expect(r.threads).toBe(2);
      expect(r.gemmThreads).toBe(2);
      expect(r.ready).toBe(1);
      expect(r.helperBlocks).toBeGreaterThan(0);
      expect(r.worst).toBeLessThanOrEqual(1);
      // Without isolation there is no SharedArrayBuffer: one thread, and the reason says why.
      await page.goto(url);
      const plain = (await page.evaluate(
        `import('${url}keel-web.js').then((web) => [web.enableWasmThreads(2), web.wasmThreadsUnavailable()])`,
      )) as [number, string];
      expect(plain[0]).toBe(1);
      expect(plain[1]).toMatch(/cross-origin-isolated/);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
