import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // `import ... from 'keel'` (and 'keel/node') in examples resolves to the sources under test.
    alias: [
      { find: /^keel$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      {
        find: /^keel\/node$/,
        replacement: fileURLToPath(new URL('./src/io/node/index.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Node engine flags (relaxed SIMD on Node 20) before any kernel compiles, as keel/node does.
    setupFiles: ['./test/setup.ts'],
    // One temporary directory per run, removed at its end (test/tmpRun.ts).
    globalSetup: ['./test/tmpRun.ts'],
    testTimeout: 60_000,
  },
});
