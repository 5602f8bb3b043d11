/**
 * keel lab on WebGPU: the built lab served by the built `keel lab`, in headless Chromium with
 * `--enable-unsafe-webgpu` (a SwiftShader adapter). The page says it trains on WebGPU, Train makes
 * the loss on moons fall without console errors, and stepping gives finite losses — the worker's
 * awaited steps. (test/lab.test.ts runs the same page on wasm, where Chromium has no WebGPU.)
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.js';
import { root, startLab } from './keel-process.js';
import { needs } from './requires.js';

const built = existsSync(join(root, 'dist/lab/index.html'));

describe.runIf(needs('Chromium', 'webgpu-lab.test') && built)(
  'keel lab on WebGPU (headless Chromium)',
  () => {
    let lab: { url: string; child: ChildProcess };
    beforeAll(async () => {
      lab = await startLab();
    }, 60_000);
    afterAll(() => lab?.child.kill('SIGTERM'));

    it('says it trains on WebGPU; Train makes the loss on moons fall; steps give finite losses', async () => {
      const browser = await launchChromium(['--enable-unsafe-webgpu']);
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(lab.url);
        await page.waitForSelector('#play:not([disabled])');
        await page.waitForSelector('.backend');
        const line = (await page.textContent('.backend')) ?? '';
        if (!/WebGPU/.test(line)) {
          if (process.env.KEEL_CI === '1')
            throw new Error(`CI must give the lab WebGPU in headless Chromium: ${line}`);
          console.warn(`webgpu-lab.test: skipping, the lab found no WebGPU adapter (${line})`);
          return;
        }
        expect(line).toMatch(/^Training on WebGPU on /);
        for (let i = 0; i < 3; i++) {
          await page.click('#step');
          await page.waitForFunction(
            (k) => Number(document.querySelector('#step-count')?.textContent) === k,
            i + 1,
          );
        }
        expect(Number.isFinite(Number(await page.textContent('#loss')))).toBe(true);
        await page.click('#play');
        await page.waitForFunction(() => Number(document.querySelector('#loss')?.textContent) < 0.25, null, {
          timeout: 90_000,
        });
        const status = (await page.textContent('#status')) ?? '';
        console.log(`keel lab on WebGPU (SwiftShader): ${status.replace(/\s+/g, ' ').trim()}`);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 150_000);
  },
);
