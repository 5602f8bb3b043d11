/**
 * Builds the lab into dist/lab/ (static files, relative paths: `keel lab` serves them, and they
 * deploy anywhere that sends the cross-origin-isolation headers). TSX through Vite's oxc with Preact's
 * automatic runtime; the worker is an ES module.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // keepNames: keel names layers by their class (the diagnostics tell a Sigmoid's saturation from a
  // ReLU's dead units by it); minified class names would read "Gi" and "Xi".
  worker: { format: 'es', rolldownOptions: { output: { keepNames: true } } },
  build: {
    outDir: fileURLToPath(new URL('../dist/lab', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    rolldownOptions: { output: { keepNames: true } },
  },
});
