/**
 * The same core in a browser: the package entry bundled by Vite, loaded into headless Chromium
 * (Debian's, driven by playwright-core), runs ops, autograd, gradcheck and a short training on the
 * wasm backend (single-threaded there). Skipped where /usr/bin/chromium is absent; .ci/run installs it.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';

describe.runIf(existsSync(CHROMIUM))('keel in headless Chromium', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), 'keel-browser-'));
    await build({
      logLevel: 'warn',
      configFile: false,
      build: {
        lib: {
          entry: new URL('../src/index.ts', import.meta.url).pathname,
          formats: ['es'],
          fileName: () => 'keel.js',
        },
        outDir: out,
        emptyOutDir: true,
        minify: false,
      },
    });
    const page = '<!doctype html><meta charset="utf-8"><title>keel</title><body>keel</body>';
    server = createServer((req, res) => {
      if (req.url === '/keel.js') {
        res.setHeader('content-type', 'text/javascript');
        res.end(readFileSync(join(out, 'keel.js')));
      } else {
        res.setHeader('content-type', 'text/html');
        res.end(page);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  }, 120_000);
  afterAll(() => server?.close());

  it('runs ops, autograd, gradcheck and a short training on the wasm backend', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
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
        const g = new k.Generator(1);
        const model = new k.nn.Sequential(new k.nn.Linear(2, 32, { generator: g }), new k.nn.ReLU(), new k.nn.Linear(32, 2, { generator: g }));
        const h = k.train.fit({
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
});
