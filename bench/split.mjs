// The threads question of compiled steps: does splitting the batch across the two cores (two half-batch steps, each with
// single-threaded BLAS, gradients summed) beat one full-batch step with 2-thread BLAS? Measures, in
// fresh processes, the dropout MLP's compiled forward+backward (784-256-256-10, batch 256) with
// KEEL_THREADS=2 at batch 256, and with KEEL_THREADS=1 at batch 128 — plus, in the latter, the sum of
// two gradient sets. The split's best case is one half step (both halves in parallel, nothing lost to
// memory bandwidth or synchronization) plus that sum; if even that does not win, the split is not
// worth building. Usage: npm run build && node bench/split.mjs
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

async function child(batch) {
  await import('../dist/io/node/engine.js');
  const k = await import('../dist/index.js');
  const { fashionMlp } = await import('../dist/experiments/index.js');
  const { timeIt } = await import('./timing.mjs');
  const g = new k.Rng(0);
  const model = fashionMlp([256, 256], [0.2, 0.5], g, 'default');
  const params = model.parameters();
  const x = k.rand([batch, 784], { generator: g });
  const y = k.randint(0, 10, [batch], { generator: g });
  const step = k.compile((xb, yb) => {
    for (const p of params) p.grad = null;
    const l = k.nn.F.crossEntropy(model.forward(xb), yb);
    l.backward();
    return l;
  });
  const stepS = timeIt(() => step(x, y), 1.5);
  // Summing two gradient sets: one pass per parameter (y ← y + x), as a split step must add.
  const a = params.map((p) => k.zerosLike(p));
  const b = params.map((p) => k.randn(p.shape, { generator: g }));
  const sum = k.compile(() => {
    for (let i = 0; i < a.length; i++) k.axpy_(a[i], 1, b[i]);
  });
  const sumS = timeIt(() => sum(), 0.5);
  console.log(
    JSON.stringify({ batch, threads: k.backendByName?.('native')?.blas?.threads?.() ?? null, stepS, sumS }),
  );
}

if (process.argv[2]) {
  await child(Number(process.argv[2]));
} else {
  const run = (threads, batch) =>
    JSON.parse(
      execFileSync(process.execPath, [self, String(batch)], {
        env: { ...process.env, KEEL_THREADS: String(threads) },
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .at(-1),
    );
  const rows = [];
  for (let round = 0; round < 3; round++) rows.push([run(2, 256), run(1, 128), run(1, 256)]);
  const best = (i, f) => Math.min(...rows.map((r) => r[i][f]));
  const full2 = best(0, 'stepS');
  const half1 = best(1, 'stepS');
  const full1 = best(2, 'stepS');
  const sum = best(1, 'sumS');
  const ms = (s) => `${(s * 1e3).toFixed(3)} ms`;
  console.log(`forward+backward, batch 256, 2-thread BLAS:       ${ms(full2)}`);
  console.log(`forward+backward, batch 256, 1-thread BLAS:       ${ms(full1)}`);
  console.log(`forward+backward, batch 128, 1-thread BLAS:       ${ms(half1)}`);
  console.log(`summing two gradient sets:                        ${ms(sum)}`);
  console.log(
    `split's best case (one half step + the sum):      ${ms(half1 + sum)}  → ${(full2 / (half1 + sum)).toFixed(2)}× the 2-thread step's speed`,
  );
  console.log(
    `2-thread BLAS's speed-up over 1 thread:           ${(full1 / full2).toFixed(2)}×; the ideal split's: ${(full1 / (half1 + sum)).toFixed(2)}×`,
  );
}
