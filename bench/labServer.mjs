// Shared by bench/lab.mjs and bench/lab-profile.mjs: `keel lab` of a build (KEEL_ROOT=<checkout>,
// default this one) on a free port, and Debian's Chromium, headless, to open it.
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
