/**
 * Debian's Chromium for the browser tests, driven by playwright-core: where it is, and how to start
 * it on this closed network (no sandbox as root, no GPU, no background connections).
 */
import { chromium } from 'playwright-core';
import { CHROMIUM } from './requires.js';

/** A headless Chromium. */
export function launchChromium() {
  return chromium.launch({
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
}
