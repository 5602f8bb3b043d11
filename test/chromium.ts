/**
 * Debian's Chromium for the browser tests, driven by playwright-core: where it is, and how to start
 * it on this closed network (no sandbox as root, no GPU, no background connections).
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tests can run here (.ci/run installs Debian's chromium). */
export const hasChromium = existsSync(CHROMIUM);

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
