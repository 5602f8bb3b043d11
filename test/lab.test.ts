/**
 * keel lab in a real browser: the built lab (dist/lab, made by npm run build) served by the built
 * `keel lab --port 0`, driven by playwright-core in Debian's Chromium. The page loads without console
 * errors; Train makes the loss on moons fall; a preset sets the controls and the URL; reloading that
 * URL gives the same loss after the same steps; the wasm GEMM runs on Worker helper threads; the page answers while the worker trains; the
 * vanishing-gradient preset raises its alarm; a pinned run is overlaid; the Fashion-MNIST view shows
 * images when the data is there and says how to get it when not. Screenshots of every preset go to
 * test-results/lab/ for review (not committed). Skipped where /usr/bin/chromium is absent.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../lab/src/state.js';
import { findFashionMnist } from '../src/io/node/fashionMnist.js';
import { launchChromium } from './chromium.js';
import { root, startLab } from './keel-process.js';
import { needs } from './requires.js';

const shots = join(root, 'test-results', 'lab');

/**
 * Pauses the run if it still trains — checked and clicked in one turn of the page, since a run that
 * ends between a check from the test and its click disables the button under the click.
 */
async function pauseIfRunning(page: Page): Promise<void> {
  await page.evaluate(() => {
    const play = document.querySelector<HTMLButtonElement>('#play');
    if (play && !play.disabled) play.click();
  });
}

describe.runIf(needs('Chromium', 'lab.test'))('keel lab in headless Chromium', () => {
  let browser: Browser;
  let lab: { url: string; child: ChildProcess };
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    lab = await startLab();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    lab?.child.kill('SIGTERM');
  });

  /** A page at 1280×800 that records console errors. */
  async function open(path = ''): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(lab.url + path);
    await page.waitForSelector('#play:not([disabled])');
    return { page, errors };
  }
  const loss = async (page: Page) => Number(await page.textContent('#loss'));

  it('loads without console errors; Train makes the loss on moons fall', async () => {
    const { page, errors } = await open();
    expect(await page.title()).toContain('keel lab');
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#loss')?.textContent) < 0.25, null, {
      timeout: 20_000,
    });
    await page.waitForSelector('#curves canvas');
    // The lab page is cross-origin isolated, so the wasm GEMM runs on Worker helpers too: the page
    // says on how many threads, and a helper (a Worker from a Blob URL) was started.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    if (availableParallelism() > 1) {
      expect(await page.textContent('.backend')).toMatch(/WebAssembly on the CPU, [2-4] threads/);
      expect(page.workers().some((w) => w.url().startsWith('blob:'))).toBe(true);
    } else expect(await page.textContent('.backend')).toContain('WebAssembly on the CPU');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a preset sets the controls and the URL; reloading the URL gives the same loss after the same steps', async () => {
    const { page, errors } = await open();
    await page.click('[data-preset=dropout]');
    await page.waitForSelector('#play:not([disabled])');
    expect(page.url()).toContain('model.dropout=0.5');
    expect(await page.inputValue('#c-model-dropout')).toBe('0.5');
    expect(await page.inputValue('#c-model-hidden')).toBe('64, 64');
    expect(await page.textContent('#preset-text')).toContain('Dropout.');
    const stepTo = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await page.click('#step');
        await page.waitForFunction(
          (k) => Number(document.querySelector('#step-count')?.textContent) === k,
          i + 1,
        );
      }
      return loss(page);
    };
    const first = await stepTo(12);
    expect(Number.isFinite(first)).toBe(true);
    await page.reload();
    await page.waitForSelector('#play:not([disabled])');
    expect(await page.inputValue('#c-model-dropout')).toBe('0.5');
    expect(await stepTo(12)).toBe(first);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('the page answers while the worker trains; vanishing gradients raise the alarm; a pinned run is overlaid', async () => {
    const { page } = await open(`?${new URLSearchParams({ 'data.samples': '1000', epochs: '500' })}`);
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step-count')?.textContent) > 50);
    // Timers on the page's thread fire on time while training runs in the worker (the median delay:
    // a busy CI machine may hold up the odd one).
    const lag = await page.evaluate(async () => {
      const lags: number[] = [];
      for (let i = 0; i < 40; i++) {
        const t = performance.now();
        await new Promise((r) => setTimeout(r, 10));
        lags.push(performance.now() - t - 10);
      }
      return lags.sort((a, b) => a - b)[20];
    });
    expect(lag).toBeLessThan(50);
    // And a control answers: the seed field takes a new value at once.
    await page.fill('#c-seed', '3');
    await page.press('#c-seed', 'Enter');
    await page.waitForFunction(() => location.search.includes('seed=3'), null, { timeout: 2000 });
    // Vanishing gradients: the alarm appears with its fix.
    await page.click('[data-preset=vanishing]');
    await page.waitForSelector('#play:not([disabled])');
    await page.click('#play');
    await page.waitForSelector('#alarms li[data-kind=vanishing]', { timeout: 20_000 });
    expect(await page.textContent('#alarms li[data-kind=vanishing]')).toContain('Try:');
    // Pin the overfitting run, train the dropout one beside it.
    await page.click('[data-preset=overfitting]');
    await page.waitForSelector('#play:not([disabled])');
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step-count')?.textContent) > 60);
    await pauseIfRunning(page); // 900 steps: it may have finished already
    await page.click('#pin');
    await page.click('[data-preset=dropout]');
    await page.waitForSelector('#play:not([disabled])');
    expect(await page.textContent('#curves')).toContain('pinned: Overfitting');
    await page.close();
  }, 90_000);

  it('Fashion-MNIST: images and a confusion matrix when the data is there', async () => {
    if (!findFashionMnist()) {
      console.warn('lab.test: Fashion-MNIST is not installed here; its view with data is not tested');
      return;
    }
    const { page, errors } = await open();
    await page.click('[data-preset=fashion]');
    await page.waitForSelector('#play:not([disabled])', { timeout: 30_000 });
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step-count')?.textContent) > 20);
    await page.waitForSelector('#fashion .mistake canvas');
    expect(await page.textContent('#fashion .confusion')).toContain('Ankle boot');
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('Fashion-MNIST: says how to get the data when it is absent', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'keel-lab-nodata-'));
    const other = await startLab({ KEEL_DATA: empty });
    try {
      const page = await browser.newPage();
      await page.goto(`${other.url}?data.dataset=fashion-mnist`);
      await page.waitForSelector('.notice');
      await page.waitForFunction(() =>
        document.querySelector('.notice')?.textContent?.includes('Fashion-MNIST is not available'),
      );
      const text = await page.textContent('.notice');
      expect(text).toContain('dataset-fashion-mnist');
      await page.close();
    } finally {
      other.child.kill('SIGTERM');
    }
  }, 60_000);

  it('screenshots of every preset (test-results/lab/)', async () => {
    const { page } = await open();
    for (const p of PRESETS) {
      if (p.config.data.dataset === 'fashion-mnist' && !findFashionMnist()) continue;
      await page.click(`[data-preset=${p.id}]`);
      await page.waitForSelector('#play:not([disabled])', { timeout: 30_000 });
      await page.click('#play');
      await page.waitForFunction(
        () =>
          Number(document.querySelector('#step-count')?.textContent) >= 150 ||
          /done|diverged/.test(document.querySelector('#status')?.textContent ?? ''),
        null,
        { timeout: 30_000 },
      );
      await pauseIfRunning(page);
      await page.screenshot({ path: join(shots, `${p.id}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(shots, 'phone.png'), fullPage: true });
    await page.close();
  }, 180_000);
});
