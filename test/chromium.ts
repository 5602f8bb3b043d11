/**
 * Debian's Chromium for the browser tests, driven by playwright-core: where it is, and how to start
 * it on this closed network (no sandbox as root, no GPU, no background connections) — with
 * `--enable-unsafe-webgpu` for the WebGPU tests, which gives headless Chromium a SwiftShader
 * adapter — and the package entries bundled by Vite, served over http from 127.0.0.1.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { CHROMIUM } from './requires.js';

/** A headless Chromium (`extra`: more flags, e.g. --enable-unsafe-webgpu). */
export function launchChromium(extra: string[] = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      ...extra,
    ],
  });
}

/**
 * keel.js and keel-web.js (src/index.ts, src/io/web/index.ts) bundled into a temporary directory
 * and served with a blank page at every other path; under /isolated/ the same, cross-origin isolated
 * (SharedArrayBuffer, so worker threads). `close` stops the server.
 */
export async function serveKeel(): Promise<{ url: string; close: () => void }> {
  const out = mkdtempSync(join(tmpdir(), 'keel-bundle-'));
  await build({
    logLevel: 'warn',
    configFile: false,
    build: {
      lib: {
        entry: {
          keel: new URL('../src/index.ts', import.meta.url).pathname,
          'keel-web': new URL('../src/io/web/index.ts', import.meta.url).pathname,
        },
        formats: ['es'],
        fileName: (_format, name) => `${name}.js`,
      },
      outDir: out,
      emptyOutDir: true,
      minify: false,
    },
  });
  const page = '<!doctype html><meta charset="utf-8"><title>keel</title><body>keel</body>';
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/isolated')) {
      res.setHeader('cross-origin-opener-policy', 'same-origin');
      res.setHeader('cross-origin-embedder-policy', 'require-corp');
    }
    const file = req.url?.match(/^\/(?:isolated\/)?([\w.-]+\.js)$/)?.[1];
    if (file && existsSync(join(out, file))) {
      res.setHeader('content-type', 'text/javascript');
      res.end(readFileSync(join(out, file)));
    } else {
      res.setHeader('content-type', 'text/html');
      res.end(page);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    close: () => server.close(),
  };
}
