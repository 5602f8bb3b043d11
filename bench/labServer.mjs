// Shared by bench/lab.mjs and bench/lab-profile.mjs: `keel lab` of a build (KEEL_ROOT=<checkout>,
// default this one) on a free port, Debian's Chromium, headless, to open it, and the page with the
// Fashion-MNIST preset chosen.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** Starts `keel lab --port 0` of the build at KEEL_ROOT; resolves with its URL and the process. */
export async function startLab() {
  const root = process.env.KEEL_ROOT ?? new URL('..', import.meta.url).pathname;
  const lab = spawn(process.execPath, [join(root, 'dist/cli/keel.js'), 'lab', '--port', '0']);
  const url = await new Promise((resolve) => {
    let out = '';
    lab.stdout.on('data', (d) => {
      out += d;
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
  });
  return { url, lab };
}

/** Headless Chromium (Debian's) with `extra` flags. */
export function launchChromium(extra = []) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', ...extra],
  });
}

/**
 * A new page of `browser` at `url` with the Fashion-MNIST preset chosen and ready to train, or null
 * (after saying so) where keel lab found no Fashion-MNIST.
 */
export async function openFashionPreset(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await page.waitForSelector('#play:not([disabled])');
  await page.click('[data-preset=fashion]');
  // Ready to train, or the page saying the data is missing (Train then stays disabled).
  const missing = 'Fashion-MNIST is not available';
  await page.waitForFunction(
    (text) => !document.querySelector('#play')?.disabled || document.body.textContent?.includes(text),
    missing,
  );
  if (!(await page.textContent('body'))?.includes(missing)) return page;
  console.log(
    'Fashion-MNIST preset: skipped (keel lab found no Fashion-MNIST; apt-get install dataset-fashion-mnist)',
  );
  return null;
}
