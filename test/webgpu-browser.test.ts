/**
 * The webgpu backend in headless Chromium (`--enable-unsafe-webgpu`: a SwiftShader adapter) through
 * keel/web's `enableWebGpu`: kernels against the js reference in the page, and 20 seeded training
 * steps (compiled, fit) whose losses are the wasm backend's within 1e-4 relative — the same code
 * path as in Node. Skipped where Chromium is absent; in CI (KEEL_CI=1) a page without an adapter
 * fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveKeel } from './chromium.js';
import { needs } from './requires.js';

describe.runIf(needs('Chromium', 'webgpu-browser.test'))('the webgpu backend in headless Chromium', () => {
  let server: { url: string; close: () => void };
  beforeAll(async () => {
    server = await serveKeel();
  }, 120_000);
  afterAll(() => server?.close());

  it('enableWebGpu gives a backend whose kernels match js and whose training matches wasm', async () => {
    const browser = await launchChromium(['--enable-unsafe-webgpu']);
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      const url = server.url;
      // A string, so the test runner's module transform leaves the browser's import() alone.
      const script = `(async () => {
        const k = await import('${url}keel.js');
        const web = await import('${url}keel-web.js');
        let gpu;
        try { gpu = await web.enableWebGpu(); } catch (e) { return { error: e.message, unavailable: web.webGpuUnavailable() }; }
        const name = web.webGpuAdapterName();
        const js = k.backendByName('js');
        const g = new k.Rng(1);
        const a = k.randn([64, 96], { generator: g });
        const b = k.transpose(k.randn([80, 96], { generator: g }));
        const up = (t) => { const c = t.contiguous(); return { storage: gpu.fromHost(c.readSync()), shape: c.shape, strides: c.strides, offset: 0 }; };
        const read = (s) => s.read({ shape: [s.length], strides: [1], offset: 0 });
        const all = (s) => s.readSync({ shape: [s.length], strides: [1], offset: 0 });
        const worst = (got, want, scale) => { let w = 0; for (let i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i] - want[i]) / scale(i)); return w; };
        const bound = k.matmul(k.abs(a), k.abs(b)).readSync();
        const mm = worst(await read(gpu.matmul(up(a), up(b), [64, 80], 'float32')), all(js.matmul(a.contiguous(), b.contiguous(), [64, 80], 'float32')), (i) => 1e-5 * bound[i]);
        const x = k.randn([256, 70], { generator: g });
        const [, m1] = gpu.dropout(up(x), 0.3, 1 / 0.7, new k.Rng(9));
        const [, m2] = js.dropout(x, 0.3, 1 / 0.7, new k.Rng(9));
        const want2 = all(m2);
        const maskSame = (await read(m1)).every((v, i) => v === want2[i]);
        const ex = worst(await read(gpu.unary('exp', up(x), 'float32')), all(js.unary('exp', x, 'float32')), (i) => 1e-6 * Math.max(1, Math.exp(x.readSync()[i])));
        const train = async (backend) => {
          k.setBackend(backend);
          const gg = new k.Rng(3);
          const X = k.randn([320, 16], { generator: gg });
          const Y = k.randint(0, 4, [320], { generator: gg });
          const gm = new k.Rng(0);
          const model = new k.nn.Sequential(new k.nn.Linear(16, 32, { generator: gm }), new k.nn.ReLU(), new k.nn.Dropout(0.2, new k.Rng(1)), new k.nn.Linear(32, 4, { generator: gm }));
          const losses = [];
          await k.train.fit({
            model,
            optimizer: new k.optim.Adam(model.parameters(), { lr: 0.01 }),
            train: new k.data.DataLoader(new k.data.TensorDataset(X, Y), { batchSize: 32, shuffle: true, generator: new k.Rng(9) }),
            epochs: 2,
            callbacks: [{ onBatchEnd: (info) => { losses.push(info.loss); } }],
          });
          k.setBackend('wasm');
          return losses;
        };
        const cpu = await train('wasm');
        const onGpu = await train('webgpu');
        return { name, mm, ex, maskSame, cpu, onGpu, refusal: gpu.lastRefusal };
      })()`;
      const r = (await page.evaluate(script)) as {
        error?: string;
        unavailable?: string | null;
        name: string;
        mm: number;
        ex: number;
        maskSame: boolean;
        cpu: number[];
        onGpu: number[];
        refusal: string | null;
      };
      if (r.error) {
        if (process.env.KEEL_CI === '1')
          throw new Error(`CI must have WebGPU in headless Chromium: ${r.error}`);
        console.warn(`webgpu-browser.test: skipping, Chromium gives no WebGPU here (${r.error})`);
        return;
      }
      expect(r.name).toMatch(/\w/);
      expect(r.mm).toBeLessThanOrEqual(1);
      expect(r.ex).toBeLessThanOrEqual(1);
      expect(r.maskSame).toBe(true);
      expect(r.refusal).toBeNull();
      expect(r.onGpu.length).toBe(20);
      for (let i = 0; i < 20; i++)
        expect(
          Math.abs(r.onGpu[i] - r.cpu[i]),
          `step ${i + 1}: ${r.onGpu[i]} vs ${r.cpu[i]}`,
        ).toBeLessThanOrEqual(1e-4 * Math.abs(r.cpu[i]));
    } finally {
      await browser.close();
    }
  }, 120_000);
});
